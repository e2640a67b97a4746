package detect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// dnsNet is twelve clients asking two popular names through a resolver
// (10.0.0.53), which asks them upstream; 10.0.0.3 beacons a TXT query for
// cmd.c2.example every minute and 10.0.0.7 tunnels 64 names under
// t.example, both through the resolver, which forwards each query.
func dnsNet() []DNS {
	t0 := int64(1_700_000_000e9)
	const r, up = "10.0.0.53", "198.51.100.1"
	var evs []DNS
	for c := 1; c <= 12; c++ {
		for i, name := range []string{"www.example.com", "mail.example.org"} {
			evs = append(evs, DNS{TsNs: t0 + int64(c*40+i)*1e9, Client: fmt.Sprintf("10.0.0.%d", c), Server: r, Name: name, QType: 1, Size: 80})
		}
	}
	for i, name := range []string{"www.example.com", "mail.example.org"} {
		evs = append(evs, DNS{TsNs: t0 + int64(45+i)*1e9, Client: r, Server: up, Name: name, QType: 1, Size: 80})
	}
	for i := range 13 {
		ts := t0 + int64(i)*60e9
		evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.3", Server: r, Name: "cmd.c2.example", QType: 16, Size: 150},
			DNS{TsNs: ts, Client: r, Server: up, Name: "cmd.c2.example", QType: 16, Size: 150})
	}
	for i, p := range tunnelNames() {
		ts := t0 + 100e9 + int64(i)*1e9
		evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.7", Server: r, Name: p + ".t.example", QType: 1, Size: 120},
			DNS{TsNs: ts, Client: r, Server: up, Name: p + ".t.example", QType: 1, Size: 120})
	}
	return evs
}

// tunnelNames are 64 prefixes of 64 bits each: 4096 bits in all.
func tunnelNames() []string {
	var ps []string
	for _, set := range []string{"0123456789abcdef", "ghijklmnopqrstuv", "0123456789ghijkl", "abcdefmnopqrstuv"} {
		ps = append(ps, rotations(set, 16)...)
	}
	return ps
}

// TestDNSFindings checks every verdict of dnsNet (Report 0.01 lets the
// weak ones through), worked out from the rules: a DNS beacon counts half
// its score (a resolver's a quarter), +0.2 for odd types, +0.2 for a new
// name at nearly every beat (domain subjects), +0.1 for a domain 2 of 13
// clients ask; a tunnel of 4096 bits 0.2, +0.1 the same; the domain-level
// tunnel divides by the square root of its 2 clients.
func TestDNSFindings(t *testing.T) {
	s := NewDNS(Limits{Report: 0.01})
	evs := dnsNet()
	for i := range evs {
		s.Observe(&evs[i])
	}
	t0 := int64(1_700_000_000e9)
	c2 := "every 60 s ± 0.0 s, 13 times over 12 min (regularity 1.00, sizes 1.00, duration 1.00)"
	tun := "every 1.0 s ± 0.0 s, 64 times over 63 s (regularity 1.00, sizes 1.00, duration 0.25)"
	names := "64 distinct names under t.example, ~512 B of names in 63 s, 64 queries, labels up to 16 characters"
	want := []struct {
		detector, subject string
		score             float64
		events            int64
		evidence          string
		first, last       float64 // s after t0
	}{
		{"beacon", "10.0.0.3 > c2.example", 0.8, 13, c2, 0, 720},
		{"beacon", "10.0.0.3 > cmd.c2.example", 0.8, 13, c2, 0, 720},
		{"beacon", "10.0.0.7 > t.example", 0.5*0.85 + 0.2 + 0.1, 64, tun, 100, 163},
		{"beacon", "10.0.0.53 > c2.example", 0.55, 13, c2, 0, 720},
		{"beacon", "10.0.0.53 > cmd.c2.example", 0.55, 13, c2, 0, 720},
		{"beacon", "10.0.0.53 > t.example", 0.25*0.85 + 0.2 + 0.1, 64, tun, 100, 163},
		{"dns-tunnel", "10.0.0.53 > t.example", 0.3, 64, names, 100, 163},
		{"dns-tunnel", "10.0.0.7 > t.example", 0.3, 64, names, 100, 163},
		{"dns-tunnel", "* > t.example", 0.2, 128,
			"64 distinct names under t.example, ~512 B of names in 63 s from 2 clients, 128 queries, labels up to 16 characters", 100, 163},
	}
	fs := s.Finish()
	if len(fs) != len(want) {
		t.Errorf("%d findings, want %d", len(fs), len(want))
	}
	for i, f := range fs[:min(len(fs), len(want))] {
		w := want[i]
		if f.Detector != w.detector || f.Subject != w.subject || !near(f.DetectorScore, w.score, 1e-9) || f.Events != w.events ||
			f.Evidence != w.evidence || f.TStartNs != t0+int64(w.first*1e9) || f.TEndNs != t0+int64(w.last*1e9) || f.EventKind != "dns" {
			t.Errorf("finding %d: %s %q %.4f %d %q %d..%d; want %s %q %.4f %d %q %d..%d", i, f.Detector, f.Subject, f.DetectorScore, f.Events,
				f.Evidence, f.TStartNs-t0, f.TEndNs-t0, w.detector, w.subject, w.score, w.events, w.evidence, int64(w.first*1e9), int64(w.last*1e9))
		}
	}
	for _, c := range []struct {
		e       DNS
		subject string
	}{
		{DNS{Client: "10.0.0.3", Name: "cmd.c2.example"}, "10.0.0.3 > c2.example"},
		{DNS{Client: "10.0.0.3", Name: "other.c2.example"}, "10.0.0.3 > c2.example"},
		// the resolver's queries take its clients' strongest verdict on the domain
		{DNS{Client: "10.0.0.53", Name: "cmd.c2.example"}, "10.0.0.3 > c2.example"},
		{DNS{Client: "10.0.0.53", Name: "0123456789abcdef.t.example"}, "10.0.0.7 > t.example"},
		{DNS{Client: "10.0.0.7", Name: "x.t.example"}, "10.0.0.7 > t.example"},
		// another client's query of the domain: the domain-level tunnel
		{DNS{Client: "10.0.0.5", Name: "x.t.example"}, "* > t.example"},
		{DNS{Client: "10.0.0.5", Name: "www.example.com"}, ""},
		{DNS{Client: "10.0.0.5", Name: "localhost"}, ""},
	} {
		v := s.Explain(&c.e)
		if got := ""; v != nil {
			got = v.Subject
			if got != c.subject {
				t.Errorf("%s asking %s: explained by %+v, want %q", c.e.Client, c.e.Name, v, c.subject)
			}
		} else if c.subject != "" {
			t.Errorf("%s asking %s: explained by nothing, want %q", c.e.Client, c.e.Name, c.subject)
		}
	}
	// By default only verdicts of 0.2 or more are findings.
	s = NewDNS(Limits{})
	for i := range evs {
		s.Observe(&evs[i])
	}
	if fs := s.Finish(); len(fs) != 8 {
		t.Errorf("%d findings at the default Report, want 8", len(fs))
	}
}

// A resolver is a host that asks names and answered two clients or more:
// its own beacons count half.
func TestDNSResolver(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	for _, c := range []struct {
		clients int
		score   float64
	}{{1, 0.5}, {2, 0.25}} {
		s := NewDNS(Limits{})
		for i := range 13 {
			ts := t0 + int64(i)*60e9
			for k := range c.clients {
				e := DNS{TsNs: ts, Client: fmt.Sprintf("10.0.0.%d", 1+k), Server: "10.0.0.53", Name: "x.example", QType: 1, Size: 80}
				s.Observe(&e)
			}
			e := DNS{TsNs: ts, Client: "10.0.0.53", Server: "198.51.100.1", Name: "poll.example", QType: 1, Size: 80}
			s.Observe(&e)
		}
		var got float64
		for _, f := range s.Finish() {
			if f.Subject == "10.0.0.53 > poll.example" {
				got = f.DetectorScore
			}
		}
		if !near(got, c.score, 1e-9) {
			t.Errorf("a server of %d clients: its beacon scores %.4f, want %.4f", c.clients, got, c.score)
		}
	}
}

// What the DNS detectors read of a record.
func TestFromDNS(t *testing.T) {
	q := record.DNS{TsNs: 5e9, IPSrc: "10.0.0.1", IPDst: "10.0.0.53", QryName: "x.example", QryType: 16, QryRcode: 0, FrameLen: 90}
	r := record.DNS{UnixTstamp: 1_700_000_000, IPSrc: "10.0.0.53", IPDst: "10.0.0.1", QryName: "x.example", QryType: 1, QryRcode: 3, FrameLen: 120, A: "192.0.2.1", Response: true}
	if got, want := FromDNS(&q), (DNS{TsNs: 5e9, Client: "10.0.0.1", Server: "10.0.0.53", Name: "x.example", QType: 16, Size: 90}); got != want {
		t.Errorf("query: %+v, want %+v", got, want)
	}
	if got, want := FromDNS(&r), (DNS{TsNs: 1_700_000_000e9, Client: "10.0.0.1", Server: "10.0.0.53", Name: "x.example", QType: 1, RCode: 3, Size: 120, Addr: "192.0.2.1"}); got != want {
		t.Errorf("response: %+v, want %+v", got, want)
	}
}

// beaconOf is a query every minute from t0, by one client.
func beaconOf(client string, n int, name func(i int) string, qtype func(i int) int32, addr string) []DNS {
	t0 := int64(1_700_000_000e9)
	var evs []DNS
	for i := range n {
		evs = append(evs, DNS{TsNs: t0 + int64(i)*60e9, Client: client, Server: "10.0.0.53", Name: name(i), QType: qtype(i), Size: 100, Addr: addr})
	}
	return evs
}

func scores(lim Limits, evs []DNS) map[string]float64 {
	s := NewDNS(lim)
	for i := range evs {
		s.Observe(&evs[i])
	}
	m := map[string]float64{}
	for _, f := range s.Finish() {
		m[f.Detector+" "+f.Subject] = f.DetectorScore
	}
	return m
}

// The DNS beacon's modifiers at their edges: odd types in half the
// queries, a new name at 80% of the beats, no registrable domain (no
// context), and answers never contacted (with flow records).
func TestDNSBeaconModifiers(t *testing.T) {
	one := func(s string) func(int) string { return func(int) string { return s } }
	for _, c := range []struct {
		name    string
		evs     []DNS
		subject string
		score   float64
	}{
		{"7 TXT of 14", beaconOf("10.0.0.1", 14, one("a.x.example"), firstOf(7, 16, 1), ""), "beacon 10.0.0.1 > a.x.example", 0.7},
		{"6 TXT of 14", beaconOf("10.0.0.1", 14, one("a.x.example"), firstOf(6, 16, 1), ""), "beacon 10.0.0.1 > a.x.example", 0.5},
		{"12 names in 15 beats", beaconOf("10.0.0.1", 15, func(i int) string { return fmt.Sprintf("n%d.y.example", i%12) }, always(1), ""),
			"beacon 10.0.0.1 > y.example", 0.7},
		{"11 names in 15 beats", beaconOf("10.0.0.1", 15, func(i int) string { return fmt.Sprintf("n%d.y.example", i%11) }, always(1), ""),
			"beacon 10.0.0.1 > y.example", 0.5},
	} {
		got := scores(Limits{}, c.evs)
		if !near(got[c.subject], c.score, 1e-9) {
			t.Errorf("%s: %s scores %.4f, want %.4f (%v)", c.name, c.subject, got[c.subject], c.score, got)
		}
	}

	// A name with no registrable domain, in a network of 11 clients: no
	// context modifier (the domain of a few clients would add 0.1).
	evs := beaconOf("10.0.0.1", 13, one("wpad"), always(1), "")
	for c := 2; c <= 11; c++ {
		evs = append(evs, DNS{TsNs: 1_700_000_000e9, Client: fmt.Sprintf("10.0.0.%d", c), Server: "10.0.0.53", Name: "www.example.com", QType: 1})
	}
	if got := scores(Limits{}, evs); len(got) != 1 || !near(got["beacon 10.0.0.1 > wpad"], 0.5, 1e-9) {
		t.Errorf("a beacon on a single-label name: %v, want 0.5", got)
	}

	// With flow records: the client contacted www.example.com's address
	// but never c2.example's, half its domains: +0.1 on the beacons.
	evs = beaconOf("10.0.0.3", 13, one("cmd.c2.example"), always(16), "198.51.100.50")
	evs = append(evs, DNS{TsNs: 1_700_000_000e9 + 30e9, Client: "10.0.0.3", Server: "10.0.0.53", Name: "www.example.com", QType: 1, Addr: "192.0.2.1"})
	contacts := NewContacts(0)
	contacts.AddFlow(flowOf("10.0.0.3", "192.0.2.1", 50000, 443, "TCP"))
	s := NewDNS(Limits{Contacts: contacts})
	for i := range evs {
		s.Observe(&evs[i])
	}
	var found bool
	for _, f := range s.Finish() {
		if f.Subject == "10.0.0.3 > cmd.c2.example" {
			found = true
			if !near(f.DetectorScore, 0.8, 1e-9) || !strings.HasSuffix(f.Evidence, "; its names resolved to 1 addresses (13 answers), contacted none") {
				t.Errorf("beacon with contacts: %.4f %q, want 0.8 and the contacts' evidence", f.DetectorScore, f.Evidence)
			}
		}
	}
	if !found {
		t.Error("beacon with contacts not found")
	}
	if got := scores(Limits{}, evs); !near(got["beacon 10.0.0.3 > cmd.c2.example"], 0.7, 1e-9) {
		t.Errorf("the same without contacts: %v, want 0.7", got)
	}
}

// A full server table keeps its busiest servers: a resolver stays one,
// and its beacons still count half, however many one-off servers follow.
func TestDNSResolverKeptWhenFull(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	var evs []DNS
	for i := range 13 {
		ts := t0 + int64(i)*60e9
		evs = append(evs,
			DNS{TsNs: ts, Client: "10.0.0.1", Server: "10.0.0.53", Name: "x.example", QType: 1, Size: 80},
			DNS{TsNs: ts, Client: "10.0.0.2", Server: "10.0.0.53", Name: "x.example", QType: 1, Size: 80},
			DNS{TsNs: ts, Client: "10.0.0.53", Server: "198.51.100.1", Name: "poll.example", QType: 1, Size: 80})
	}
	for i := range 30 {
		evs = append(evs, DNS{TsNs: t0 + int64(i)*1e9, Client: fmt.Sprintf("10.1.0.%d", i), Server: fmt.Sprintf("10.2.0.%d", i), Name: fmt.Sprintf("n%d.example", i), QType: 1})
	}
	got := scores(Limits{Subjects: 8}, evs)
	if !near(got["beacon 10.0.0.53 > poll.example"], 0.25, 1e-9) || !near(got["beacon 10.0.0.1 > x.example"], 0.5, 1e-9) {
		t.Errorf("beacons %v: want the resolver's 0.25 and its client's 0.5", got)
	}
}
