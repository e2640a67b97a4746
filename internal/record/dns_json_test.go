package record

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/goccy/go-json"
)

func TestDNSAppendJSONFieldsMatchesGoJSON(t *testing.T) {
	// every field set, so a field added to DNS without adding it to
	// AppendJSONFields fails here
	full := DNS{}
	v := reflect.ValueOf(&full).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Int32, reflect.Int64:
			f.SetInt(int64(-i - 1000))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a", "b"}))
		default:
			t.Fatalf("field %s of kind %s: teach this test and AppendJSONFields", v.Type().Field(i).Name, f.Kind())
		}
	}
	cases := []DNS{
		full,
		{},
		{Answers: []string{}},
		{QryName: "we\"ird\\na\u00e9me\x01\x7f\t<&>\u2028", A: "\xff\xfe bad utf-8", Answers: []string{"txt \"q\"", "\x00", "ok"}},
		{FrameTime: "Jan  4, 2017 04:41:06.337519000 UTC", UnixTstamp: 1483504866, IPDst: "2001:db8::1", QryClass: "0x00000001", Response: true, EID: 1<<63 - 1},
	}
	for i, r := range cases {
		want, err := json.MarshalWithOption(&r, json.DisableHTMLEscape())
		if err != nil {
			t.Fatal(err)
		}
		got := append([]byte{'{'}, r.AppendJSONFields(nil)...)
		got = append(got, '}')
		if !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
