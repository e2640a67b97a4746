package detect

import (
	"cmp"
	"math/bits"
	"slices"
)

// distinct counts distinct items (by 64-bit hash) and sums a weight over
// them, exactly up to maxExact items and by adaptive sampling above: only
// hashes whose low bits are zero under a growing mask are kept, and counts
// and sums are scaled by the sampling rate. The sample depends only on the
// set of items, never on their order, so two states merge exactly.
//
// Most subjects see one or two items (a scan of one port, a client's one
// name under a domain): the first few are kept in place, without a table
// of their own to allocate, fill and collect. Past them the items go to an
// open-addressing table. The hashes are uniform already, so a hash's slot
// is its top bits (no hashing again, as a Go map would), and a zero hash
// marks an empty slot: the item whose hash is zero is kept in few[0].
type distinct struct {
	mask  uint64 // keep hashes with h&mask == 0
	few   [fewItems]uint64
	fewW  [fewItems]float32
	nFew  uint8  // items in few: up to fewItems while slots is nil, then 0 or 1 (the zero hash)
	n     uint32 // items in slots
	slots []hashWeight
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
	if _, added := d.ref(h, w); !added {
		return false
	}
	for d.len() > maxExact {
		d.thin()
	}
	return true
}

// ref finds item h, adding it with weight w when it is new, and returns
// its weight and whether it was added.
func (d *distinct) ref(h uint64, w float32) (*float32, bool) {
	if d.slots == nil {
		for i, k := range d.few[:d.nFew] {
			if k == h {
				return &d.fewW[i], false
			}
		}
		if int(d.nFew) < fewItems {
			d.few[d.nFew], d.fewW[d.nFew] = h, w
			d.nFew++
			return &d.fewW[d.nFew-1], true
		}
		few, fewW := d.few, d.fewW
		d.few, d.fewW, d.nFew = [fewItems]uint64{}, [fewItems]float32{}, 0
		d.slots = make([]hashWeight, 4*fewItems)
		for i, k := range few {
			d.insert(k, fewW[i])
		}
	}
	return d.insert(h, w)
}

// insert is ref once the items are in the table.
func (d *distinct) insert(h uint64, w float32) (*float32, bool) {
	if h == 0 {
		if d.nFew == 1 {
			return &d.fewW[0], false
		}
		d.few[0], d.fewW[0], d.nFew = 0, w, 1
		return &d.fewW[0], true
	}
	end := uint64(len(d.slots) - 1)
	i := h >> (64 - bits.TrailingZeros(uint(len(d.slots))))
	for {
		s := &d.slots[i]
		if s.h == h {
			return &s.w, false
		}
		if s.h == 0 {
			s.h, s.w = h, w
			d.n++
			if int(d.n)*4 > len(d.slots)*3 {
				d.rebuild(2 * len(d.slots))
				p, _ := d.insert(h, w)
				return p, true
			}
			return &s.w, true
		}
		i = (i + 1) & end
	}
}

// rebuild moves the table's kept items (h&mask == 0) into a table of size
// slots.
func (d *distinct) rebuild(size int) {
	old := d.slots
	d.slots, d.n = make([]hashWeight, size), 0
	for _, s := range old {
		if s.h != 0 && s.h&d.mask == 0 {
			d.insert(s.h, s.w)
		}
	}
}

// thin halves the sampling rate, dropping the items it no longer keeps.
func (d *distinct) thin() {
	d.mask = d.mask<<1 | 1
	if d.slots != nil {
		d.rebuild(len(d.slots)) // the zero hash, in few[0], is always kept
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
func (d *distinct) len() int { return int(d.n) + int(d.nFew) }

// kept returns the kept items and their weights, in hash order.
func (d *distinct) kept() []hashWeight {
	kw := make([]hashWeight, 0, d.len())
	for i, k := range d.few[:d.nFew] {
		kw = append(kw, hashWeight{k, d.fewW[i]})
	}
	for _, s := range d.slots {
		if s.h != 0 {
			kw = append(kw, s)
		}
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
