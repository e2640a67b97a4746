package columnar

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// shortKeys maps strings of up to 16 bytes (an IPv4 address's text is 7 to
// 15) to int32s: each key is held as two words and its length, so a lookup
// hashes and compares words, not bytes (a Go map of strings spent half of
// proc.docs in its hashing and memeqbody). Longer strings are not its.
// The hash is seeded at random, as Go's maps are: the keys are addresses
// the input names, and a known hash would let it choose addresses that all
// probe the same slots.
type shortKeys struct {
	slots []shortSlot
	n     int
	shift uint // 64 - log2(len(slots))
	seed  uint64
}

type shortSlot struct {
	a, b uint64
	v    int32
	l    uint8 // the key's length + 1; 0: empty
}

// shortMax is the longest key shortKeys holds.
const shortMax = 16

// packShort holds s (len(s) <= shortMax) as two words: with its length,
// they tell it apart from any other string of up to shortMax bytes.
func packShort(s []byte) (a, b uint64) {
	switch l := len(s); {
	case l >= 8: // the first and the last eight bytes (overlapping under 16)
		return binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[l-8:])
	case l >= 4:
		return uint64(binary.LittleEndian.Uint32(s)) | uint64(binary.LittleEndian.Uint32(s[l-4:]))<<32, 0
	default:
		for i, c := range s {
			a |= uint64(c) << (8 * i)
		}
		return a, 0
	}
}

func hashShort(a, b uint64, l int, seed uint64) uint64 {
	h := (a^seed)*0x9e3779b97f4a7c15 ^ bits.RotateLeft64(b*0xc2b2ae3d27d4eb4f, 31) ^ uint64(l)
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// get returns key s's value; ok false when s is not held.
func (t *shortKeys) get(s []byte) (v int32, ok bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	a, b := packShort(s)
	l := uint8(len(s) + 1)
	mask := uint64(len(t.slots) - 1)
	for i := hashShort(a, b, len(s), t.seed) >> t.shift; ; i = (i + 1) & mask {
		e := &t.slots[i]
		if e.l == 0 {
			return 0, false
		}
		if e.a == a && e.b == b && e.l == l {
			return e.v, true
		}
	}
}

// put holds s (not held yet) with value v.
func (t *shortKeys) put(s []byte, v int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	a, b := packShort(s)
	t.insert(shortSlot{a: a, b: b, v: v, l: uint8(len(s) + 1)})
	t.n++
}

func (t *shortKeys) insert(e shortSlot) {
	mask := uint64(len(t.slots) - 1)
	i := hashShort(e.a, e.b, int(e.l)-1, t.seed) >> t.shift
	for t.slots[i].l != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = e
}

func (t *shortKeys) grow() {
	old := t.slots
	if old == nil {
		t.seed = rand.Uint64()
	}
	size := max(2*len(old), 1024)
	t.slots = make([]shortSlot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for _, e := range old {
		if e.l != 0 {
			t.insert(e)
		}
	}
}

// wordKeys maps uint64 keys below 1<<63 (proc.word's) to int32s, an
// open-addressing table a probe of which is a multiply and a compare (a
// Go map's was a third of proc.word).
type wordKeys struct {
	slots []wordSlot
	n     int
	shift uint
}

type wordSlot struct {
	k uint64 // the key + 1; 0: empty
	v int32
}

func (t *wordKeys) get(key uint64) (int32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	k := key + 1
	mask := uint64(len(t.slots) - 1)
	for i := (k * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		e := &t.slots[i]
		if e.k == k {
			return e.v, true
		}
		if e.k == 0 {
			return 0, false
		}
	}
}

// put holds key (not held yet) with value v.
func (t *wordKeys) put(key uint64, v int32) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		size := max(2*len(old), 1024)
		t.slots = make([]wordSlot, size)
		t.shift = uint(64 - bits.TrailingZeros(uint(size)))
		for _, e := range old {
			if e.k != 0 {
				t.insert(e)
			}
		}
	}
	t.insert(wordSlot{k: key + 1, v: v})
	t.n++
}

func (t *wordKeys) insert(e wordSlot) {
	mask := uint64(len(t.slots) - 1)
	i := (e.k * 0x9e3779b97f4a7c15) >> t.shift
	for t.slots[i].k != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = e
}
