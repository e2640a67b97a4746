package detect

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDistinctTable checks distinct against a Go map doing the same
// sampling: every add's answer and the items kept, through the in-place
// items, the table's growth, thinning, the zero hash and hashes that share
// their top bits (one slot, probed in turn).
func TestDistinctTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		next func() uint64
	}{
		{"uniform", rng.Uint64},
		{"few values", func() uint64 { return mix64(rng.Uint64N(300)) }},
		{"zero and neighbours", func() uint64 { return rng.Uint64N(40) }},              // one slot: top bits all zero
		{"shared top bits", func() uint64 { return 0xabc<<52 | rng.Uint64N(3000)<<8 }}, // one slot, low bits thinned
		{"many", func() uint64 { return mix64(rng.Uint64N(5000)) }},
	} {
		var d distinct
		want := map[uint64]float32{}
		var mask uint64
		for i := range 20000 {
			h := c.next()
			w := float32(i)
			_, had := want[h]
			wantAdded := h&mask == 0 && !had
			if wantAdded {
				want[h] = w
				for len(want) > maxExact {
					mask = mask<<1 | 1
					maps.DeleteFunc(want, func(k uint64, _ float32) bool { return k&mask != 0 })
				}
			}
			if got := d.add(h, w); got != wantAdded {
				t.Fatalf("%s: add %d (%#x): %v, want %v", c.name, i, h, got, wantAdded)
			}
		}
		var kw []hashWeight
		for _, k := range slices.Sorted(maps.Keys(want)) {
			kw = append(kw, hashWeight{k, want[k]})
		}
		if d.mask != mask || d.len() != len(want) || !slices.Equal(d.kept(), kw) {
			t.Errorf("%s: mask %#x, %d kept; want %#x, %d", c.name, d.mask, d.len(), mask, len(want))
		}
	}
}
