package detect

import "testing"

// Thinning stops as soon as the beats fit: when exactly maxBeats of them
// pass the first mask, all of those are kept.
func TestBeatsThinToFit(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	var even []int64 // times whose hash passes mask 1
	var odd int64
	for i := int64(0); len(even) < maxBeats || odd == 0; i++ {
		ts := t0 + i*1e9
		if mix64(uint64(ts))&1 == 0 {
			if len(even) < maxBeats {
				even = append(even, ts)
			}
		} else if odd == 0 {
			odd = ts
		}
	}
	var b beaconState
	for _, ts := range even {
		b.add(ts, 1)
	}
	b.add(odd, 1)
	if b.mask != 1 || len(b.ts) != maxBeats || b.events != maxBeats+1 {
		t.Errorf("%d beats kept (mask %b) of %d events, want %d under mask 1", len(b.ts), b.mask, b.events, maxBeats)
	}
	// The same through a merge.
	var a, c beaconState
	for i, ts := range even {
		if i%2 == 0 {
			a.add(ts, 1)
		} else {
			c.add(ts, 1)
		}
	}
	c.add(odd, 1)
	a.merge(&c)
	if a.mask != 1 || len(a.ts) != maxBeats || a.events != maxBeats+1 {
		t.Errorf("merged: %d beats kept (mask %b) of %d events, want %d under mask 1", len(a.ts), a.mask, a.events, maxBeats)
	}
}
