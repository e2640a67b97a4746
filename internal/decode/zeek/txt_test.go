package zeek

import "testing"

func TestTXTStrings(t *testing.T) {
	for in, want := range map[string]string{
		"TXT 3 abc":                 "abc",
		"TXT 3 a c TXT 0  TXT 2 xy": "a cxy",
		"TXT 5 a TXT":               "a TXT",
		"TXT 4 abc":                 "", // too short: as it stands
		"TXT 1 ab":                  "", // text after the string
		"TXT x abc":                 "", // no length
		"v=spf1 -all":               "",
	} {
		got, ok := txtStrings([]byte(in))
		if want == "" && ok || want != "" && string(got) != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}
