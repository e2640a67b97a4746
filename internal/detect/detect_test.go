package detect

import (
	"encoding/base32"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestNameBits(t *testing.T) {
	for _, c := range []struct {
		prefix string
		lo, hi float64
	}{
		{"", 0, 0},
		{"www", 0, 0},
		{"mail", 8, 8},
		{"WwW", 0, 0}, // case does not count: resolvers randomise it (0x20)
		{"nx8889", 10, 11},
	} {
		if b := nameBits(c.prefix); b < c.lo-1e-9 || b > c.hi+1e-9 {
			t.Errorf("nameBits(%q) = %.2f, want %.0f..%.0f", c.prefix, b, c.lo, c.hi)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 40)
	for i := range raw {
		raw[i] = byte(rnd.IntN(256))
	}
	label := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	if b := nameBits(label) / float64(len(label)); b < 4.3 {
		t.Errorf("base32 data carries %.2f bits a character, want about 5", b)
	}
}

func TestTunnelScoreAnchors(t *testing.T) {
	for _, c := range []struct{ bits, want float64 }{{1000, 0}, {2047, 0}, {4096, 0.2}, {8192, 0.4}, {32768, 0.8}, {65536, 1}, {1e7, 1}} {
		if got := tunnelBitsScore(c.bits); !near(got, c.want, 1e-9) {
			t.Errorf("tunnelBitsScore(%.0f) = %.3f, want %.3f", c.bits, got, c.want)
		}
	}
}

// a network of ten clients asking popular names, one of which also runs a
// tunnel under t.example.
func dnsNetwork(tunnelQueries int) []DNS {
	rnd := rand.New(rand.NewPCG(3, 4))
	popular := []string{"www.example.com", "mail.example.com", "example.com", "www.wikipedia.org", "en.wikipedia.org",
		"upload.wikimedia.org", "www.debian.org", "deb.debian.org", "security.debian.org", "github.com", "api.github.com"}
	var evs []DNS
	t0 := int64(1_700_000_000e9)
	for i := 0; i < 5000; i++ {
		c := fmt.Sprintf("10.0.0.%d", 1+rnd.IntN(10))
		evs = append(evs, DNS{TsNs: t0 + int64(i)*3e8, Client: c, Name: popular[rnd.IntN(len(popular))], QType: 1, Size: 90})
	}
	raw := make([]byte, 30)
	for i := 0; i < tunnelQueries; i++ {
		for j := range raw {
			raw[j] = byte(rnd.IntN(256))
		}
		name := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)) + ".t.example"
		evs = append(evs, DNS{TsNs: t0 + int64(i)*1e9 + rnd.Int64N(5e9), Client: "10.0.0.3", Name: name, QType: 16, Size: 200})
	}
	return evs
}

func TestDNSTunnelFound(t *testing.T) {
	s := NewDNS(Limits{})
	evs := dnsNetwork(300)
	for i := range evs {
		s.Observe(&evs[i])
	}
	fs := s.Finish()
	if len(fs) == 0 || fs[0].Detector != "dns-tunnel" || fs[0].Subject != "10.0.0.3 > t.example" {
		t.Fatalf("first finding %+v, want dns-tunnel on 10.0.0.3 > t.example", fs)
	}
	if fs[0].DetectorScore < 0.8 || fs[0].Events != 300 || !strings.Contains(fs[0].Evidence, "300 distinct names under t.example") {
		t.Errorf("finding %+v: want a score of 0.8 or more over 300 events, with its evidence", fs[0])
	}
	for _, f := range fs {
		if !strings.HasSuffix(f.Subject, "t.example") {
			t.Errorf("benign subject found: %+v", f)
		}
	}
	tunnel, benign := evs[len(evs)-1], evs[0]
	if v := s.Explain(&tunnel); v == nil || v.Detector != "dns-tunnel" {
		t.Errorf("tunnel query explained by %+v", v)
	}
	if v := s.Explain(&benign); v != nil {
		t.Errorf("benign query explained by %+v", v)
	}
}

// A handful of random names is no tunnel.
func TestDNSFewNamesNoTunnel(t *testing.T) {
	s := NewDNS(Limits{})
	evs := dnsNetwork(5)
	for i := range evs {
		s.Observe(&evs[i])
	}
	for _, f := range s.Finish() {
		if f.Detector == "dns-tunnel" {
			t.Errorf("5 random names found as a tunnel: %+v", f)
		}
	}
}

// beats returns times of an event every period with uniform jitter, or of
// a Poisson process of the same rate when jitter < 0.
func beats(rnd *rand.Rand, t0 int64, n int, period, jitter float64) []int64 {
	var ts []int64
	t := float64(t0)
	for i := 0; i < n; i++ {
		if jitter < 0 {
			t += rnd.ExpFloat64() * period * 1e9
		} else {
			t += period * (1 + jitter*(2*rnd.Float64()-1)) * 1e9
		}
		ts = append(ts, int64(t))
	}
	return ts
}

func TestBeacon(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	t0 := int64(1_700_000_000e9)
	w1 := t0 + 3600e9
	for _, c := range []struct {
		name   string
		n      int
		period float64
		jitter float64
		want   bool
	}{
		{"60 s, 10% jitter", 60, 60, 0.1, true},
		{"60 s, 30% jitter", 60, 60, 0.3, true},
		{"10 s, 30% jitter, 12 beats", 12, 10, 0.3, true},
		{"Poisson, 60 s mean", 60, 60, -1, false},
		{"Poisson, 20 s mean", 180, 20, -1, false},
		{"5 beats", 5, 60, 0, false},
	} {
		var b beaconState
		for _, ts := range beats(rnd, t0, c.n, c.period, c.jitter) {
			b.add(ts, 120)
		}
		r := b.judge(t0, w1)
		if (r.score >= 0.2) != c.want {
			t.Errorf("%s: score %.2f (timing %.2f), want found=%v", c.name, r.score, r.ts, c.want)
		}
	}
}

func TestScan(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for p := int32(1); p <= 200; p++ { // vertical: 200 ports of one host, SYN only
		f := Flow{TsNs: t0 + int64(p)*1e7, EndNs: t0 + int64(p)*1e7, Src: "10.0.0.66", Dst: "10.0.0.9", SPort: 40000, DPort: p, Proto: "TCP", OutBytes: 60, OutPkts: 1}
		s.Observe(&f)
	}
	for h := 1; h <= 30; h++ { // horizontal: port 22 of 30 hosts
		f := Flow{TsNs: t0 + int64(h)*1e8, EndNs: t0 + int64(h)*1e8, Src: "10.0.0.77", Dst: fmt.Sprintf("10.1.0.%d", h), SPort: 40000, DPort: 22, Proto: "TCP", OutBytes: 60, OutPkts: 1}
		s.Observe(&f)
	}
	for h := 1; h <= 30; h++ { // a browser: 30 servers, answered
		f := Flow{TsNs: t0 + int64(h)*1e9, EndNs: t0 + int64(h)*1e9 + 2e9, Src: "10.0.0.5", Dst: fmt.Sprintf("192.0.2.%d", h), SPort: 50000, DPort: 443, Proto: "TCP",
			OutBytes: 2000, OutPkts: 10, InBytes: 40000, InPkts: 30}
		s.Observe(&f)
	}
	got := map[string]bool{}
	for _, f := range s.Finish() {
		if f.Detector == "scan" {
			got[f.Subject] = true
		}
	}
	for _, want := range []string{"10.0.0.66 > 10.0.0.9:*", "10.0.0.77 > *:22/TCP"} {
		if !got[want] {
			t.Errorf("scan %s not found; found %v", want, got)
		}
	}
	if len(got) != 2 {
		t.Errorf("scans found: %v, want 2", got)
	}
	if v := s.Explain("10.0.0.5", "192.0.2.3", 50000, 443, "TCP"); v != nil {
		t.Errorf("browser flow explained by %+v", v)
	}
	if v := s.Explain("10.0.0.66", "10.0.0.9", 40000, 80, "TCP"); v == nil || v.Detector != "scan" {
		t.Errorf("scan flow explained by %+v", v)
	}
	// The scanner's other events (its NTP, a reply to it) carry the host verdict, below the scan's.
	scan := s.Explain("10.0.0.66", "10.0.0.9", 40000, 80, "TCP")
	for _, f := range [][2]string{{"10.0.0.66", "192.0.2.123"}, {"192.0.2.123", "10.0.0.66"}} {
		v := s.Explain(f[0], f[1], 123, 123, "UDP")
		if v == nil || v.Detector != "host" || v.Subject != "10.0.0.66" || v.Score != scan.Score/2 {
			t.Errorf("flow %s > %s of the scanner explained by %+v, want its host verdict (scan %.2f / 2)", f[0], f[1], v, scan.Score)
		}
	}
	// A browser's flows give no host verdict: nothing found it.
	if v := s.Explain("10.0.0.5", "192.0.2.123", 123, 123, "UDP"); v != nil {
		t.Errorf("browser's NTP explained by %+v", v)
	}
}

// Probes retried (five SYNs, nothing back) and ICMP echo requests are a
// scan; the echo replies, flows of their own, are explained by it too.
func TestScanRetriesAndReplies(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for h := 1; h <= 40; h++ {
		ts := t0 + int64(h)*1e9
		syn := Flow{TsNs: ts, EndNs: ts + 3e9, Src: "10.0.0.66", Dst: fmt.Sprintf("10.2.0.%d", h), SPort: 40000, DPort: 23, Proto: "TCP",
			OutBytes: 300, OutPkts: 5, Flags: "......S."}
		s.Observe(&syn)
		echo := Flow{TsNs: ts, EndNs: ts, Src: "10.0.0.77", Dst: fmt.Sprintf("10.3.0.%d", h), DPort: 8 << 8, Proto: "ICMP", OutBytes: 28, OutPkts: 1}
		s.Observe(&echo)
		reply := Flow{TsNs: ts, EndNs: ts, Src: echo.Dst, Dst: echo.Src, Proto: "ICMP", OutBytes: 28, OutPkts: 1}
		s.Observe(&reply)
	}
	// an upload's ACKs seen one way: no SYN alone, not a probe
	ack := Flow{TsNs: t0, EndNs: t0 + 9e9, Src: "10.0.0.5", Dst: "192.0.2.1", SPort: 50000, DPort: 443, Proto: "TCP", OutBytes: 400, OutPkts: 10, Flags: "...A...."}
	s.Observe(&ack)
	got := map[string]bool{}
	for _, f := range s.Finish() {
		got[f.Subject] = true
	}
	for _, want := range []string{"10.0.0.66 > *:23/TCP", "10.0.0.77 > */ICMP type 8"} {
		if !got[want] {
			t.Errorf("scan %q not found; found %v", want, got)
		}
	}
	if v := s.Explain("10.3.0.7", "10.0.0.77", 0, 0, "ICMP"); v == nil || v.Subject != "10.0.0.77 > */ICMP type 8" {
		t.Errorf("echo reply explained by %+v, want the ICMP scan", v)
	}
	if v := s.Explain("10.0.0.5", "192.0.2.1", 50000, 443, "TCP"); v != nil {
		t.Errorf("upload's ACKs explained by %+v", v)
	}
}

// A hundred short connections are password guessing on SSH, a browser's
// day on a web server: counted in all only on login ports; at one a
// second or faster on any port.
func TestBruteForce(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for i := 0; i < 100; i++ {
		slow := t0 + int64(i)*15e9
		for _, port := range []int32{22, 8000} {
			f := Flow{TsNs: slow, EndNs: slow + 2e9, Src: "10.0.0.5", Dst: "10.1.0.1", SPort: 50000, DPort: port, Proto: "TCP",
				OutBytes: 2000, OutPkts: 12, InBytes: 3000, InPkts: 10}
			s.Observe(&f)
		}
		fast := t0 + int64(i)*2e8
		f := Flow{TsNs: fast, EndNs: fast + 1e8, Src: "10.0.0.6", Dst: "10.1.0.2", SPort: 50000, DPort: 8080, Proto: "TCP",
			OutBytes: 800, OutPkts: 6, InBytes: 600, InPkts: 5}
		s.Observe(&f)
	}
	got := map[string]bool{}
	for _, f := range s.Finish() {
		if f.Detector == "brute-force" {
			got[f.Subject] = true
		}
	}
	want := map[string]bool{"10.0.0.5 > 10.1.0.1:22/TCP": true, "10.0.0.6 > 10.1.0.2:8080/TCP": true}
	if !maps.Equal(got, want) {
		t.Errorf("brute-force on %v, want %v", got, want)
	}
}

func TestExfil(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for h := 1; h <= 50; h++ {
		f := Flow{TsNs: t0 + int64(h)*1e9, EndNs: t0 + int64(h)*1e9 + 5e9, Src: fmt.Sprintf("10.0.0.%d", h%10+1), Dst: fmt.Sprintf("192.0.2.%d", h), SPort: 50000, DPort: 443, Proto: "TCP",
			OutBytes: 20e3, OutPkts: 20, InBytes: 500e3, InPkts: 400}
		s.Observe(&f)
	}
	up := Flow{TsNs: t0, EndNs: t0 + 60e9, Src: "10.0.0.4", Dst: "198.51.100.7", SPort: 50001, DPort: 443, Proto: "TCP", OutBytes: 80e6, OutPkts: 60000, InBytes: 1e6, InPkts: 20000}
	s.Observe(&up)
	fs := s.Finish()
	if len(fs) == 0 || fs[0].Detector != "exfil" || fs[0].Src != "10.0.0.4" || fs[0].DetectorScore < 0.6 {
		t.Fatalf("findings %+v, want exfil from 10.0.0.4 first, scoring 0.6 or more", fs)
	}
	if len(fs) != 1 {
		t.Errorf("%d findings, want 1: %+v", len(fs), fs)
	}
}

// Distinct counts do not depend on the order or sharding of the items.
func TestDistinctMerge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	items := make([]uint64, 5000)
	for i := range items {
		items[i] = rnd.Uint64()
	}
	var whole, a, b distinct
	for i, h := range items {
		whole.add(h, float32(h%7))
		if i%3 == 0 {
			a.add(h, float32(h%7))
		} else {
			b.add(h, float32(h%7))
		}
	}
	b.merge(&a)
	if whole.count() != b.count() || whole.sum() != b.sum() || whole.mask != b.mask {
		t.Errorf("merged %v/%v (mask %x), whole %v/%v (mask %x)", b.count(), b.sum(), b.mask, whole.count(), whole.sum(), whole.mask)
	}
	if whole.exact() {
		t.Error("5000 items counted exactly: the sample never started")
	}
	if c := whole.count(); c < 4000 || c > 6000 {
		t.Errorf("estimated %v distinct of 5000", c)
	}
}

// A full table keeps its busiest subjects and stays within its limit.
func TestTableBounded(t *testing.T) {
	type st struct{ n int64 }
	tb := newTable(100, func(s *st) int64 { return s.n })
	for i := uint64(0); i < 10000; i++ {
		tb.get(i, func() st { return st{} }).n++
		tb.get(1<<40, func() st { return st{} }).n++ // a heavy hitter
	}
	if tb.len() > 100 {
		t.Errorf("table holds %d subjects, limit 100", tb.len())
	}
	if s, ok := tb.lookup(1 << 40); !ok || s.n != 10000 {
		t.Errorf("heavy hitter dropped or miscounted: %+v", s)
	}
	if tb.dropped == 0 {
		t.Error("nothing counted as dropped")
	}
}

// A table with a doorkeeper lets every new subject in until it must first
// shrink; then a subject gets in at its second event within the window,
// one seen once stays out and counts as dropped, and the busy stay.
func TestTableDoorkeeper(t *testing.T) {
	type st struct{ n int64 }
	mk := func() st { return st{} }
	tb := newTable(100, func(s *st) int64 { return s.n }).withDoorkeeper()
	for i := range uint64(100) { // not full yet: all get in
		s := tb.get(1<<40+i, mk)
		if s == nil {
			t.Fatalf("subject %d of 100 turned away before the table was full", i)
		}
		s.n = int64(i) + 2
	}
	if s := tb.get(1, mk); s == nil || tb.dropped != 25 || tb.len() != 76 {
		t.Fatalf("the 101st subject: %v, %d dropped, %d held; want it in after the 25 least busy were dropped", s, tb.dropped, tb.len())
	}
	if s := tb.get(7777, mk); s != nil {
		t.Fatal("a new subject got in at its first event once the table had shrunk")
	}
	if s := tb.get(7777, mk); s == nil {
		t.Fatal("a subject seen twice in the window was turned away")
	}
	in := 0
	for i := range uint64(1000) { // one-offs
		if tb.get(1<<50+i, mk) != nil {
			in++
		}
	}
	if in > 30 || tb.dropped < 25+970 || tb.len() > 100 {
		t.Errorf("%d of 1000 one-off subjects got in (a Bloom filter's false positives: want under 30), %d dropped, %d held", in, tb.dropped, tb.len())
	}
	for i := range uint64(100) {
		if _, ok := tb.lookup(1<<40 + i); ok != (i >= 25) {
			t.Errorf("busy subject %d (%d events) held: %v", i, i+2, ok)
		}
	}
	tb.get(8888, mk)
	for i := range uint64(tb.door.max) { // the window closes
		tb.get(1<<60+i, mk)
	}
	if s := tb.get(8888, mk); s != nil {
		t.Error("a subject got in at its second event after the window closed")
	}
}

// Proxy logs: a beacon with a user agent nobody else sends, and an upload,
// among twelve clients browsing.
func TestProxy(t *testing.T) {
	s := NewProxy(Limits{})
	rnd := rand.New(rand.NewPCG(7, 7))
	t0 := int64(1_700_000_000e9)
	for c := 1; c <= 12; c++ {
		for i := 0; i < 40; i++ {
			p := Proxy{TsNs: t0 + int64(rnd.IntN(3600))*1e9, Client: fmt.Sprintf("10.0.0.%d", c), Host: fmt.Sprintf("site%d.example", rnd.IntN(30)),
				UserAgent: "Mozilla/5.0", Sent: int64(300 + rnd.IntN(500)), Received: int64(5000 + rnd.IntN(50000))}
			s.Observe(&p)
		}
	}
	for _, ts := range beats(rnd, t0, 60, 60, 0.1) {
		p := Proxy{TsNs: ts, Client: "10.0.0.3", Host: "c2.example", UserAgent: "updater/1.0", Sent: 200, Received: 120}
		s.Observe(&p)
	}
	up := Proxy{TsNs: t0 + 1800e9, Client: "10.0.0.5", Host: "files.example", UserAgent: "Mozilla/5.0", Sent: 50e6, Received: 2000}
	s.Observe(&up)
	got := map[string]string{}
	for _, f := range s.Finish() {
		if _, ok := got[f.Detector]; !ok {
			got[f.Detector] = f.Subject
		}
	}
	want := map[string]string{"beacon": "10.0.0.3 > c2.example", "exfil": "10.0.0.5 > files.example", "rare-agent": "10.0.0.3 uses updater/1.0"}
	for d, subject := range want {
		if got[d] != subject {
			t.Errorf("strongest %s finding %q, want %q (all: %v)", d, got[d], subject, got)
		}
	}
	if v := s.Explain(&Proxy{Client: "10.0.0.7", Host: "site3.example", UserAgent: "Mozilla/5.0"}); v != nil {
		t.Errorf("a browser's request explained by %+v", v)
	}
}

// The table agrees with a map on what it holds, through growth, shrinking
// (slots reused) and merging.
func TestTableAgreesWithMap(t *testing.T) {
	type st struct{ n int64 }
	r := rand.New(rand.NewPCG(3, 4))
	tb := newTable(5000, func(s *st) int64 { return s.n })
	want := map[uint64]int64{}
	for i := 0; i < 200000; i++ {
		h := r.Uint64N(8000)
		if i%7 == 0 {
			h = r.Uint64N(50) // busy subjects
		}
		_, held := tb.lookup(h)
		tb.get(h, func() st { return st{} }).n++
		if !held {
			if len(want) != tb.len()-1 { // shrunk: drop from want what the table dropped
				for k := range want {
					if _, ok := tb.lookup(k); !ok {
						delete(want, k)
					}
				}
			}
			want[h] = 0
		}
		want[h]++
	}
	if tb.len() != len(want) || tb.len() > 5000 {
		t.Fatalf("table holds %d subjects, the map %d (limit 5000)", tb.len(), len(want))
	}
	for h, s := range tb.all() {
		if want[h] != s.n {
			t.Fatalf("subject %d: %d events, want %d", h, s.n, want[h])
		}
	}
	for k := uint64(0); k < 50; k++ {
		if _, ok := tb.lookup(k); !ok {
			t.Errorf("busy subject %d dropped", k)
		}
	}
	other := newTable(1<<20, func(s *st) int64 { return s.n })
	other.get(0, func() st { return st{} }).n = 5 // hash 0 is a subject too
	other.get(1<<63, func() st { return st{} }).n = 7
	before := want[0]
	tb.merge(other, func(d, s *st) { d.n += s.n })
	if s, ok := tb.lookup(0); !ok || s.n != before+5 {
		t.Errorf("merged subject 0: %+v, want %d events", s, before+5)
	}
	if s, ok := tb.lookup(1 << 63); !ok || s.n != 7 {
		t.Errorf("merged new subject: %+v", s)
	}
}

// Findings come in one order whatever the order of the events: a name's
// beacon and its domain's have one subject and one score, and differ only
// in their counts.
func TestFindingsOrderTotal(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	var evs []DNS
	for i := range 15 {
		ts := t0 + int64(i)*3e9
		for _, name := range []string{"example.com", "www.example.com", "example.net", "www.example.net"} {
			evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.1", Server: "10.0.0.53", Name: name, QType: 1, Size: 90})
		}
	}
	run := func(evs []DNS) []record.Finding {
		s := NewDNS(Limits{})
		for i := range evs {
			s.Observe(&evs[i])
		}
		return s.Finish()
	}
	want := run(evs)
	if len(want) < 4 {
		t.Fatalf("%d findings, want the beacons of both names and both domains", len(want))
	}
	for range 5 {
		rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		if got := run(evs); !reflect.DeepEqual(got, want) {
			t.Fatalf("findings depend on the order of events:\n%v\n%v", got, want)
		}
	}
}

// A busy subject keeps a sample of its beats, those whose hash fits the
// mask: exactly maxBeats are kept whole, more are thinned, and two halves
// merged keep the sample one pass keeps.
func TestBeatsSample(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	var whole, even, odd beaconState
	for i := range maxBeats {
		whole.add(t0+int64(i)*1e9, 100)
	}
	if len(whole.ts) != maxBeats || whole.mask != 0 {
		t.Fatalf("%d beats kept of %d (mask %b), want all", len(whole.ts), maxBeats, whole.mask)
	}
	whole = beaconState{}
	const n = 3*maxBeats + 17
	for i := range n {
		ts := t0 + int64(i)*1e9
		whole.add(ts, int32(i))
		if i%2 == 0 {
			even.add(ts, int32(i))
		} else {
			odd.add(ts, int32(i))
		}
	}
	if whole.events != n || len(whole.ts) > maxBeats || len(whole.ts) < maxBeats/4 {
		t.Fatalf("%d events, %d beats kept (max %d)", whole.events, len(whole.ts), maxBeats)
	}
	want := map[int64]int32{}
	for i := range n {
		if ts := t0 + int64(i)*1e9; mix64(uint64(ts))&whole.mask == 0 {
			want[ts] = int32(i)
		}
	}
	got := func(b *beaconState) map[int64]int32 {
		m := map[int64]int32{}
		for i, ts := range b.ts {
			m[ts] = b.sizes[i]
		}
		return m
	}
	if !maps.Equal(got(&whole), want) {
		t.Fatalf("kept %d beats, want the %d whose hash fits mask %b", len(whole.ts), len(want), whole.mask)
	}
	wider := 0 // the mask is the narrowest that keeps at most maxBeats
	for i := range n {
		if mix64(uint64(t0+int64(i)*1e9))&(whole.mask>>1) == 0 {
			wider++
		}
	}
	if whole.mask == 0 || wider <= maxBeats {
		t.Errorf("mask %b thins more than it must: %d beats fit the one before it", whole.mask, wider)
	}
	even.merge(&odd)
	if even.events != n || even.mask != whole.mask || !maps.Equal(got(&even), want) {
		t.Errorf("merged halves: %d events, mask %b, %d beats; one pass: %d, %b, %d",
			even.events, even.mask, len(even.ts), n, whole.mask, len(want))
	}
}
