package detect

import (
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// FlowParts joined holds the subjects one FlowSet holds, each in the same
// state, when no table filled up; a batch it hands back is one no part
// still reads.
func TestFlowPartsAsOne(t *testing.T) {
	fs := append(synthFlows(20000), scanAndBeacon(rand.New(rand.NewPCG(7, 8)))...)
	for i := range fs {
		if i%3 == 0 { // unanswered, so that the scan tables are split too
			fs[i].InPkts, fs[i].InBytes, fs[i].Proto = 0, 0, "UDP"
		}
	}
	one := NewFlow(Limits{})
	one.ObserveBatch(fs)
	for _, n := range []int{1, 2, 3} {
		parts := NewFlowParts(Limits{}, n)
		var spare []Flow
		for i := 0; i < len(fs); i += 1000 { // as a reader would: into the buffers handed back
			spare = parts.ObserveBatch(append(spare[:0], fs[i:min(i+1000, len(fs))]...))
		}
		got := parts.Join()
		if got.w0 != one.w0 || got.w1 != one.w1 {
			t.Errorf("%d parts: window %d-%d, want %d-%d", n, got.w0, got.w1, one.w0, one.w1)
		}
		sameTable(t, "pairs", got.pairs, one.pairs)
		sameTable(t, "vertical scans", got.vscan, one.vscan)
		sameTable(t, "horizontal scans", got.hscan, one.hscan)
		if got.lim.Subjects != one.lim.Subjects || got.pairs.max != one.pairs.max {
			t.Errorf("%d parts: joined limit %d (pairs %d), want %d", n, got.lim.Subjects, got.pairs.max, one.lim.Subjects)
		}
	}
}

func sameTable[S any](t *testing.T, name string, got, want *table[S]) {
	t.Helper()
	if got.len() != want.len() {
		t.Errorf("%s: %d subjects, want %d", name, got.len(), want.len())
	}
	for h, w := range want.all() {
		if g, ok := got.lookup(h); !ok {
			t.Errorf("%s: subject %x missing", name, h)
		} else if !reflect.DeepEqual(*g, *w) {
			t.Errorf("%s: subject %x is %+v, want %+v", name, h, *g, *w)
		}
	}
}

// Parts share the limit on subjects: each keeps its share, and the joined
// set counts what all of them dropped.
func TestFlowPartsLimit(t *testing.T) {
	fs := synthFlows(20000)
	parts := NewFlowParts(Limits{Subjects: 1000}, 2)
	parts.ObserveBatch(fs)
	got := parts.Join()
	if got.pairs.len() > 1000 || got.pairs.dropped == 0 {
		t.Errorf("joined %d pairs, dropped %d; want at most 1000, some dropped", got.pairs.len(), got.pairs.dropped)
	}
}

// A pair that takes the slot of a dropped one starts with none of its
// beats.
func TestFlowSlotReused(t *testing.T) {
	s := NewFlow(Limits{Subjects: 4})
	flow := func(dst string, at int64) Flow {
		return Flow{TsNs: at, EndNs: at + 1e9, Src: "10.0.0.1", Dst: dst, DPort: 443, Proto: "TCP", OutBytes: 500, OutPkts: 5, InBytes: 900, InPkts: 5}
	}
	t0 := int64(1_700_000_000e9)
	for i, dst := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		f := flow(dst, t0+int64(i)*1e9)
		s.Observe(&f)
	}
	var want []int64
	for i := range 3 { // the first fills the table: the four above are dropped
		at := t0 + int64(100+i)*1e9
		f := flow("198.51.100.9", at)
		s.Observe(&f)
		want = append(want, at)
	}
	if s.pairs.dropped != 4 || len(s.pairs.free) == 0 && s.pairs.len() != 1 {
		t.Fatalf("dropped %d, %d pairs held: the test needs the four dropped", s.pairs.dropped, s.pairs.len())
	}
	var k flowKeys
	f := flow("198.51.100.9", 0)
	s.keys(&f, &k)
	p, ok := s.pairs.lookup(k.pair)
	if !ok {
		t.Fatal("the new pair is not held")
	}
	if !reflect.DeepEqual(p.ts, want) || p.conns != 3 || p.dst != "198.51.100.9" {
		t.Errorf("the new pair has beats %v and %d connections to %s, want %v and 3 to 198.51.100.9", p.ts, p.conns, p.dst, want)
	}
}

// DNSParts joined holds the subjects one DNSSet holds, each in the same
// state, and judges them the same.
func TestDNSPartsAsOne(t *testing.T) {
	es := dnsNetwork(300)
	one := NewDNS(Limits{})
	for i := range es {
		one.Observe(&es[i])
	}
	for _, n := range []int{1, 2, 3} {
		parts := NewDNSParts(Limits{}, n)
		var spare []DNS
		for i := 0; i < len(es); i += 500 {
			spare = parts.ObserveBatch(append(spare[:0], es[i:min(i+500, len(es))]...))
		}
		got := parts.Join()
		if got.w0 != one.w0 || got.w1 != one.w1 {
			t.Errorf("%d parts: window %d-%d, want %d-%d", n, got.w0, got.w1, one.w0, one.w1)
		}
		sameTable(t, "tunnels", got.tunnels, one.tunnels)
		sameTable(t, "domains", got.domains, one.domains)
		sameTable(t, "names", got.names, one.names)
		sameTable(t, "beacons", got.beacons, one.beacons)
		sameTable(t, "servers", got.servers, one.servers)
		if got.lim.Subjects != one.lim.Subjects || got.names.max != one.names.max {
			t.Errorf("%d parts: joined limit %d (names %d), want %d", n, got.lim.Subjects, got.names.max, one.lim.Subjects)
		}
	}
	if got, want := fmt.Sprint(dnsPartsJoined(es).Finish()), fmt.Sprint(one.Finish()); got != want || len(one.all) == 0 {
		t.Errorf("findings of 2 parts joined:\n%s\nwant:\n%s", got, want)
	}
}

// dnsPartsJoined observes es in 2 parts and joins them.
func dnsPartsJoined(es []DNS) *DNSSet {
	p := NewDNSParts(Limits{}, 2)
	p.ObserveBatch(append([]DNS(nil), es...))
	return p.Join()
}

// Forget leaves every explanation as it was and drops the subjects: the
// set is then judged, and its state cannot be written.
func TestForget(t *testing.T) {
	fs := flowNet()
	s := NewFlow(Limits{Report: 0.01})
	s.ObserveBatch(fs)
	s.Finish()
	var before []string
	for _, f := range fs {
		before = append(before, fmt.Sprint(s.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)))
	}
	s.Forget()
	for i, f := range fs {
		if got := fmt.Sprint(s.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)); got != before[i] {
			t.Fatalf("flow %d explained as %s after Forget, %s before", i, got, before[i])
		}
	}
	if s.pairs.len() != 0 || s.vscan.len() != 0 || s.hscan.len() != 0 || !strings.Contains(fmt.Sprint(before), "beacon") {
		t.Errorf("after Forget: %d pairs, %d and %d scans held (want none); explanations %v", s.pairs.len(), s.vscan.len(), s.hscan.len(), before)
	}
	if err := s.WriteState(io.Discard); err == nil {
		t.Error("a forgotten set wrote its state")
	}
}
