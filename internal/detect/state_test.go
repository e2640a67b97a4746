package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Shards observed apart, written, read back and merged judge every subject
// as one pass over all the events does; equal states write equal bytes.
func TestStateMergesExactly(t *testing.T) {
	evs := dnsNetwork(300)
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, ts := range beats(rnd, 1_700_000_000e9, 40, 60, 0.2) {
		evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.9", Name: "c2.beacon.example", QType: 16, Size: 150})
	}
	whole := NewDNS(Limits{})
	shards := []*DNSSet{NewDNS(Limits{}), NewDNS(Limits{}), NewDNS(Limits{})}
	for i := range evs {
		whole.Observe(&evs[i])
		shards[rnd.IntN(3)].Observe(&evs[i])
	}
	merged := readMerged(t, Limits{}, shards).(*DNSSet)
	if want, got := stateBytes(t, whole), stateBytes(t, merged); !bytes.Equal(got, want) {
		t.Errorf("merged state differs from the whole's (%d and %d bytes)", len(got), len(want))
	}
	want, got := whole.Finish(), merged.Finish()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged findings:\n%+v\nwhole:\n%+v", got, want)
	}
	if len(want) < 2 {
		t.Fatalf("%d findings; the test needs the tunnel and the beacon", len(want))
	}
	for i := range evs {
		a, b := whole.Explain(&evs[i]), merged.Explain(&evs[i])
		if (a == nil) != (b == nil) || a != nil && *a != *b {
			t.Fatalf("event %d explained by %+v and %+v", i, a, b)
		}
	}
}

func TestFlowStateMerges(t *testing.T) {
	fs := scanAndBeacon(rand.New(rand.NewPCG(13, 14)))
	whole, a, b := NewFlow(Limits{}), NewFlow(Limits{}), NewFlow(Limits{})
	for i := range fs {
		whole.Observe(&fs[i])
		if i%2 == 0 {
			a.Observe(&fs[i])
		} else {
			b.Observe(&fs[i])
		}
	}
	var buf bytes.Buffer
	if err := b.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadState(&buf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(back); err != nil {
		t.Fatal(err)
	}
	want, got := whole.Finish(), a.Finish()
	if !reflect.DeepEqual(got, want) || len(want) < 2 {
		t.Fatalf("merged findings:\n%+v\nwhole:\n%+v", got, want)
	}
}

// A corrupt or foreign state is refused with a message, never a panic.
func TestStateCorrupt(t *testing.T) {
	s := NewDNS(Limits{})
	evs := dnsNetwork(50)
	for i := range evs {
		s.Observe(&evs[i])
	}
	var buf bytes.Buffer
	if err := s.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, bad := range [][]byte{nil, []byte("PAR1"), good[:len(good)/2], append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^1)} {
		if _, err := ReadState(bytes.NewReader(bad), Limits{}); err == nil {
			t.Errorf("state of %d bytes accepted", len(bad))
		}
	}
	flipped := append([]byte{}, good...)
	flipped[len(flipped)/2] ^= 0x40
	if _, err := ReadState(bytes.NewReader(flipped), Limits{}); err == nil {
		t.Error("a state with a flipped bit accepted")
	}
}

// FuzzReadState: any bytes give a state or an error, never a panic; a state
// read back writes the same bytes.
func FuzzReadState(f *testing.F) {
	s := NewFlow(Limits{})
	fl := Flow{TsNs: 1, EndNs: 2, Src: "a", Dst: "b", DPort: 1, Proto: "TCP", OutPkts: 1, OutBytes: 60}
	s.Observe(&fl)
	var buf bytes.Buffer
	s.WriteState(&buf)
	f.Add(buf.Bytes())
	d := NewDNS(Limits{})
	evs := dnsNetwork(20)
	for i := range evs[:200] {
		d.Observe(&evs[i])
	}
	buf.Reset()
	d.WriteState(&buf)
	f.Add(buf.Bytes())
	d.Finish()
	buf.Reset()
	d.WriteJudged(&buf)
	f.Add(buf.Bytes())
	evs, _ = contactNet() // answer addresses
	a := NewDNS(Limits{})
	for i := range evs[:100] {
		a.Observe(&evs[i])
	}
	buf.Reset()
	a.WriteState(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := ReadState(bytes.NewReader(b), Limits{Subjects: 1000})
		if err != nil {
			return
		}
		set.Finish()
		var out bytes.Buffer
		err = set.WriteState(&out)
		if errors.Is(err, errJudged) {
			out.Reset()
			err = set.WriteJudged(&out)
		}
		if err != nil {
			t.Fatal(err)
		}
		if again, err := ReadState(&out, Limits{Subjects: 1000}); err != nil {
			t.Fatalf("a state read back does not read again: %v", err)
		} else if again.Kind() != set.Kind() {
			t.Fatalf("kind %s became %s", set.Kind(), again.Kind())
		}
	})
}

// Columns name every field the detectors read: an event holding only those
// columns reads as the whole event does.
func TestColumns(t *testing.T) {
	only := func(full any, kind record.Kind) any {
		v := reflect.ValueOf(full).Elem()
		out := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("parquet"), ",")
			if slices.Contains(Columns[kind], name) {
				out.Field(i).Set(v.Field(i))
			}
		}
		return out.Addr().Interface()
	}
	f := &record.Flow{UnixTstamp: 1, TDur: 2, SIP: "10.0.0.1", DIP: "10.0.0.2", SPort: 3, DPort: 4, Proto: "TCP", Flag: "....S.",
		IPkt: 5, IByt: 6, OPkt: 7, OByt: 8, TStartNs: 9e9, TEndNs: 10e9, Source: "x", RIP: "10.0.0.9"}
	if got, want := FromFlow(only(f, record.KindFlow).(*record.Flow)), FromFlow(f); got != want {
		t.Errorf("flow from its columns %+v, whole %+v", got, want)
	}
	d := &record.DNS{UnixTstamp: 1, FrameLen: 2, IPDst: "10.0.0.1", IPSrc: "10.0.0.2", QryName: "a.example", QryType: 16,
		QryRcode: 3, A: "192.0.2.1", TsNs: 4e9, Response: true, TTL: 5}
	if got, want := FromDNS(only(d, record.KindDNS).(*record.DNS)), FromDNS(d); got != want {
		t.Errorf("DNS from its columns %+v, whole %+v", got, want)
	}
	p := &record.Proxy{ClientIP: "10.0.0.1", Host: "Example.COM", UserAgent: "ua", SCBytes: 1, CSBytes: 2, TsNs: 3e9, ReqMethod: "GET"}
	if got, want := FromProxy(only(p, record.KindProxy).(*record.Proxy)), FromProxy(p); got != want {
		t.Errorf("proxy from its columns %+v, whole %+v", got, want)
	}
}

// scanAndBeacon returns the flows of a vertical scan (10.0.0.66 probing 100
// ports of 10.0.0.9), a beacon (10.0.0.7 to 198.51.100.1:443 every 30 s)
// and 500 flows of ordinary web traffic.
func scanAndBeacon(rnd *rand.Rand) []Flow {
	t0 := int64(1_700_000_000e9)
	var fs []Flow
	for p := int32(1); p <= 100; p++ {
		fs = append(fs, Flow{TsNs: t0 + int64(p)*1e7, EndNs: t0 + int64(p)*1e7, Src: "10.0.0.66", Dst: "10.0.0.9", DPort: p, Proto: "TCP", OutBytes: 60, OutPkts: 1})
	}
	for _, ts := range beats(rnd, t0, 30, 30, 0.2) {
		fs = append(fs, Flow{TsNs: ts, EndNs: ts + 1e8, Src: "10.0.0.7", Dst: "198.51.100.1", SPort: 50000, DPort: 443, Proto: "TCP", OutBytes: 900, OutPkts: 8, InBytes: 4000, InPkts: 8})
	}
	for range 500 {
		fs = append(fs, Flow{TsNs: t0 + rnd.Int64N(1800e9), EndNs: t0 + 1800e9, Src: fmt.Sprintf("10.0.1.%d", rnd.IntN(50)), Dst: fmt.Sprintf("192.0.2.%d", rnd.IntN(30)),
			SPort: 40000, DPort: 443, Proto: "TCP", OutBytes: rnd.Int64N(1e5), OutPkts: 20, InBytes: rnd.Int64N(1e6), InPkts: 40})
	}
	return fs
}

// ObserveBatch leaves the state Observe one flow at a time leaves, also
// when the table fills and drops subjects mid-batch.
func TestObserveBatchAsOne(t *testing.T) {
	fs := append(synthFlows(20000), scanAndBeacon(rand.New(rand.NewPCG(5, 6)))...)
	for i := range fs {
		if i%3 == 0 { // unanswered, so that the scan tables fill too
			fs[i].InPkts, fs[i].InBytes, fs[i].Proto = 0, 0, "UDP"
		}
	}
	lim := Limits{Subjects: 3000}
	one, batched := NewFlow(lim), NewFlow(lim)
	for i := range fs {
		one.Observe(&fs[i])
	}
	for i := 0; i < len(fs); i += 777 {
		batched.ObserveBatch(fs[i:min(i+777, len(fs))])
	}
	if one.pairs.dropped == 0 || one.vscan.dropped == 0 {
		t.Fatalf("dropped %d pairs and %d scans: the test needs full tables", one.pairs.dropped, one.vscan.dropped)
	}
	if want, got := stateBytes(t, one), stateBytes(t, batched); !bytes.Equal(got, want) {
		t.Errorf("state after ObserveBatch differs from Observe's (%d and %d bytes)", len(got), len(want))
	}
}

// MergeState, merging a state as it reads it, leaves the bytes that
// Merge of the state read whole does, for every kind; it refuses another
// kind and judged states.
func TestMergeStateAsMerge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	dns := dnsNetwork(200)
	flows := append(synthFlows(3000), scanAndBeacon(rnd)...)
	var proxy []Proxy
	for i := range 2000 {
		proxy = append(proxy, Proxy{TsNs: int64(1_700_000_000e9) + int64(rnd.IntN(3600))*1e9, Client: fmt.Sprintf("10.0.0.%d", rnd.IntN(12)),
			Host: fmt.Sprintf("site%d.example", rnd.IntN(30)), UserAgent: fmt.Sprintf("agent/%d", i%7), Sent: int64(rnd.IntN(900)), Received: 5000})
	}
	for _, ts := range beats(rnd, 1_700_000_000e9, 60, 60, 0.1) {
		proxy = append(proxy, Proxy{TsNs: ts, Client: "10.0.0.3", Host: "c2.example", UserAgent: "updater/1.0", Sent: 200, Received: 120})
	}
	shards := func(mk func() Set, observe func(Set, int), n int) []Set {
		sets := []Set{mk(), mk(), mk()}
		for i := range n {
			observe(sets[rnd.IntN(3)], i)
		}
		return sets
	}
	kinds := map[string][]Set{
		"dns": shards(func() Set { return NewDNS(Limits{}) }, func(s Set, i int) { s.(*DNSSet).Observe(&dns[i]) }, len(dns)),
		"flow": shards(func() Set { return NewFlow(Limits{Subjects: 2000}) }, func(s Set, i int) { s.(*FlowSet).Observe(&flows[i]) },
			len(flows)),
		"proxy": shards(func() Set { return NewProxy(Limits{}) }, func(s Set, i int) { s.(*ProxySet).Observe(&proxy[i]) }, len(proxy)),
	}
	lim := Limits{Subjects: 2000}
	for kind, sets := range kinds {
		var states [][]byte
		for _, s := range sets {
			states = append(states, stateBytes(t, s))
		}
		whole, err := ReadState(bytes.NewReader(states[0]), lim)
		if err != nil {
			t.Fatal(err)
		}
		streamed, _ := ReadState(bytes.NewReader(states[0]), lim)
		for _, st := range states[1:] {
			o, err := ReadState(bytes.NewReader(st), lim)
			if err != nil {
				t.Fatal(err)
			}
			if err := whole.Merge(o); err != nil {
				t.Fatal(err)
			}
			if err := MergeState(streamed, bytes.NewReader(st)); err != nil {
				t.Fatal(err)
			}
		}
		if want, got := stateBytes(t, whole), stateBytes(t, streamed); !bytes.Equal(got, want) {
			t.Errorf("%s: MergeState's state differs from Merge's (%d and %d bytes)", kind, len(got), len(want))
		}
		if len(whole.Finish()) == 0 {
			t.Errorf("%s: no findings: the test needs some", kind)
		}
	}
	other := stateBytes(t, NewDNS(Limits{}))
	if err := MergeState(NewFlow(Limits{}), bytes.NewReader(other)); err == nil || !strings.Contains(err.Error(), "cannot merge dns detector state into flow") {
		t.Errorf("dns state merged into flows: %v", err)
	}
	f := NewFlow(Limits{})
	f.Finish()
	var j bytes.Buffer
	if err := f.WriteJudged(&j); err != nil {
		t.Fatal(err)
	}
	if err := MergeState(NewFlow(Limits{}), bytes.NewReader(j.Bytes())); !errors.Is(err, errJudged) {
		t.Errorf("judged state merged: %v", err)
	}
	judged, err := ReadState(bytes.NewReader(j.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := MergeState(judged, bytes.NewReader(stateBytes(t, NewFlow(Limits{})))); !errors.Is(err, errJudged) {
		t.Errorf("state merged into a judged one: %v", err)
	}
}

// stateBytes is s's state as WriteState writes it.
func stateBytes(t *testing.T, s Set) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteState(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readMerged writes the shards' states, reads them back with limits lim
// and merges them.
func readMerged[S Set](t *testing.T, lim Limits, shards []S) Set {
	t.Helper()
	var merged Set
	for _, sh := range shards {
		back, err := ReadState(bytes.NewReader(stateBytes(t, sh)), lim)
		if err != nil {
			t.Fatal(err)
		}
		if merged == nil {
			merged = back
		} else if err := merged.Merge(back); err != nil {
			t.Fatal(err)
		}
	}
	return merged
}
