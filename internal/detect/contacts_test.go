package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// The sketch keeps the sketchK smallest hashes, whatever the order they
// come in, counts exactly while they fit and estimates (k-1)/(k-th
// smallest, as a share of the hash space) above.
func TestAddrSketch(t *testing.T) {
	var a addrSketch
	for _, h := range []uint32{5, 3, 9, 3, 1} {
		a.add(h)
	}
	if got := a.h[:a.n]; !slices.Equal(got, []uint32{1, 3, 5, 9}) || a.more || a.answers != 5 || a.count() != 4 {
		t.Errorf("sketch %v (more %v, %d answers, count %.1f), want [1 3 5 9], exact, 5 answers, 4", got, a.more, a.answers, a.count())
	}
	// Eight addresses, the largest 2^30, a quarter of the hash space: exact.
	var b addrSketch
	for _, h := range []uint32{1 << 30, 1 << 29, 1, 2, 3, 4, 5, 6} {
		b.add(h)
	}
	if b.more || b.count() != 8 {
		t.Errorf("eight addresses: more %v, count %.1f, want exact 8", b.more, b.count())
	}
	full := b
	full.add(1 << 31) // larger than every hash kept: not kept, but a sample now, 7 / (2^30 / 2^32) = 28
	if !full.more || full.h != b.h || full.count() != 28 {
		t.Errorf("a ninth address, the largest: %v, more %v, count %.1f; want the eight kept, a sample, 28", full.h, full.more, full.count())
	}
	b.add(1 << 28) // pushes 2^30 out: 7 / (2^29 / 2^32) = 56
	if !b.more || b.h[sketchK-1] != 1<<29 || b.count() != 56 {
		t.Errorf("nine addresses: %v, more %v, count %.1f; want 2^29 last, a sample, 56", b.h, b.more, b.count())
	}
	// A sample stays a sample, merged into an empty sketch.
	var e addrSketch
	e.merge(&b)
	if e != b {
		t.Errorf("merged into nothing: %+v, want %+v", e, b)
	}
	// Split anyhow, merged in any order: the sketch of the whole.
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{3, 8, 9, 200} {
		var whole, x, y addrSketch
		for range n {
			h := rnd.Uint32()
			whole.add(h)
			if rnd.IntN(2) == 0 {
				x.add(h)
			} else {
				y.add(h)
			}
		}
		y.merge(&x)
		if y != whole {
			t.Errorf("%d addresses: merged %+v, whole %+v", n, y, whole)
		}
	}
}

func flowOf(src, dst string, sport, dport int32, proto string) *record.Flow {
	return &record.Flow{SIP: src, DIP: dst, SPort: sport, DPort: dport, Proto: proto}
}

// Contacts hold pairs either way round, whatever the address's spelling;
// DNS flows and flows without two addresses are left out and counted.
func TestContacts(t *testing.T) {
	c := NewContacts(0)
	c.AddFlow(flowOf("10.0.0.1", "192.0.2.7", 40000, 443, "TCP"))
	c.AddFlow(flowOf("2001:db8::9", "10.0.0.1", 123, 40001, "UDP")) // the far side first
	c.AddFlow(flowOf("10.0.0.1", "192.0.2.53", 40002, 53, "UDP"))
	c.AddFlow(flowOf("192.0.2.54", "10.0.0.1", 53, 40003, "TCP"))
	c.AddFlow(flowOf("10.0.0.1", "", 0, 0, "ICMP"))
	c.Seal()
	key := func(s string) uint32 {
		h, ok := addrKey(s)
		if !ok {
			t.Fatalf("addrKey(%q) failed", s)
		}
		return h
	}
	for _, p := range []struct {
		a, b string
		want bool
	}{
		{"10.0.0.1", "192.0.2.7", true}, {"192.0.2.7", "10.0.0.1", true}, {"::ffff:10.0.0.1", "192.0.2.7", true},
		{"10.0.0.1", "2001:0db8:0:0::9", true}, {"10.0.0.1", "192.0.2.53", false}, {"10.0.0.1", "192.0.2.54", false},
		{"10.0.0.2", "192.0.2.7", false},
	} {
		if got := c.has(key(p.a), key(p.b)); got != p.want {
			t.Errorf("has(%s, %s) = %v, want %v", p.a, p.b, got, p.want)
		}
	}
	if c.Records != 5 || c.DNS != 2 || c.Skipped != 1 || c.Len() != 2 {
		t.Errorf("records %d, dns %d, skipped %d, pairs %d; want 5, 2, 1, 2", c.Records, c.DNS, c.Skipped, c.Len())
	}
	for _, s := range []string{"0.0.0.0", "::", "127.0.0.2", "::1", "::ffff:127.0.0.1", "", "x"} {
		if _, ok := answerKey(s); ok {
			t.Errorf("answer %q counted as an address a client could contact", s)
		}
	}
}

// Past the cap, contacts keep every pair of a sample of hosts and none of
// the others': a host kept is judged exactly.
func TestContactsCap(t *testing.T) {
	c := NewContacts(100)
	type pair struct{ a, b string }
	var all []pair
	for i := range 40 {
		for j := range 20 {
			p := pair{fmt.Sprintf("10.0.%d.%d", i/200, i%200), fmt.Sprintf("192.0.2.%d", j)}
			all = append(all, p)
			for range 2 { // repeats count once
				c.AddFlow(flowOf(p.a, p.b, 40000, 443, "TCP"))
			}
		}
	}
	c.Seal()
	if c.mask == 0 || c.Len() > 100 {
		t.Fatalf("800 pairs under a cap of 100: mask %x, %d pairs held", c.mask, c.Len())
	}
	kept := 0
	for _, p := range all {
		ha, _ := addrKey(p.a)
		hb, _ := addrKey(p.b)
		has := c.has(ha, hb)
		if (c.keeps(ha) || c.keeps(hb)) != has {
			t.Errorf("pair %v held %v, hosts kept %v %v", p, has, c.keeps(ha), c.keeps(hb))
		}
		if has {
			kept++
		}
	}
	if kept != c.Len() || kept == 0 {
		t.Errorf("%d pairs held, %d found", c.Len(), kept)
	}
	// The sample halves until the pairs fit, and no further.
	wider := 0
	for _, p := range all {
		ha, _ := addrKey(p.a)
		hb, _ := addrKey(p.b)
		if ha&(c.mask>>1) == 0 || hb&(c.mask>>1) == 0 {
			wider++
		}
	}
	if wider <= 100 {
		t.Errorf("the hosts of mask %x hold %d pairs, within the cap: mask %x sampled more than needed", c.mask>>1, wider, c.mask)
	}
}

// A client whose contacts were not all kept is not judged: a pair dropped
// must not read as an address never contacted.
func TestContactsSampledClient(t *testing.T) {
	c := NewContacts(40)
	for i := range 60 {
		c.AddFlow(flowOf(fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("198.18.0.%d", i), 40000, 443, "TCP"))
	}
	c.Seal()
	if c.mask == 0 {
		t.Fatal("60 pairs under a cap of 40 kept every host")
	}
	pick := func(prefix string, kept bool) string {
		for i := 1; i < 255; i++ {
			a := fmt.Sprintf("%s%d", prefix, i)
			if h, _ := addrKey(a); c.keeps(h) == kept {
				return a
			}
		}
		t.Fatalf("no address %s* kept %v", prefix, kept)
		return ""
	}
	client, used, unseen := pick("10.0.0.", false), pick("198.51.100.", true), pick("203.0.113.", false)
	c.AddFlow(flowOf(client, used, 40000, 443, "TCP"))   // kept: its address is
	c.AddFlow(flowOf(client, unseen, 40000, 443, "TCP")) // dropped: neither side is
	c.Seal()
	if hc, _ := addrKey(client); c.keeps(hc) {
		t.Fatalf("mask %x grew: %s kept", c.mask, client)
	}
	rnd := rand.New(rand.NewPCG(13, 14))
	var evs []DNS
	for _, p := range names64(rnd, 128) {
		evs = append(evs, DNS{TsNs: 1_700_000_000e9 + rnd.Int64N(3600e9), Client: client, Server: "10.0.0.53", Name: p + ".t.example", QType: 1, Size: 100, Addr: unseen})
	}
	evs = append(evs, DNS{TsNs: 1_700_000_000e9, Client: client, Server: "10.0.0.53", Name: "www.a.example", QType: 1, Size: 100, Addr: used})
	s := NewDNS(Limits{Contacts: c})
	for i := range evs {
		s.Observe(&evs[i])
	}
	for _, f := range s.Finish() {
		if f.Detector == "dns-tunnel" && (!near(f.DetectorScore, 0.4, 1e-9) || strings.Contains(f.Evidence, "resolved to")) {
			t.Errorf("a client whose contacts were sampled out judged: %.3f %q", f.DetectorScore, f.Evidence)
		}
	}
}

// names returns n distinct prefixes of 16 distinct characters each: 4 bits
// a character, 64 bits a name.
func names64(rnd *rand.Rand, n int) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		b := []byte("abcdefghijklmnop")
		rnd.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, string(b))
		}
	}
	return out
}

// contactNet is five clients, each asking 128 names of 64 bits under its own
// domain (8192 bits: a dns-tunnel score of 0.2 + 0.2·log2(8192/4096) = 0.4,
// with no modifier: A queries, under 100 bits a name, no NXDOMAIN, each
// domain one client's of fewer than 10), and ordinary names besides, with
// the flows that say whom they contacted:
//   - 10.0.0.1 contacts both its ordinary domains, never t.example's 128
//     addresses: +0.1, 0.5;
//   - 10.0.0.2 contacts one of its three ordinary domains and not
//     u.example: it leaves 3 of its 4 domains unused (a prefetching
//     browser), so none is raised: 0.4;
//   - 10.0.0.3 contacts nothing it resolved (the flows do not see it): 0.4,
//     no word of contacts;
//   - 10.0.0.4's w.example names resolve to 4 addresses, 2 of them
//     contacted: -0.1·2/4, 0.35;
//   - 10.0.0.5 contacts one of its two domains, not x.example: half is
//     enough, +0.1, 0.5.
func contactNet() ([]DNS, *Contacts) {
	rnd := rand.New(rand.NewPCG(7, 8))
	t0 := int64(1_700_000_000e9)
	var evs []DNS
	ask := func(client, name, addr string) {
		evs = append(evs, DNS{TsNs: t0 + rnd.Int64N(3600e9), Client: client, Server: "10.0.0.53", Name: name, QType: 1, Size: 100, Addr: addr})
	}
	for i, p := range names64(rnd, 128) {
		ask("10.0.0.1", p+".t.example", fmt.Sprintf("198.51.100.%d", i))
		ask("10.0.0.2", p+".u.example", fmt.Sprintf("198.51.101.%d", i))
		ask("10.0.0.3", p+".v.example", fmt.Sprintf("198.51.102.%d", i))
		ask("10.0.0.4", p+".w.example", fmt.Sprintf("203.0.113.%d", 1+i%4))
		ask("10.0.0.5", p+".x.example", fmt.Sprintf("198.51.103.%d", i))
	}
	for range 3 {
		ask("10.0.0.1", "www.a.example", "192.0.2.1")
		ask("10.0.0.1", "www.b.example", "192.0.2.2")
		ask("10.0.0.2", "www.a.example", "192.0.2.1")
		ask("10.0.0.2", "www.b.example", "192.0.2.2")
		ask("10.0.0.2", "www.c.example", "192.0.2.3")
		ask("10.0.0.3", "www.a.example", "192.0.2.1")
		ask("10.0.0.4", "www.a.example", "192.0.2.1")
		ask("10.0.0.5", "www.a.example", "192.0.2.1")
	}
	c := NewContacts(0)
	for _, f := range []*record.Flow{
		flowOf("10.0.0.1", "192.0.2.1", 40000, 443, "TCP"), flowOf("192.0.2.2", "10.0.0.1", 443, 40001, "TCP"),
		flowOf("10.0.0.2", "192.0.2.1", 40000, 443, "TCP"),
		flowOf("10.0.0.3", "10.0.0.53", 40000, 53, "UDP"), flowOf("10.0.0.3", "192.0.2.99", 40000, 443, "TCP"),
		flowOf("10.0.0.4", "203.0.113.1", 40000, 443, "TCP"), flowOf("10.0.0.4", "203.0.113.3", 40000, 443, "TCP"),
		flowOf("10.0.0.5", "192.0.2.1", 40000, 443, "TCP"),
	} {
		c.AddFlow(f)
	}
	c.Seal()
	return evs, c
}

func TestContactsModifiers(t *testing.T) {
	evs, c := contactNet()
	without, with := NewDNS(Limits{}), NewDNS(Limits{Contacts: c})
	for i := range evs {
		without.Observe(&evs[i])
		with.Observe(&evs[i])
	}
	tunnels := func(fs []record.Finding) map[string]record.Finding {
		m := map[string]record.Finding{}
		for _, f := range fs {
			if f.Detector == "dns-tunnel" {
				m[f.Subject] = f
			}
		}
		return m
	}
	before, after := tunnels(without.Finish()), tunnels(with.Finish())
	for _, c := range []struct {
		subject         string
		score           float64
		evidence, suffx string
	}{
		{"10.0.0.1 > t.example", 0.5, "; its names resolved to ~", "(128 answers), none of 8 sampled contacted"},
		{"10.0.0.2 > u.example", 0.4, "; its names resolved to ~", "(128 answers), none of 8 sampled contacted, as 3 of the 4 domains its client resolved"},
		{"10.0.0.3 > v.example", 0.4, "", ""},
		{"10.0.0.4 > w.example", 0.35, "; its names resolved to 4 addresses (128 answers), 2 contacted", ""},
		{"10.0.0.5 > x.example", 0.5, "; its names resolved to ~", "(128 answers), none of 8 sampled contacted"},
	} {
		b, a := before[c.subject], after[c.subject]
		if !near(b.DetectorScore, 0.4, 1e-9) || strings.Contains(b.Evidence, "resolved to") {
			t.Errorf("%s without contacts: %.3f %q, want 0.4 and no word of contacts", c.subject, b.DetectorScore, b.Evidence)
		}
		if !near(a.DetectorScore, c.score, 1e-9) {
			t.Errorf("%s with contacts: %.3f, want %.3f", c.subject, a.DetectorScore, c.score)
		}
		added := strings.TrimPrefix(a.Evidence, b.Evidence)
		if !strings.HasPrefix(a.Evidence, b.Evidence) || !strings.HasPrefix(added, c.evidence) || !strings.HasSuffix(added, c.suffx) || (c.evidence == "") != (added == "") {
			t.Errorf("%s: evidence %q after %q, want %q ... %q", c.subject, added, b.Evidence, c.evidence, c.suffx)
		}
	}
	// The sampled count is the sketch's estimate: 7 / (8th smallest hash / 2^32).
	pair := with.key("10.0.0.1", "t.example")
	p, _ := with.tunnels.lookup(pair)
	if want := fmt.Sprintf("~%s addresses", count(7/(float64(p.resolved.h[7])/math.Exp2(32)))); !strings.Contains(after["10.0.0.1 > t.example"].Evidence, want) {
		t.Errorf("evidence %q does not say %q", after["10.0.0.1 > t.example"].Evidence, want)
	}
}

// A resolver resolves for others: its answers are not judged, nor are
// answers of no address (blocked names) or names of no registrable domain.
func TestContactsNotJudged(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	t0 := int64(1_700_000_000e9)
	var evs []DNS
	for i, p := range names64(rnd, 128) {
		ts := t0 + int64(i)*7e9 + rnd.Int64N(5e9)
		// a resolver (it answers two clients and asks a server itself)
		evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.53", Server: "192.0.2.200", Name: p + ".t.example", QType: 1, Size: 100, Addr: "198.51.100.1"})
		evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.1", Server: "10.0.0.53", Name: p + ".t.example", QType: 1, Size: 100, Addr: "0.0.0.0"})
	}
	evs = append(evs, DNS{TsNs: t0, Client: "10.0.0.2", Server: "10.0.0.53", Name: "www.a.example", QType: 1, Size: 100, Addr: "192.0.2.1"},
		DNS{TsNs: t0, Client: "10.0.0.53", Server: "192.0.2.200", Name: "www.b.example", QType: 1, Size: 100, Addr: "192.0.2.2"},
		DNS{TsNs: t0, Client: "10.0.0.1", Server: "10.0.0.53", Name: "1.2.0.192.in-addr.arpa", QType: 12, Size: 100, Addr: "192.0.2.9"},
		DNS{TsNs: t0, Client: "10.0.0.1", Server: "10.0.0.53", Name: "www.a.example", QType: 1, Size: 100, Addr: "192.0.2.1"})
	c := NewContacts(0)
	c.AddFlow(flowOf("10.0.0.53", "192.0.2.2", 40000, 443, "TCP")) // the resolver uses one domain of two: it would be judged
	c.AddFlow(flowOf("10.0.0.1", "192.0.2.1", 40000, 443, "TCP"))
	c.Seal()
	without, with := NewDNS(Limits{}), NewDNS(Limits{Contacts: c})
	for i := range evs {
		without.Observe(&evs[i])
		with.Observe(&evs[i])
	}
	a, b := without.Finish(), with.Finish()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("findings changed by contacts:\n%+v\n%+v", a, b)
	}
	if p, _ := with.tunnels.lookup(with.key("10.0.0.1", "t.example")); p.resolved.n != 0 || p.resolved.answers != 0 {
		t.Errorf("answers 0.0.0.0 kept: %+v", p.resolved)
	}
	if len(a) == 0 {
		t.Error("no finding: the test needs the resolver's and the client's tunnel verdicts")
	}
}

// Shards with answers merge exactly, and judge with contacts as the whole.
func TestContactsStateMerges(t *testing.T) {
	evs, c := contactNet()
	whole := NewDNS(Limits{Contacts: c})
	shards := []*DNSSet{NewDNS(Limits{}), NewDNS(Limits{}), NewDNS(Limits{})}
	rnd := rand.New(rand.NewPCG(11, 12))
	for i := range evs {
		whole.Observe(&evs[i])
		shards[rnd.IntN(3)].Observe(&evs[i])
	}
	merged := readMerged(t, Limits{Contacts: c}, shards)
	if want, got := stateBytes(t, whole), stateBytes(t, merged); !bytes.Equal(got, want) {
		t.Errorf("merged state differs from the whole's (%d and %d bytes)", len(got), len(want))
	}
	if a, b := whole.Finish(), merged.Finish(); !reflect.DeepEqual(a, b) || len(a) < 4 {
		t.Errorf("merged findings:\n%+v\nwhole:\n%+v", b, a)
	}
	// A judged state's verdicts are final: contacts cannot weigh them again.
	var judged bytes.Buffer
	if err := whole.WriteJudged(&judged); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(bytes.NewReader(judged.Bytes()), Limits{Contacts: c}); err == nil || !strings.Contains(err.Error(), "--contacts") {
		t.Errorf("a judged state read with contacts: %v", err)
	}
}

// A state of version 2 (before answer addresses) still reads: its (client,
// domain) subjects have none.
func TestStateVersion2(t *testing.T) {
	s := NewDNS(Limits{})
	evs := dnsNetwork(50)
	for i := range evs {
		s.Observe(&evs[i])
	}
	v2 := rawState(2, "dns", func(e *enc) {
		e.u(formFull)
		e.i(s.w0)
		e.i(s.w1)
		encTable(e, s.tunnels, func(p *pairState, e *enc) { p.tunnelState.encode(e) })
		encTable(e, s.domains, (*tunnelState).encode)
		encTable(e, s.names, (*dnsBeacon).encode)
		encTable(e, s.beacons, (*dnsBeacon).encode)
		encTable(e, s.servers, (*serverState).encode)
	})
	back, err := ReadState(bytes.NewReader(v2), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stateBytes(t, back), stateBytes(t, s)) {
		t.Error("a version 2 state reads as another state")
	}
	if !reflect.DeepEqual(back.Finish(), s.Finish()) {
		t.Error("a version 2 state judges differently")
	}
}

// An answer address hash beyond 32 bits is a corrupt state, refused.
func TestStateAnswerHashRange(t *testing.T) {
	s := NewDNS(Limits{})
	e0 := DNS{TsNs: 1e9, Client: "10.0.0.1", Server: "10.0.0.53", Name: "www.a.example", QType: 1, Size: 100, Addr: "192.0.2.1"}
	s.Observe(&e0)
	write := func(h uint64) []byte {
		return rawState(stateVersion, "dns", func(e *enc) {
			e.u(formFull)
			e.i(s.w0)
			e.i(s.w1)
			encTable(e, s.tunnels, func(p *pairState, e *enc) {
				p.tunnelState.encode(e)
				e.u(1) // one address
				e.u(h)
				e.b(false)
				e.i(1)
			})
			encTable(e, s.domains, (*tunnelState).encode)
			encTable(e, s.names, (*dnsBeacon).encode)
			encTable(e, s.beacons, (*dnsBeacon).encode)
			encTable(e, s.servers, (*serverState).encode)
		})
	}
	if _, err := ReadState(bytes.NewReader(write(1<<32-1)), Limits{}); err != nil {
		t.Errorf("a 32-bit hash refused: %v", err)
	}
	if _, err := ReadState(bytes.NewReader(write(1<<32)), Limits{}); err == nil {
		t.Error("a 33-bit answer hash accepted")
	}
}

// rawState writes a state of any version by hand: the magic, the version,
// the kind, body, the checksum.
func rawState(version uint64, kind string, body func(*enc)) []byte {
	var buf bytes.Buffer
	e := &enc{w: bufio.NewWriter(&buf), crc: crc32.NewIEEE()}
	e.raw([]byte(stateMagic))
	e.u(version)
	e.s(kind)
	body(e)
	binary.BigEndian.PutUint32(e.buf[:4], e.crc.Sum32())
	e.w.Write(e.buf[:4])
	e.w.Flush()
	return buf.Bytes()
}
