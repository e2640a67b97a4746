package detect

import (
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Verdicts order by score, then detector, then subject; judged ones equal
// in all three by events (more first), first and last seen, evidence and
// the subject's parts. No verdict outranks itself.
func TestOutranks(t *testing.T) {
	base := judged{Verdict: Verdict{"beacon", 0.5, "a > b", "e"}, src: "a", dst: "b", dport: 443, proto: "TCP", first: 10, last: 20, events: 5}
	with := func(f func(*judged)) *judged {
		j := base
		f(&j)
		return &j
	}
	for _, c := range []struct {
		name string
		j    *judged // outranks base
	}{
		{"higher score", with(func(j *judged) { j.Score = 0.6; j.Detector = "scan"; j.Subject = "z" })},
		{"detector first in order", with(func(j *judged) { j.Detector = "avalanche"; j.Subject = "z" })},
		{"subject first in order", with(func(j *judged) { j.Subject = "a > a"; j.events = 1 })},
		{"more events", with(func(j *judged) { j.events = 6; j.first = 99 })},
		{"seen first", with(func(j *judged) { j.first = 9; j.last = 99 })},
		{"last seen first", with(func(j *judged) { j.last = 19; j.Evidence = "z" })},
		{"evidence first", with(func(j *judged) { j.Evidence = "d"; j.src = "z" })},
		{"source first", with(func(j *judged) { j.src = "0"; j.dst = "z" })},
		{"destination first", with(func(j *judged) { j.dst = "0"; j.dport = 9999 })},
		{"port first", with(func(j *judged) { j.dport = 80; j.proto = "UDP" })},
		{"protocol first", with(func(j *judged) { j.proto = "SCTP" })},
	} {
		if !c.j.outranks(&base) || base.outranks(c.j) {
			t.Errorf("%s: outranks %v, is outranked %v", c.name, c.j.outranks(&base), base.outranks(c.j))
		}
	}
	if same := base; same.outranks(&base) || base.outranks(&same) {
		t.Error("a verdict outranks its equal")
	}
}

// A finding record of a verdict: Spot's score (lower is more suspicious),
// times as text, and an event id of its detector and subject.
func TestFindingRecord(t *testing.T) {
	j := judged{Verdict: Verdict{"scan", 0.75, "a > *:22/TCP", "probed"}, src: "a", dport: 22, proto: "TCP", first: 1_700_000_000e9, last: 1_700_000_060e9, events: 30}
	f := j.finding(record.KindFlow)
	want := record.Finding{Detector: "scan", EventKind: "flow", Subject: "a > *:22/TCP", Src: "a", DPort: 22, Proto: "TCP", Score: 0.25, DetectorScore: 0.75,
		Evidence: "probed", FirstSeen: "2023-11-14 22:13:20", LastSeen: "2023-11-14 22:14:20", TStartNs: 1_700_000_000e9, TEndNs: 1_700_000_060e9, Events: 30,
		EID: record.EID("finding", 0, []byte("scan\x00a > *:22/TCP"))}
	if f != want {
		t.Errorf("finding\n%+v, want\n%+v", f, want)
	}
	j.first, j.last = 0, 0
	if f := j.finding(record.KindDNS); f.FirstSeen != "" || f.LastSeen != "" || f.EventKind != "dns" {
		t.Errorf("no times: %q %q", f.FirstSeen, f.LastSeen)
	}
}

func TestFormatEdges(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(-123), "-123"}, {count(-999999), "-999,999"}, {count(-1000), "-1,000"}, {count(12), "12"},
		{size(9999), "10.0 kB"}, {size(10e3), "10 kB"}, {size(999e3), "999 kB"}, {size(1e6), "1.0 MB"},
		{size(10e6), "10 MB"}, {size(999e6), "999 MB"}, {size(1e9), "1.0 GB"},
		{span(119e9), "119 s"}, {span(7199e9), "120 min"}, {span(172799e9), "48.0 h"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
