package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// flowTable holds the open flows, found from either direction's 5-tuple:
// a chained hash table whose hash is the same both ways, so that a packet
// needs no canonical key. The hash is seeded, so that traffic crafted to
// collide in it cannot slow it down.
type flowTable struct {
	buckets []*flowState
	n       int
	seed    uint64
}

func newFlowTable() flowTable {
	return flowTable{buckets: make([]*flowState, 1024), seed: rand.Uint64()}
}

// hash is k's hash, the same for k and its reverse.
func (t *flowTable) hash(k *flowKey) uint64 {
	return t.endpoint(&k.src, k.sport) + t.endpoint(&k.dst, k.dport) + uint64(k.proto) + uint64(k.vnet)<<8
}

func (t *flowTable) endpoint(addr *[16]byte, port uint16) uint64 {
	lo := binary.LittleEndian.Uint64(addr[:8])
	hi := binary.LittleEndian.Uint64(addr[8:])
	h, l := bits.Mul64(lo^t.seed, hi^uint64(port)^0x9e3779b97f4a7c15)
	return h ^ l
}

// find is the flow of k, with whether k is its direction (fwd) or the
// reverse; nil if none.
func (t *flowTable) find(k *flowKey, h uint64) (f *flowState, fwd bool) {
	for f = t.buckets[h&uint64(len(t.buckets)-1)]; f != nil; f = f.hnext {
		if f.hash == h {
			if same, fwd := k.direction(&f.key); same {
				return f, fwd
			}
		}
	}
	return nil, false
}

// findFunc is find among the flows that match also satisfy: flows whose keys
// are equal but for what they hold beside the table.
func (t *flowTable) findFunc(k *flowKey, h uint64, match func(*flowState) bool) (f *flowState, fwd bool) {
	for f = t.buckets[h&uint64(len(t.buckets)-1)]; f != nil; f = f.hnext {
		if f.hash == h {
			if same, fwd := k.direction(&f.key); same && match(f) {
				return f, fwd
			}
		}
	}
	return nil, false
}

func (t *flowTable) insert(f *flowState, h uint64) {
	if t.n >= len(t.buckets) {
		t.grow()
	}
	i := h & uint64(len(t.buckets)-1)
	f.hash, f.hnext = h, t.buckets[i]
	t.buckets[i] = f
	t.n++
}

func (t *flowTable) remove(f *flowState) {
	p := &t.buckets[f.hash&uint64(len(t.buckets)-1)]
	for *p != f {
		p = &(*p).hnext
	}
	*p, f.hnext = f.hnext, nil
	t.n--
}

func (t *flowTable) grow() {
	old := t.buckets
	t.buckets = make([]*flowState, 2*len(old))
	mask := uint64(len(t.buckets) - 1)
	for _, f := range old {
		for f != nil {
			next := f.hnext
			i := f.hash & mask
			f.hnext, t.buckets[i] = t.buckets[i], f
			f = next
		}
	}
}
