package feature

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Edges the word rules meet rarely, each worked out from Apache Spot's code
// as ../shared/reference/apache-spot.md describes it (these tests came from
// mutants that no other test noticed: make mutate).

// Log2Floor below 1 is the JVM's (int) of a negative logarithm, truncated
// toward zero; CeilLog2 of 0 is the JVM's (int) of -Infinity.
func TestLogsBelowOne(t *testing.T) {
	for _, c := range []struct {
		x            float64
		floor, ceil2 int
	}{
		{0.3, -1, -1},     // log2 0.3 = -1.74
		{0.75, 0, 0},      // log2 0.75 = -0.415
		{0.5, -1, -1},     // exactly -1
		{0.1, -3, -3},     // log2 0.1 = -3.32
		{1, 0, 0},         // the edge of the exponent path
		{1.5, 0, 1},       // log2 1.5 = 0.585
		{1 << 40, 40, 40}, // exactly 40
	} {
		if got := Log2Floor(c.x); got != c.floor {
			t.Errorf("Log2Floor(%v) = %d, want %d", c.x, got, c.floor)
		}
		if got := CeilLog2(c.x); got != c.ceil2 {
			t.Errorf("CeilLog2(%v) = %d, want %d", c.x, got, c.ceil2)
		}
	}
	if got := CeilLog2(0); got != math.MinInt32 {
		t.Errorf("CeilLog2(0) = %d, want Integer.MIN_VALUE %d", got, math.MinInt32)
	}
}

// Entropy over characters beyond ASCII (one UTF-16 unit each here, as on
// the JVM): the same frequencies give the same bits as ASCII ones.
func TestEntropyBeyondASCII(t *testing.T) {
	for _, c := range []struct {
		s    string
		want float64
	}{
		{"\u0080", 0},  // the first code point past ASCII, once
		{"a\u0080", 1}, // two characters, half each
		{"aé", 1},
		{"éé", 0},                   // one character twice
		{"ééa", 0.9182958340544896}, // -(2/3 log2 2/3 + 1/3 log2 1/3)
		{"日本日本", 1},
		{"ab日本", 2}, // four distinct characters
	} {
		if got := Entropy(c.s); !(math.Abs(got-c.want) <= 1e-12) { // NaN fails too
			t.Errorf("Entropy(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// A name whose last labels are a country code and a generic TLD keeps no
// label for its domain: "None" (rule 3). Under the public-suffix parser a
// registrable name has a domain and no subdomain.
func TestSplitDomainNothingLeft(t *testing.T) {
	for _, c := range []struct {
		name     string
		p        DomainParser
		dom, sub string
		n        int
	}{
		{"com.us", ParserSpot, None, None, 2},
		{"net.uk", ParserSpot, None, None, 2},
		{"www.com.us", ParserSpot, "www", None, 3},
		{"example.com", ParserPSL, "example", None, 2},
		{"Example.CO.UK.", ParserPSL, "example", None, 3},
		{"a.example.com", ParserPSL, "example", "a", 3},
	} {
		d, s, n := SplitDomain(c.name, c.p)
		if d != c.dom || s != c.sub || n != c.n {
			t.Errorf("%s %q: (%q, %q, %d), want (%q, %q, %d)", c.p, c.name, d, s, n, c.dom, c.sub, c.n)
		}
	}
}

// Top-domain lists with and without a header: only a first line reading
// "domain" or "name" is a header; a later "domain" row is a domain.
func TestTopDomainsHeaders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1,google.com\n2,facebook.com\n", "facebook,google"},
		{"name\nGoogle.com\n", "google"},
		{"domain\nexample.org\n", "example"},
		{"1,a.com\n2,domain\n3,name\n", "a,domain,name"},
		{"1,a.com,extra\n", "a"},
	} {
		got, err := ReadTopDomains(strings.NewReader(c.in), "x")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%q: %v, want %s", c.in, got, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "top-1m.csv")
	if err := os.WriteFile(path, []byte("1,google.com\n2,youtube.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadTopDomains(path); err != nil || strings.Join(got, ",") != "google,youtube" {
		t.Errorf("LoadTopDomains: %v, %v", got, err)
	}
	if _, err := LoadTopDomains(path + ".missing"); err == nil {
		t.Error("LoadTopDomains of a missing file: no error")
	}
}

// A model without word_rules (made before they were recorded) is read; one
// of other rules is refused.
func TestFromSettingsRules(t *testing.T) {
	if _, err := FromSettings(record.KindDNS, map[string]string{}); err != nil {
		t.Errorf("no word_rules: %v", err)
	}
	if _, err := FromSettings(record.KindDNS, map[string]string{KeyRules: "spot-v0"}); err == nil {
		t.Error("word_rules spot-v0: no error")
	}
}

// A query is a row spot decoded (ts_ns set) without the response flag;
// Spot's Hive rows (no ts_ns) are responses; tshark's 4-field frame time
// (no zone) still has its hour in the 4th field.
func TestQueriesAndFrameTimes(t *testing.T) {
	for _, c := range []struct {
		r    record.DNS
		want bool
	}{
		{record.DNS{TsNs: 5}, true},
		{record.DNS{TsNs: 5, Response: true}, false},
		{record.DNS{}, false},
	} {
		if got := IsQuery(&c.r); got != c.want {
			t.Errorf("IsQuery(%+v) = %v", c.r, got)
		}
	}
	if h, ok := frameHour("Jul 13, 2016 09:45:03"); !ok || h != 9 {
		t.Errorf("frameHour of 4 fields: %d, %v", h, ok)
	}
	if _, ok := frameHour("Jul 13, 2016"); ok {
		t.Error("frameHour of 3 fields: ok")
	}
}

// A line without a user agent counts as "-" (Spot's null).
func TestCountAgents(t *testing.T) {
	counts := map[string]int64{"curl": 1}
	CountAgents(counts, []record.Proxy{{UserAgent: ""}, {UserAgent: "curl"}, {UserAgent: "Mozilla/5.0"}, {UserAgent: "curl"}})
	if len(counts) != 3 || counts["-"] != 1 || counts["curl"] != 3 || counts["Mozilla/5.0"] != 1 {
		t.Errorf("counts %v", counts)
	}
}
