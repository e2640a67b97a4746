package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzObject compares Object and Unquote with encoding/json: on any valid
// JSON object (of valid UTF-8) Object must take it whole and hand out each
// member in order, its key and each string value unquoted as encoding/json
// reads them; on anything else it may fail but must not panic or claim
// more bytes than it was given.
func FuzzObject(f *testing.F) {
	for _, s := range []string{
		`{"ts":1.5,"id.orig_h":"10.0.0.1","id":{"orig_h":"::1"},"answers":["a","b\u00e9"],"x":null}`,
		`{"timestamp":"2016-05-24T17:27:02.333141-0600","event_type":"dns","dns":{"type":"answer","rrname":"a\/b\\\"c"}}`,
		`{"a":"\ud83d\ude00 \ud800 x","b":[{"c":[1,2,{"d":true}]}],"e":false,"f":-1e-7}`,
		`{}`, `{"a":}`, `{"a":"\u12"}`, `{"a":[}`, `{"a" "b"}`, `{"a":"b",}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		type member struct{ key, val string }
		var got []member
		n, err := Object(b, func(k, v []byte) error {
			if n, err := Value(v); err != nil || n != len(v) {
				t.Fatalf("value %q: %d, %v", v, n, err)
			}
			key, _, kerr := Unquote(nil, append(append([]byte{'"'}, k...), '"'))
			val, _, verr := Unquote(nil, v)
			if kerr != nil || verr != nil {
				return ErrSyntax
			}
			got = append(got, member{string(key), string(val)})
			return nil
		})
		if n > len(b) {
			t.Fatalf("took %d of %d bytes", n, len(b))
		}
		trimmed := bytes.Trim(b, " \t\r\n") // JSON's white space, not Unicode's
		if !json.Valid(trimmed) || !utf8.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		if err != nil || n != len(b)-(len(b)-len(bytes.TrimRight(b, " \t\r\n"))) {
			t.Fatalf("valid object %q: took %d bytes, %v", b, n, err)
		}
		// encoding/json's reading of the members, in order
		d := json.NewDecoder(bytes.NewReader(trimmed))
		d.UseNumber()
		d.Token() // {
		for i := 0; d.More(); i++ {
			k, _ := d.Token()
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			if i >= len(got) || got[i].key != k.(string) {
				t.Fatalf("member %d: key %q, encoding/json %q", i, got[min(i, len(got)-1)], k)
			}
			var s string
			if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && got[i].val != s {
				t.Fatalf("member %q: %q, encoding/json %q", k, got[i].val, s)
			}
			if len(got) == i+1 && d.More() {
				t.Fatalf("members after %q missed", k)
			}
		}
	})
}
