package detect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Contacts holding exactly their cap keep every host, and say nothing.
func TestContactsExactlyFull(t *testing.T) {
	c := NewContacts(100)
	for i := range 10 {
		for j := range 10 {
			c.AddFlow(flowOf(fmt.Sprintf("10.0.0.%d", i), fmt.Sprintf("192.0.2.%d", j), 40000, 443, "TCP"))
		}
	}
	if out := logged(c.Seal); out != "" || c.mask != 0 || c.Len() != 100 {
		t.Errorf("100 pairs under a cap of 100: mask %x, %d pairs held, logged %q", c.mask, c.Len(), out)
	}
	c.AddFlow(flowOf("10.0.0.99", "192.0.2.99", 40000, 443, "TCP"))
	// One halving of the hosts drops about a quarter of the pairs: enough.
	if out := logged(c.Seal); !strings.Contains(out, `"hosts kept"="1 in 2"`) || c.mask != 1 || c.Len() > 100 {
		t.Errorf("101 pairs under a cap of 100: mask %x, %d pairs held, logged %q", c.mask, c.Len(), out)
	}
}

// duration of beats in a window of no length: 1, whatever the beats.
func TestDurationNoWindow(t *testing.T) {
	for _, ts := range [][]int64{{100e9}, {100e9, 100e9}, {50e9, 150e9}} {
		if d := duration(ts, 100e9, 100e9); d != 1 {
			t.Errorf("duration(%v) in an empty window = %v, want 1", ts, d)
		}
	}
}

// A small exact count merged with a sampled one is sampled alike: the same
// items, count and sum as one pass; and the estimates are near the truth.
func TestDistinctSampledInto(t *testing.T) {
	var whole, small, big distinct
	truth := 0.0
	for i := range 5000 {
		h, w := mix64(uint64(i)+1), float32(1+i%7)
		truth += float64(w)
		whole.add(h, w)
		if i < 200 {
			small.add(h, w)
		} else {
			big.add(h, w)
		}
	}
	if !small.exact() || big.exact() {
		t.Fatalf("masks %x, %x: want the small count exact and the big one sampled", small.mask, big.mask)
	}
	small.merge(&big)
	if small.mask != whole.mask || small.count() != whole.count() || small.sum() != whole.sum() || small.len() != whole.len() {
		t.Errorf("merged into the small count: mask %x, %v/%v; one pass: mask %x, %v/%v", small.mask, small.count(), small.sum(), whole.mask, whole.count(), whole.sum())
	}
	if !slices.Equal(small.kept(), whole.kept()) {
		t.Errorf("the merged count keeps other items than one pass")
	}
	if c, s := whole.count(), whole.sum(); c < 4000 || c > 6000 || s < 0.8*truth || s > 1.2*truth {
		t.Errorf("estimated %.0f items of weight %.0f; truth 5000 of %.0f", c, s, truth)
	}
}

// Case does not count at either end of the alphabet (resolvers randomise
// it: 0x20): "aA" and "zZ" carry no more than "aa" and "zz".
func TestNameBitsCaseEdges(t *testing.T) {
	for _, c := range []struct {
		a, b string
	}{{"aAaA", "aaaa"}, {"zZzZ", "zzzz"}, {"AbZy", "abzy"}, {"x.Ay.zZ", "xayzz"}} {
		if nameBits(c.a) != nameBits(c.b) {
			t.Errorf("nameBits(%q) = %v, nameBits(%q) = %v", c.a, nameBits(c.a), c.b, nameBits(c.b))
		}
	}
	// Under two characters a name carries a bit each; from two, their entropy.
	for p, want := range map[string]float64{"": 0, "a": 1, "aa": 0, "ab": 2, "a.a": 0, "aab": 3 * 0.9182958340544896} {
		if b := nameBits(p); !near(b, want, 1e-12) {
			t.Errorf("nameBits(%q) = %v, want %v", p, b, want)
		}
	}
	if b := nameBits("@[`{"); b != 8 { // the bytes around A-Z and a-z are four symbols
		t.Errorf("nameBits(\"@[`{\") = %v, want 8", b)
	}
}

// What the DNS detectors read of a name: its registrable domain by the
// Public Suffix List and the labels left of it; none for reverse lookups,
// .local, single labels and public suffixes.
func TestSplitName(t *testing.T) {
	for _, c := range []struct {
		raw, name, domain, prefix string
	}{
		{"www.example.com", "www.example.com", "example.com", "www"},
		{"A.b.Example.CO.UK.", "a.b.example.co.uk", "example.co.uk", "a.b"},
		{"example.com", "example.com", "example.com", ""},
		{"1.2.0.192.in-addr.arpa", "1.2.0.192.in-addr.arpa", "", ""},
		{"arpa", "arpa", "", ""},
		{"ARPA.", "arpa", "", ""},
		{"printer.local", "printer.local", "", ""},
		{"localhost", "localhost", "", ""},
		{"co.uk", "co.uk", "", ""},
		{"", "", "", ""},
		{".", "", "", ""},
		{overlong, overlong, overlongDomain, ""},
	} {
		if ni := splitName(c.raw); ni.name != c.name || ni.domain != c.domain || ni.prefix != c.prefix {
			t.Errorf("splitName(%q) = %+v, want %q %q %q", c.raw, ni, c.name, c.domain, c.prefix)
		}
	}
	// The cache gives the same, and copies the name it keeps.
	var n names
	b := []byte("www.example.com")
	first := n.info(string(b))
	copy(b, "xxx")
	if again := n.info("www.example.com"); again != first || first.domain != "example.com" {
		t.Errorf("cached %+v, then %+v", first, again)
	}
}

// A judged state names its verdict tables and each entry's verdict by
// index: a wrong count of tables or an index past the verdicts is corrupt.
func TestJudgedStateCorrupt(t *testing.T) {
	v := &judged{Verdict: Verdict{"scan", 0.6, "a > *:23/TCP", "probed"}, src: "a", dport: 23, proto: "TCP", first: 1, last: 2, events: 30}
	state := func(tables, index uint64) []byte {
		return rawState(stateVersion, "flow", func(e *enc) {
			e.u(formJudged)
			e.i(1)
			e.i(2)
			e.u(1)
			v.encode(e)
			e.u(tables)
			for t := range tables {
				if t == 2 {
					e.u(1)
					e.u64(77)
					e.u(index)
				} else {
					e.u(0)
				}
			}
			e.u(0) // no strong pair's connection times (version 4)
		})
	}
	s, err := ReadState(bytes.NewReader(state(3, 0)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if fs := s.Finish(); len(fs) != 1 || fs[0].Subject != v.Subject {
		t.Errorf("findings %+v", fs)
	}
	for _, c := range []struct {
		tables, index uint64
		err           string
	}{{2, 0, "2 verdict tables, want 3"}, {4, 0, "4 verdict tables, want 3"}, {3, 1, "verdict 1 of 1"}, {3, 9, "verdict 9 of 1"}} {
		if _, err := ReadState(bytes.NewReader(state(c.tables, c.index)), Limits{}); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%d tables, index %d: %v, want %q", c.tables, c.index, err, c.err)
		}
	}
}

// Host verdicts come from findings of hostFloor (0.55) or more, with a
// source; each host takes its strongest, at half its score, or at hostFloor
// when it has two strong findings or more.
func TestHostVerdicts(t *testing.T) {
	j := func(score float64, src, subject string) *judged {
		return &judged{Verdict: Verdict{"scan", score, subject, ""}, src: src}
	}
	hosts := hostVerdicts([]*judged{j(0.55, "a", "a > x"), j(0.5499, "a", "a > w"), j(0.5499, "b", "b > x"), j(0.9, "", "* > x"),
		j(0.6, "c", "c > x"), j(0.8, "c", "c > y"), j(0.7, "c", "c > z")}, Limits{})
	if len(hosts) != 2 || hosts["a"] == nil || hosts["a"].Score != 0.275 || hosts["a"].finding != 0.55 ||
		hosts["a"].Evidence != "a has a scan finding (0.55): a > x" ||
		hosts["c"] == nil || hosts["c"].Score != hostFloor || hosts["c"].finding != 0.8 ||
		hosts["c"].Evidence != "c has 3 findings of 0.55 or more, the strongest a scan finding (0.80): c > y" || hosts["c"].Subject != "c" || hosts["c"].Detector != "host" {
		t.Errorf("host verdicts %v", hosts)
	}
	if h := hostVerdicts([]*judged{j(0.9, "a", "a > x")}, Limits{Only: []string{"scan"}}); h != nil {
		t.Errorf("host verdicts when host is not run: %v", h)
	}
}

// Between a flow's two hosts with verdicts of one score, the stronger
// finding's verdict explains it, whichever way the flow goes.
func TestExplainStrongerHost(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	sweep := func(src string, hosts int, ports ...int32) {
		for _, p := range ports {
			for h := range hosts {
				f := Flow{TsNs: t0 + int64(h)*1e9, EndNs: t0 + int64(h)*1e9, Src: src, Dst: fmt.Sprintf("10.9.%d.%d", p%256, h), DPort: p, Proto: "TCP", OutBytes: 60, OutPkts: 1}
				s.Observe(&f)
			}
		}
	}
	sweep("10.0.0.1", 25, 23, 2323)  // two scans of 0.6
	sweep("10.0.0.2", 250, 445, 139) // two of 0.9
	s.Finish()
	for _, f := range [][2]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "10.0.0.1"}} {
		if v := s.Explain(f[0], f[1], 50000, 8080, "TCP"); v == nil || v.Detector != "host" || v.Score != hostFloor || v.Subject != "10.0.0.2" {
			t.Errorf("%s > %s explained by %+v, want the host verdict of 10.0.0.2", f[0], f[1], v)
		}
	}
}

// A flow's own verdict wins over its host's when stronger or of the same
// score; a weaker one yields to it. (The scanner has two strong findings:
// its host verdict is hostFloor.)
func TestExplainOwnVerdictFirst(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for h := range 25 { // 25 hosts' port 23: 0.6, so a host verdict
		f := Flow{TsNs: t0 + int64(h)*1e9, EndNs: t0 + int64(h)*1e9, Src: "10.0.0.66", Dst: fmt.Sprintf("10.9.0.%d", h), DPort: 23, Proto: "TCP", OutBytes: 60, OutPkts: 1}
		s.Observe(&f)
	}
	for p := range 15 { // 15 ports of one host: 0.6
		f := Flow{TsNs: t0 + int64(p)*1e9, EndNs: t0 + int64(p)*1e9, Src: "10.0.0.66", Dst: "10.9.9.9", DPort: int32(1000 + p), Proto: "TCP", OutBytes: 60, OutPkts: 1}
		s.Observe(&f)
	}
	for p := range 5 { // 5 ports of another: 0.3
		f := Flow{TsNs: t0 + int64(p)*1e9, EndNs: t0 + int64(p)*1e9, Src: "10.0.0.66", Dst: "10.9.9.8", DPort: int32(1000 + p), Proto: "TCP", OutBytes: 60, OutPkts: 1}
		s.Observe(&f)
	}
	fs := s.Finish()
	if len(fs) != 3 || fs[0].DetectorScore != 0.6 || fs[1].DetectorScore != 0.6 || fs[2].DetectorScore != 0.3 {
		t.Fatalf("findings %+v, want scans of 0.6, 0.6 and 0.3", fs)
	}
	if v := s.Explain("10.0.0.66", "10.9.9.9", 40000, 80, "TCP"); v == nil || v.Detector != "scan" || v.Subject != "10.0.0.66 > 10.9.9.9:*" {
		t.Errorf("a probe of the stronger vertical scan explained by %+v, want its own scan", v)
	}
	if v := s.Explain("10.0.0.66", "10.9.9.8", 40000, 80, "TCP"); v == nil || v.Detector != "host" || v.Score != hostFloor {
		t.Errorf("a probe of the weaker vertical scan explained by %+v, want the host verdict", v)
	}
	for _, j := range s.all {
		if j.Subject == "10.0.0.66 > 10.9.9.8:*" {
			j.Score = hostFloor // a tie with the host verdict
		}
	}
	if v := s.Explain("10.0.0.66", "10.9.9.8", 40000, 80, "TCP"); v == nil || v.Detector != "scan" || v.Subject != "10.0.0.66 > 10.9.9.8:*" {
		t.Errorf("a probe of a scan scored as its host verdict explained by %+v, want its own scan", v)
	}
}

// A table below its limit drops nothing, and its subjects share chunks of
// 1<<chunkBits states (no allocation of their own).
func TestTableBelowLimit(t *testing.T) {
	type st struct{ n int64 }
	tb := newTable(2100, func(s *st) int64 { return s.n })
	for i := range 2099 {
		tb.get(uint64(i)+1, func() st { return st{} }).n++
	}
	if tb.len() != 2099 || tb.dropped != 0 {
		t.Errorf("2099 subjects under a limit of 2100: %d held, %d dropped", tb.len(), tb.dropped)
	}
	if len(tb.chunk) != 3 || len(tb.chunk[0]) != 1<<chunkBits || len(tb.chunk[2]) != 2099-2<<chunkBits {
		t.Errorf("2099 subjects in %d chunks, want 3 of %d", len(tb.chunk), 1<<chunkBits)
	}
	for i := range 2099 {
		if s, ok := tb.lookup(uint64(i) + 1); !ok || s.n != 1 {
			t.Fatalf("subject %d: %v %v", i+1, s, ok)
		}
	}
}

// A full table drops its least active subjects, and no more than it must
// to free a quarter of itself.
func TestTableShrinksToThreeQuarters(t *testing.T) {
	type st struct{ n int64 }
	tb := newTable(100, func(s *st) int64 { return s.n })
	mk := func() st { return st{} }
	for i := range 75 {
		tb.get(uint64(i)+1, mk).n += 2
	}
	for i := range 25 {
		tb.get(uint64(i)+1000, mk).n++
	}
	tb.get(5000, mk).n++
	if tb.len() != 76 || tb.dropped != 25 {
		t.Errorf("after one subject past 100: %d held, %d dropped; want 76 and the 25 seen once", tb.len(), tb.dropped)
	}
	for i := range 75 {
		if _, ok := tb.lookup(uint64(i) + 1); !ok {
			t.Fatalf("subject %d, seen twice, dropped", i+1)
		}
	}
}
