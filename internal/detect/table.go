package detect

import (
	"iter"
	"math/rand/v2"
)

// table holds per-subject state keyed by a 64-bit hash of the subject, at
// most max subjects. When it is full, a new subject first makes room by
// lossy counting: the subjects seen at most k times are dropped, k rising
// from 1 until a quarter of the table is free. Busy subjects (the heavy
// hitters, where detectors find tunnels, beacons and scans) stay; what was
// dropped is counted so that Finish can say so.
//
// Most subjects of a busy network are seen once or twice. A table made
// with a doorkeeper (withDoorkeeper) lets a new subject in, once it has
// had to shrink, only at its second event within a window, as TinyLFU's
// doorkeeper does: each one-off let in would only have taken a slot until
// the next shrink dropped it again, and filling and dropping its state was
// most of the cost of a flood of one-off subjects. What it turns away is
// counted as dropped. Measured on 10M flows each its own pair: spot detect
// 5.3 -> 4.2 CPU s, 428 -> 354 MB; on a 20M-flow day (18M pairs) 27.8 ->
// 21.2 CPU s, and against what a table keeping every pair found there
// (235 beacons, 18 brute-force, 71 scans, 49 long connections), beacons
// found 113 -> 100, brute-force 17 -> 15, scans and long connections all
// either way: what an overflowing table finds was a matter of which
// subjects it happened to hold, with or without. And a subject must cost
// little: states live in chunks that never move, found through
// an open-addressing index of the subject hashes (one probe sequence to
// find or add a subject, no pointers for the garbage collector to scan),
// and are walked in memory order.
type table[S any] struct {
	max     int
	events  func(*S) int64 // how many events a state has seen
	dropped int64          // subjects dropped to stay within max

	index []entry // by linear probing on the subject hash
	seed  uint64  // mixed into the probe's start: input cannot choose where subjects go
	n     int     // subjects held
	keys  [][]uint64
	live  [][]bool // whether a slot holds a subject
	chunk [][]S    // states by slot
	free  []int32  // free slots

	door    *doorkeeper // nil: every new subject gets in
	crowded bool        // whether the table has had to shrink
}

// entry is a subject hash and the slot of its state, plus one (0: an
// empty entry).
type entry struct {
	h    uint64
	slot int32
}

const chunkBits = 10

func newTable[S any](max int, events func(*S) int64) *table[S] {
	return &table[S]{max: max, events: events, index: make([]entry, 1024), seed: rand.Uint64()}
}

// withDoorkeeper gives t a doorkeeper, sized at its first use to the most
// subjects t then keeps.
func (t *table[S]) withDoorkeeper() *table[S] {
	t.door = &doorkeeper{}
	return t
}

func (t *table[S]) slot(i int32) *S { return &t.chunk[i>>chunkBits][i&(1<<chunkBits-1)] }

// len returns how many subjects the table holds.
func (t *table[S]) len() int { return t.n }

// find returns where subject h is in the index, or where it would go.
// Subject hashes come from names an attacker may choose (unseeded XXH3), so
// the probe starts at a seeded mix of them, as Go's own maps do.
func (t *table[S]) find(h uint64) int {
	mask := len(t.index) - 1
	for p := int(mix64(h^t.seed)) & mask; ; p = (p + 1) & mask {
		if e := &t.index[p]; e.slot == 0 || e.h == h {
			return p
		}
	}
}

// touch loads the index entry where subject h's probe starts, and the
// doorkeeper's word of h once it is at work, so that a get soon after
// finds them in the cache; it returns what it loaded only for the caller
// to keep.
func (t *table[S]) touch(h uint64) uint64 {
	x := t.index[int(mix64(h^t.seed))&(len(t.index)-1)].h
	if t.crowded && t.door != nil && t.door.bits != nil {
		x ^= t.door.bits[mix64(h)&uint64(len(t.door.bits)-1)] // the doorkeeper's word, as again will read it
	}
	return x
}

// get returns the state of subject h, made by mk when h is new (mk may use
// the subject's strings; it is only called for new subjects), or nil when
// the doorkeeper turns h away.
func (t *table[S]) get(h uint64, mk func() S) *S {
	return t.getInPlace(h, func(s *S) { *s = mk() })
}

// getInPlace is get whose init makes a new subject's state in its slot,
// which holds the state of a subject dropped before (or a zero state), so
// that init may keep that state's buffers. It returns nil when the
// doorkeeper turns the subject away.
func (t *table[S]) getInPlace(h uint64, init func(*S)) *S {
	if e := &t.index[t.find(h)]; e.slot != 0 {
		return t.slot(e.slot - 1)
	}
	if t.crowded && t.door != nil && !t.door.again(h, t.max) {
		t.dropped++
		return nil
	}
	s := t.add(h)
	init(s)
	return s
}

// lookup returns the state of subject h, if the table holds it.
func (t *table[S]) lookup(h uint64) (*S, bool) {
	if e := &t.index[t.find(h)]; e.slot != 0 {
		return t.slot(e.slot - 1), true
	}
	return nil, false
}

// add makes room for a new subject h and returns its slot, whose state the
// caller sets whole.
func (t *table[S]) add(h uint64) *S {
	if t.n >= t.max {
		t.shrink()
	}
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		n := len(t.chunk)
		if n == 0 || len(t.chunk[n-1]) == 1<<chunkBits {
			t.chunk = append(t.chunk, populate(make([]S, 0, 1<<chunkBits)))
			t.keys = append(t.keys, populate(make([]uint64, 1<<chunkBits)))
			t.live = append(t.live, make([]bool, 1<<chunkBits))
			n++
		}
		c := &t.chunk[n-1]
		i = int32((n-1)<<chunkBits + len(*c))
		*c = (*c)[:len(*c)+1]
	}
	t.keys[i>>chunkBits][i&(1<<chunkBits-1)] = h
	t.live[i>>chunkBits][i&(1<<chunkBits-1)] = true
	t.n++
	if 2*t.n > len(t.index) {
		t.rebuild(2 * len(t.index))
	}
	t.index[t.find(h)] = entry{h, i + 1}
	return t.slot(i)
}

// rebuild makes an index of size entries (a power of two) of the subjects
// held.
func (t *table[S]) rebuild(size int) {
	if size == len(t.index) {
		clear(t.index) // its pages are mapped: new ones would be faulted in again
	} else {
		t.index = populate(make([]entry, size))
	}
	for c, keys := range t.keys {
		for i, h := range keys {
			if t.live[c][i] {
				t.index[t.find(h)] = entry{h, int32(c<<chunkBits+i) + 1}
			}
		}
	}
}

// all yields every subject and its state, in memory order.
func (t *table[S]) all() iter.Seq2[uint64, *S] {
	return func(yield func(uint64, *S) bool) {
		for c, keys := range t.keys {
			states, live := t.chunk[c], t.live[c]
			for i, h := range keys[:len(states)] {
				if live[i] && !yield(h, &states[i]) {
					return
				}
			}
		}
	}
}

// shrink drops the least active subjects until a quarter of the table is
// free. A dropped state stays as it was until its slot is taken again,
// when add's caller overwrites it whole.
func (t *table[S]) shrink() {
	t.crowded = true
	for k := int64(1); t.n > t.max*3/4; k++ {
		for c := range t.chunk {
			states, live := t.chunk[c], t.live[c]
			for i := range states {
				if live[i] && t.events(&states[i]) <= k {
					live[i] = false
					t.free = append(t.free, int32(c<<chunkBits+i))
					t.n--
					t.dropped++
				}
			}
		}
	}
	t.rebuild(len(t.index))
}

// merge adds o's subjects to t, combining the states of subjects in both.
func (t *table[S]) merge(o *table[S], combine func(dst, src *S)) {
	size := len(t.index)
	for 2*min(t.n+o.n, t.max) > size {
		size *= 2
	}
	if size > len(t.index) {
		t.rebuild(size) // once, not at every doubling
	}
	for h, s := range o.all() {
		if d, ok := t.lookup(h); ok {
			combine(d, s)
			continue
		}
		*t.add(h) = *s
	}
	t.dropped += o.dropped
}

// setMax sets the most subjects t keeps to max (at least what it holds).
func (t *table[S]) setMax(max int) { t.max = max }

// forget drops every subject, and what they held, as a new table of the
// same limit; what dropped counts stays.
func (t *table[S]) forget() {
	t.index, t.n, t.keys, t.live, t.chunk, t.free = make([]entry, 1024), 0, nil, nil, nil, nil
	if t.door != nil {
		t.door, t.crowded = &doorkeeper{}, false
	}
}

// doorkeeper remembers which subjects were seen lately: a Bloom filter of
// 16 bits a subject that the table keeps, two of them set by each subject
// in one 64-bit word (one cache line to load), cleared once it has been
// told of as many subjects as the table keeps, about as long as a one-off
// subject stayed in the table before a shrink dropped it. Then 12% of its
// bits are set, and under 2% of new subjects get in at their first event.
// Where the bits are depends on the subject's hash alone, so that what is
// turned away depends only on the input.
type doorkeeper struct {
	bits   []uint64
	n, max int // subjects told since the filter was cleared, and how many it takes
}

// again reports whether subject h was seen since the filter was last
// cleared, and remembers it; subjects is how many the table keeps.
func (d *doorkeeper) again(h uint64, subjects int) bool {
	if d.bits == nil {
		words := 1
		for 4*words < subjects {
			words *= 2
		}
		d.bits, d.max = make([]uint64, words), max(1, subjects)
	}
	x := mix64(h)
	w := &d.bits[x&uint64(len(d.bits)-1)]
	b := uint64(1)<<(x>>52&63) | uint64(1)<<(x>>58)
	if *w&b == b {
		return true
	}
	*w |= b
	if d.n++; d.n == d.max {
		clear(d.bits)
		d.n = 0
	}
	return false
}
