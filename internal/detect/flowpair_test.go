package detect

import (
	"fmt"
	"math"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// The flow detectors' parts, each at its edges: what a flow record gives
// them, which flows are probes, how a pair sums its flows, and the scores
// and evidence of exfil, long-conn and scan worked out from their comments.

func TestFromFlow(t *testing.T) {
	r := record.Flow{TStartNs: 5e9, TEndNs: 7e9, SIP: "10.0.0.1", DIP: "10.0.0.2", SPort: 50000, DPort: 443, Proto: "TCP",
		IByt: 100, OByt: 200, IPkt: 3, OPkt: 4, Flag: "...A...."}
	want := Flow{TsNs: 5e9, EndNs: 7e9, Src: "10.0.0.1", Dst: "10.0.0.2", SPort: 50000, DPort: 443, Proto: "TCP",
		OutBytes: 100, InBytes: 200, OutPkts: 3, InPkts: 4, Flags: "...A...."}
	if got := FromFlow(&r); got != want {
		t.Errorf("FromFlow = %+v, want %+v", got, want)
	}
	// Records with no nanosecond times (Spot's CSV): the second and the duration.
	r.TStartNs, r.TEndNs, r.UnixTstamp, r.TDur = 0, 0, 1_700_000_000, 2.5
	if got := FromFlow(&r); got.TsNs != 1_700_000_000e9 || got.EndNs != 1_700_000_002_500_000_000 {
		t.Errorf("from unix_tstamp and tdur: %d..%d", got.TsNs, got.EndNs)
	}
	// An end before the start is the start.
	r.TStartNs, r.TEndNs = 9e9, 8e9
	if got := FromFlow(&r); got.TsNs != 9e9 || got.EndNs != 9e9 {
		t.Errorf("end before start: %d..%d", got.TsNs, got.EndNs)
	}
}

func TestUnanswered(t *testing.T) {
	tcp := func(outPkts, outBytes, inPkts, inBytes int64, flags string) Flow {
		return Flow{Proto: "TCP", OutPkts: outPkts, OutBytes: outBytes, InPkts: inPkts, InBytes: inBytes, Flags: flags}
	}
	for _, c := range []struct {
		name string
		f    Flow
		want bool
	}{
		{"a SYN", tcp(1, 60, 0, 0, "......S."), true},
		{"80 bytes a packet", tcp(1, 80, 0, 0, ""), true},
		{"81 bytes in one packet", tcp(1, 81, 0, 0, ""), false},
		{"no packets counted, 80 bytes", tcp(0, 80, 0, 0, ""), true},
		{"a handshake and a reset", tcp(3, 240, 3, 240, "...A.RS."), true},
		{"a reply of 241 bytes in 3 packets", tcp(3, 240, 3, 241, ""), false},
		{"no packets back counted, 80 bytes", tcp(1, 60, 0, 80, ""), true},
		{"81 bytes back", tcp(1, 60, 0, 81, ""), false},
		{"4 SYNs, nothing back", tcp(4, 240, 0, 0, "......S."), true},
		{"4 packets with ACK", tcp(4, 240, 0, 0, "...A..S."), false},
		{"4 SYNs, one packet back", tcp(4, 240, 1, 40, "......S."), false},
		{"a SYN, 4 packets back", tcp(1, 60, 4, 160, "......S."), false},
		{"4 packets, no flags", tcp(4, 240, 0, 0, ""), false},
		{"UDP, nothing back", Flow{Proto: "UDP", OutPkts: 1, OutBytes: 500}, true},
		{"UDP answered", Flow{Proto: "UDP", OutPkts: 1, OutBytes: 60, InPkts: 1, InBytes: 60}, false},
		{"ICMP", Flow{Proto: "ICMP", OutPkts: 1}, true},
		{"ICMP6", Flow{Proto: "ICMP6", OutPkts: 1}, true},
		{"IPv6-ICMP", Flow{Proto: "IPv6-ICMP", OutPkts: 1}, true},
		{"ICMP answered", Flow{Proto: "ICMP", OutPkts: 1, InPkts: 1}, false},
		{"GRE", Flow{Proto: "GRE", OutPkts: 1}, false},
	} {
		if got := c.f.unanswered(); got != c.want {
			t.Errorf("%s: unanswered = %v, want %v", c.name, got, c.want)
		}
	}
	for flags, want := range map[string]bool{"......S.": true, "...A..S.": false, "........": false, "S": false, "C.....S.": true, ".....RS.": true} {
		if synOnly(flags) != want {
			t.Errorf("synOnly(%q) = %v", flags, !want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for _, c := range []struct {
		host  string
		port  int32
		proto string
		want  string
	}{
		{"10.0.0.1", 443, "TCP", "10.0.0.1:443/TCP"},
		{"10.0.0.1", 53, "UDP", "10.0.0.1:53/UDP"},
		{"10.0.0.1", 3868, "SCTP", "10.0.0.1:3868/SCTP"},
		{"10.0.0.1", 3<<8 | 3, "ICMP", "10.0.0.1/ICMP type 3 code 3"},
		{"10.0.0.1", 8 << 8, "ICMP", "10.0.0.1/ICMP type 8"},
		{"::1", 128 << 8, "ICMP6", "::1/ICMP6 type 128"},
		{"::1", 1<<8 | 4, "IPv6-ICMP", "::1/IPv6-ICMP type 1 code 4"},
		{"10.0.0.1", 0, "GRE", "10.0.0.1/GRE"},
		{"", 22, "TCP", ":22/TCP"},
	} {
		if got := endpoint(c.host, c.port, c.proto); got != c.want {
			t.Errorf("endpoint(%q, %d, %q) = %q, want %q", c.host, c.port, c.proto, got, c.want)
		}
	}
	for _, c := range []struct {
		sport, dport int32
		proto        string
		want         int32
	}{
		{443, 50000, "TCP", 443}, {53, 40000, "UDP", 53},
		{0, 0, "ICMP", 8 << 8}, {0, 3, "ICMP", 8 << 8}, {0, 129 << 8, "ICMP6", 128 << 8}, {0, 129 << 8, "IPv6-ICMP", 128 << 8},
		{0, 3<<8 | 1, "ICMP", 3<<8 | 1}, {7, 11 << 8, "ICMP", 11 << 8},
	} {
		if got := request(c.sport, c.dport, c.proto); got != c.want {
			t.Errorf("request(%d, %d, %s) = %d, want %d", c.sport, c.dport, c.proto, got, c.want)
		}
	}
}

// A pair sums its flows; short flows are under 10 s and 10 kB each way.
func TestFlowPairSums(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	flow := func(at, dur, out, in int64) Flow {
		return Flow{TsNs: t0 + at, EndNs: t0 + at + dur, Src: "10.0.0.1", Dst: "10.0.0.2", DPort: 443, Proto: "TCP",
			OutBytes: out, OutPkts: 10, InBytes: in, InPkts: 10}
	}
	fs := []Flow{
		flow(50e9, 9_999_999_999, 9999, 9999), // short
		flow(20e9, 10e9, 100, 100),            // 10 s: not short
		flow(30e9, 1e9, 10e3, 100),            // 10 kB out: not short
		flow(40e9, 1e9, 100, 10e3),            // 10 kB back: not short
		flow(10e9, 0, 3e9, 2e9),               // the first; sizes past 2^31 are capped
		{TsNs: t0 + 60e9, EndNs: t0 + 61e9, Src: "10.0.0.1", Dst: "10.0.0.2", DPort: 443, Proto: "TCP", OutBytes: 60, OutPkts: 1}, // a probe
	}
	var p flowPair
	for i := range fs {
		p.observe(&fs[i])
	}
	if p.out != 9999+100+10e3+100+3e9+60 || p.in != 9999+100+100+10e3+2e9 || p.maxOut != 3e9 || p.conns != 6 ||
		p.short != 2 || p.unans != 1 || p.first != t0+10e9 || p.last != t0+61e9 || p.dur != 9_999_999_999+10e9+1e9+1e9+0+1e9 {
		t.Errorf("pair %+v", p)
	}
	if want := []int32{19998, 200, 10100, 10100, 1<<31 - 1, 60}; fmt.Sprint(p.sizes) != fmt.Sprint(want) || p.events != 6 {
		t.Errorf("beat sizes %v, want %v", p.sizes, want)
	}
	// Merged halves sum the same; a half with no flows changes nothing.
	var a, b, none flowPair
	for i := range fs {
		if i%2 == 0 {
			a.observe(&fs[i])
		} else {
			b.observe(&fs[i])
		}
	}
	b.merge(&a)
	b.merge(&none)
	if b.out != p.out || b.in != p.in || b.maxOut != p.maxOut || b.dur != p.dur || b.conns != p.conns || b.short != p.short ||
		b.unans != p.unans || b.first != p.first || b.last != p.last || b.events != p.events {
		t.Errorf("merged %+v, want %+v", b, p)
	}
	none.merge(&b)
	if none.first != p.first || none.last != p.last {
		t.Errorf("merged into an empty pair: %d..%d, want %d..%d", none.first, none.last, p.first, p.last)
	}
}

func TestExfilAnchors(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	pair := func(out, in int64) *flowPair {
		return &flowPair{src: "10.0.0.4", out: out, in: in, maxOut: out / 2, conns: 2, first: t0, last: t0 + 600e9}
	}
	norms := &volumeNorms{host: map[string]float64{"10.0.0.4": 5e3}, peers: 1e4}
	for _, c := range []struct {
		name  string
		p     *flowPair
		n     *volumeNorms
		score float64
	}{
		// 10 MB, 1000 times the peers' 10 kB: 0.5, counted fully from 100 times
		{"10 MB", pair(10e6, 0), norms, 0.5},
		{"100 MB", pair(100e6, 1e6), norms, 0.8},
		// 1 MB is 100 times the norm: 0.2
		{"1 MB", pair(1e6, 0), norms, 0.2},
		{"under 1 MB", pair(1e6-1, 0), norms, 0},
		{"half what came back", pair(2e6, 1e6), norms, 0.2 + 0.3*0.30102999566398},
		{"more than half what came back", pair(2e6, 1e6+1), norms, 0},
		// 10 times the norm counts half; under 10 times nothing
		{"10 times the host's median", pair(10e6, 0), &volumeNorms{host: map[string]float64{"10.0.0.4": 1e6}, peers: 1e4}, 0.25},
		{"10 times the peers", pair(10e6, 0), &volumeNorms{peers: 1e6}, 0.25},
		{"9.9 times", pair(9.9e6, 0), &volumeNorms{peers: 1e6}, 0},
		// a norm under a byte is a byte
		{"no norm", pair(10e6, 0), &volumeNorms{}, 0.5},
	} {
		got, ev := c.p.exfil(c.n)
		if !near(got, c.score, 1e-9) || (got > 0) != (ev != "") {
			t.Errorf("%s: exfil = %.4f %q, want %.4f", c.name, got, ev, c.score)
		}
	}
	_, ev := pair(100e6, 1e6).exfil(norms)
	if want := "sent 100 MB, received 1.0 MB, 10000× what a pair usually sends (10 kB), in 2 connection(s) over 10 min; largest 50 MB"; ev != want {
		t.Errorf("evidence %q, want %q", ev, want)
	}
}

// volumeNorms: a host's median over its pairs (three or more) and the
// 95th percentile of every pair.
func TestVolumeNorms(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	add := func(src, dst string, out int64) {
		f := Flow{TsNs: t0, EndNs: t0 + 1e9, Src: src, Dst: dst, DPort: 443, Proto: "TCP", OutBytes: out, OutPkts: 10, InPkts: 10}
		s.Observe(&f)
	}
	// 10.0.0.1 has three pairs (median 300), one of them a candidate
	add("10.0.0.1", "192.0.2.1", 100)
	add("10.0.0.1", "192.0.2.2", 300)
	add("10.0.0.1", "192.0.2.3", 2e6)
	// 10.0.0.2: two pairs, one a candidate: no median of its own
	add("10.0.0.2", "192.0.2.1", 50)
	add("10.0.0.2", "192.0.2.4", 3e6)
	// 10.0.0.3: three pairs and no candidate
	for i := range 3 {
		add("10.0.0.3", fmt.Sprintf("192.0.2.%d", 10+i), 10)
	}
	for i := range 13 { // 21 pairs in all
		add(fmt.Sprintf("10.1.0.%d", i), "192.0.2.1", int64(1000+i))
	}
	n := s.volumeNorms()
	if len(n.host) != 1 || n.host["10.0.0.1"] != 300 {
		t.Errorf("host medians %v, want 10.0.0.1: 300", n.host)
	}
	// sorted: 10 10 10 50 100 300 1000..1012 2e6 3e6; index 21*95/100 = 19
	if n.peers != 2e6 {
		t.Errorf("95th percentile %.0f, want 2e6", n.peers)
	}
	// a single pair: its own bytes
	one := NewFlow(Limits{})
	f := Flow{TsNs: t0, EndNs: t0 + 1e9, Src: "10.0.0.1", Dst: "10.0.0.2", DPort: 443, Proto: "TCP", OutBytes: 5e6, OutPkts: 10, InPkts: 10}
	one.Observe(&f)
	if n := one.volumeNorms(); n.peers != 5e6 {
		t.Errorf("one pair: 95th percentile %.0f", n.peers)
	}
}

func TestLongConnAnchors(t *testing.T) {
	for _, c := range []struct {
		hours, score float64
	}{{0.999, 0}, {1, 0.2}, {2.5, 0.3}, {4, 0.4}, {6, 0.5}, {8, 0.6}, {10, 0.7}, {11.999, 0.8 - 0.2*0.001/4}, {12, 0.8}, {100, 0.8}} {
		p := &flowPair{dur: int64(c.hours * 3600e9), conns: 3, out: 2e6, in: 30e3}
		got, ev := p.longConn()
		if !near(got, c.score, 1e-9) || (got > 0) != (ev != "") {
			t.Errorf("%.3f h: longConn = %.4f %q, want %.4f", c.hours, got, ev, c.score)
		}
	}
	_, ev := (&flowPair{dur: 5 * 3600e9, conns: 3, out: 2e6, in: 30e3}).longConn()
	if want := "connected for 5.0 h in all over 3 connection(s), 2.0 MB sent, 30 kB received"; ev != want {
		t.Errorf("evidence %q, want %q", ev, want)
	}
}

func TestScanAnchors(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	scan := func(vertical bool, proto string, n int, minutes float64) *scanState {
		s := &scanState{src: "10.0.0.66", dst: "10.0.0.9", dport: 22, proto: proto, vertical: vertical}
		for i := range n {
			f := Flow{TsNs: t0 + int64(float64(i)/float64(max(1, n-1))*minutes*60e9)}
			s.observe(&f, mix64(uint64(i)))
		}
		return s
	}
	for _, c := range []struct {
		name  string
		s     *scanState
		score float64
	}{
		{"4 hosts", scan(false, "TCP", 4, 1), 0},
		{"5 hosts", scan(false, "TCP", 5, 1), 0.3},
		{"25 hosts", scan(false, "TCP", 25, 1), 0.6},
		{"250 hosts", scan(false, "TCP", 250, 5), 0.9},
		{"11 hosts", scan(false, "TCP", 11, 5), 0.3 + 0.3*math.Log(11.0/5)/math.Log(5)},
		{"15 ports", scan(true, "", 15, 1), 0.6},
		{"5 ports", scan(true, "", 5, 1), 0.3},
		{"150 ports", scan(true, "", 150, 1), 0.9},
		// over 10 minutes, 50 hosts are 25 per 5 minutes
		{"50 hosts in 10 min", scan(false, "TCP", 50, 10), 0.6},
		{"9 hosts in 10 min", scan(false, "TCP", 9, 10), 0},
		{"25 hosts over UDP", scan(false, "UDP", 25, 1), 0.45},
		{"15 ports over UDP", scan(true, "UDP", 15, 1), 0.6},
		{"2500 hosts", scan(false, "TCP", 2500, 5), 1},
	} {
		got, ev := c.s.judge()
		if !near(got, c.score, 1e-9) || (got > 0) != (ev != "") {
			t.Errorf("%s: scan = %.4f %q, want %.4f", c.name, got, ev, c.score)
		}
	}
	for _, c := range []struct {
		s       *scanState
		subject string
		ev      string
	}{
		{scan(true, "", 15, 1), "10.0.0.66 > 10.0.0.9:*", "probed 15 ports of 10.0.0.9 in 60 s with 15 unanswered connections"},
		{scan(false, "TCP", 30, 10), "10.0.0.66 > *:22/TCP", "probed 30 hosts of 22/TCP in 10 min with 30 unanswered connections"},
		{&scanState{src: "10.0.0.77", dport: 8 << 8, proto: "ICMP"}, "10.0.0.77 > */ICMP type 8", ""},
	} {
		if c.s.subject() != c.subject {
			t.Errorf("subject %q, want %q", c.s.subject(), c.subject)
		}
		if _, ev := c.s.judge(); ev != c.ev {
			t.Errorf("evidence %q, want %q", ev, c.ev)
		}
	}
	// Merging: the earliest first, the latest last, probes and targets summed.
	a, b := scan(false, "TCP", 10, 1), scan(false, "TCP", 20, 3)
	b.first += 30e9
	a.merge(b)
	if a.probes != 30 || a.targets.count() != 20 || a.first != t0 || a.last != t0+180e9 {
		t.Errorf("merged: %d probes, %.0f targets, %d..%d", a.probes, a.targets.count(), a.first-t0, a.last-t0)
	}
	var empty scanState
	empty.merge(b)
	if empty.first != b.first {
		t.Errorf("merged into an empty scan: first %d, want %d", empty.first, b.first)
	}
	b.merge(&scanState{})
	if b.first != t0+30e9 {
		t.Errorf("an empty scan merged: first %d", b.first-t0)
	}
	// A probe's time: an earlier one moves first back, a later one last on.
	var s scanState
	for _, ts := range []int64{t0 + 5e9, t0 + 2e9, t0 + 9e9, t0 + 3e9} {
		f := Flow{TsNs: ts}
		s.observe(&f, uint64(ts))
	}
	if s.first != t0+2e9 || s.last != t0+9e9 || s.probes != 4 {
		t.Errorf("scan %d..%d, %d probes", s.first-t0, s.last-t0, s.probes)
	}
	if s.targets.count() != 4 {
		t.Errorf("%.0f targets", s.targets.count())
	}
}
