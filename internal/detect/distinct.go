package detect

import "sort"

// distinct counts distinct items (by 64-bit hash) and sums a weight over
// them, exactly up to maxExact items and by adaptive sampling above: only
// hashes whose low bits are zero under a growing mask are kept, and counts
// and sums are scaled by the sampling rate. The sample depends only on the
// set of items, never on their order, so two states merge exactly.
type distinct struct {
	mask  uint64             // keep hashes with h&mask == 0
	items map[uint64]float32 // kept hash -> weight
}

// maxExact is how many distinct items one subject keeps before sampling.
const maxExact = 1024

// add records item h with weight w; it reports whether h was new (and kept).
func (d *distinct) add(h uint64, w float32) bool {
	if h&d.mask != 0 {
		return false
	}
	if d.items == nil {
		d.items = make(map[uint64]float32, 4)
	}
	if _, ok := d.items[h]; ok {
		return false
	}
	d.items[h] = w
	for len(d.items) > maxExact {
		d.mask = d.mask<<1 | 1
		for k := range d.items {
			if k&d.mask != 0 {
				delete(d.items, k)
			}
		}
	}
	return true
}

// count estimates the number of distinct items.
func (d *distinct) count() float64 { return float64(len(d.items)) * float64(d.mask+1) }

// sum estimates the sum of the distinct items' weights.
func (d *distinct) sum() float64 {
	// sum in hash order, so the float sum is the same however the set was built
	keys := make([]uint64, 0, len(d.items))
	for k := range d.items {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var s float64
	for _, k := range keys {
		s += float64(d.items[k])
	}
	return s * float64(d.mask+1)
}

// exact reports whether count and sum are exact.
func (d *distinct) exact() bool { return d.mask == 0 }

// merge adds o's items to d.
func (d *distinct) merge(o *distinct) {
	for o.mask > d.mask {
		d.mask = d.mask<<1 | 1
		for k := range d.items {
			if k&d.mask != 0 {
				delete(d.items, k)
			}
		}
	}
	for k, w := range o.items {
		d.add(k, w)
	}
}
