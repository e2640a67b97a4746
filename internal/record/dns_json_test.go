package record

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
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

// needsEscapeByByte is needsEscape's rule, one byte at a time.
func needsEscapeByByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// Every byte value at every place of strings up to 17 bytes, amid fillers
// next to the edges of the ranges the word-at-a-time test must tell apart,
// then random strings of safe bytes near those edges with some of any value.
func TestNeedsEscapeAgreesByteByByte(t *testing.T) {
	fillers := []byte{'a', ' ', '!', '#', '[', ']', '~', 0x01}
	for _, f := range fillers {
		for n := 1; n <= 17; n++ {
			for at := 0; at < n; at++ {
				for c := 0; c < 256; c++ {
					b := bytes.Repeat([]byte{f}, n)
					b[at] = byte(c)
					if got, want := needsEscape(string(b)), needsEscapeByByte(string(b)); got != want {
						t.Fatalf("needsEscape(%q) = %v, want %v", b, got, want)
					}
				}
			}
		}
	}
	safeEdges := []byte{0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7e, 'a', 'z'}
	rng := rand.New(rand.NewPCG(1, 2))
	escaped := 0
	for range 200000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(30) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = safeEdges[rng.IntN(len(safeEdges))]
			}
		}
		if needsEscapeByByte(string(b)) {
			escaped++
		}
		if got, want := needsEscape(string(b)), needsEscapeByByte(string(b)); got != want {
			t.Fatalf("needsEscape(%q) = %v, want %v", b, got, want)
		}
	}
	if escaped < 20000 || escaped > 180000 {
		t.Errorf("%d of 200000 random strings need escaping: the mix tests too little of one side", escaped)
	}
}

// TestAppendPort: every port as strconv writes it, and values out of range.
func TestAppendPort(t *testing.T) {
	for p := int32(-70000); p <= 140000; p++ {
		if got, want := string(appendPort(nil, p)), strconv.Itoa(int(p)); got != want {
			t.Fatalf("appendPort(%d) = %q", p, got)
		}
	}
	for _, p := range []int32{math.MinInt32, math.MaxInt32} {
		if got, want := string(appendPort([]byte("x"), p)), "x"+strconv.Itoa(int(p)); got != want {
			t.Fatalf("appendPort(%d) = %q", p, got)
		}
	}
}
