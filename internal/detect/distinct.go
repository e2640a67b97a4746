package detect

import (
	"cmp"
	"slices"
)

// distinct counts distinct items (by 64-bit hash) and sums a weight over
// them, exactly up to maxExact items and by adaptive sampling above: only
// hashes whose low bits are zero under a growing mask are kept, and counts
// and sums are scaled by the sampling rate. The sample depends only on the
// set of items, never on their order, so two states merge exactly.
//
// Most subjects see one or two items (a scan of one port, a client's one
// name under a domain): the first few are kept in place, without a map of
// their own to allocate, fill and collect.
type distinct struct {
	mask  uint64 // keep hashes with h&mask == 0
	few   [fewItems]uint64
	fewW  [fewItems]float32
	nFew  uint8              // items in few (while items is nil)
	items map[uint64]float32 // kept hash -> weight, once more than fewItems were kept
}

// fewItems is how many items a distinct keeps in place.
const fewItems = 4

// maxExact is how many distinct items one subject keeps before sampling.
const maxExact = 1024

// add records item h with weight w; it reports whether h was new (and kept).
func (d *distinct) add(h uint64, w float32) bool {
	if h&d.mask != 0 {
		return false
	}
	if d.items == nil {
		for _, k := range d.few[:d.nFew] {
			if k == h {
				return false
			}
		}
		if int(d.nFew) < fewItems {
			d.few[d.nFew], d.fewW[d.nFew] = h, w
			d.nFew++
			return true
		}
		d.items = make(map[uint64]float32, 2*fewItems)
		for i, k := range d.few {
			d.items[k] = d.fewW[i]
		}
		d.few, d.fewW, d.nFew = [fewItems]uint64{}, [fewItems]float32{}, 0
	}
	if _, ok := d.items[h]; ok {
		return false
	}
	d.items[h] = w
	for len(d.items) > maxExact {
		d.thin()
	}
	return true
}

// thin halves the sampling rate, dropping the items it no longer keeps.
func (d *distinct) thin() {
	d.mask = d.mask<<1 | 1
	if d.items != nil {
		for k := range d.items {
			if k&d.mask != 0 {
				delete(d.items, k)
			}
		}
		return
	}
	n := uint8(0)
	for i, k := range d.few[:d.nFew] {
		if k&d.mask == 0 {
			d.few[n], d.fewW[n] = k, d.fewW[i]
			n++
		}
	}
	for i := n; i < d.nFew; i++ {
		d.few[i], d.fewW[i] = 0, 0
	}
	d.nFew = n
}

// len returns how many items are kept.
func (d *distinct) len() int {
	if d.items != nil {
		return len(d.items)
	}
	return int(d.nFew)
}

// kept returns the kept items and their weights, in hash order.
func (d *distinct) kept() []hashWeight {
	kw := make([]hashWeight, 0, d.len())
	if d.items == nil {
		for i, k := range d.few[:d.nFew] {
			kw = append(kw, hashWeight{k, d.fewW[i]})
		}
	}
	for k, w := range d.items {
		kw = append(kw, hashWeight{k, w})
	}
	slices.SortFunc(kw, func(a, b hashWeight) int { return cmp.Compare(a.h, b.h) })
	return kw
}

type hashWeight struct {
	h uint64
	w float32
}

// count estimates the number of distinct items.
func (d *distinct) count() float64 { return float64(d.len()) * float64(d.mask+1) }

// sum estimates the sum of the distinct items' weights.
func (d *distinct) sum() float64 {
	// sum in hash order, so the float sum is the same however the set was built
	var s float64
	for _, kw := range d.kept() {
		s += float64(kw.w)
	}
	return s * float64(d.mask+1)
}

// exact reports whether count and sum are exact.
func (d *distinct) exact() bool { return d.mask == 0 }

// merge adds o's items to d.
func (d *distinct) merge(o *distinct) {
	for o.mask > d.mask {
		d.thin()
	}
	for _, kw := range o.kept() {
		d.add(kw.h, kw.w)
	}
}
