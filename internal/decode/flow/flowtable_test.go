package flow

import (
	"math/rand/v2"
	"testing"
)

// TestFlowTable: flows are found from either direction, told apart by
// every part of their 5-tuple, and gone once removed, through the table's
// growth and in chains that share a bucket.
func TestFlowTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randKey := func() flowKey {
		var k flowKey
		k.v4 = rng.IntN(2) == 0
		for _, a := range []*[16]byte{&k.src, &k.dst} {
			if k.v4 { // IPv4-mapped, few hosts: many flows share addresses
				a[10], a[11], a[12], a[15] = 0xff, 0xff, 10, byte(rng.IntN(8))
			} else {
				for i := range a {
					a[i] = byte(rng.Uint32())
				}
			}
		}
		k.sport, k.dport = uint16(rng.IntN(50)), uint16(rng.IntN(50))
		k.proto = []uint8{6, 17, 1}[rng.IntN(3)]
		return k
	}
	reverse := func(k flowKey) flowKey {
		k.src, k.dst, k.sport, k.dport = k.dst, k.src, k.dport, k.sport
		return k
	}
	for _, seed := range []uint64{0, rng.Uint64()} {
		tab := newFlowTable()
		tab.seed = seed
		held := map[flowKey]*flowState{}
		for len(held) < 20000 {
			k := randKey()
			if held[k] != nil || held[reverse(k)] != nil {
				continue
			}
			f := &flowState{key: k}
			if got, _ := tab.find(&k, tab.hash(&k)); got != nil {
				t.Fatalf("%+v found before it was added", k)
			}
			tab.insert(f, tab.hash(&k))
			held[k] = f
		}
		check := func() {
			t.Helper()
			if tab.n != len(held) {
				t.Fatalf("table holds %d, want %d", tab.n, len(held))
			}
			for k, f := range held {
				r := reverse(k)
				if got, fwd := tab.find(&k, tab.hash(&k)); got != f || !fwd {
					t.Fatalf("%+v: found %p fwd %v, want %p fwd", k, got, fwd, f)
				}
				if got, fwd := tab.find(&r, tab.hash(&r)); got != f || (fwd && r != k) {
					t.Fatalf("%+v reversed: found %p fwd %v, want %p", k, got, fwd, f)
				}
				other := k
				other.proto ^= 0x80
				if got, _ := tab.find(&other, tab.hash(&other)); got != nil {
					t.Fatalf("%+v found under another protocol", k)
				}
			}
		}
		check()
		i := 0
		for k, f := range held {
			if i++; i%2 == 0 {
				tab.remove(f)
				delete(held, k)
				if got, _ := tab.find(&k, tab.hash(&k)); got != nil {
					t.Fatalf("%+v found after its removal", k)
				}
			}
		}
		check()
	}
}
