package pcap

import (
	"net/netip"
	"sort"
)

// Bounds of the IP fragment reassembler.
const (
	MaxPendingFrags = 4096     // datagrams being reassembled at once
	MaxPendingBytes = 32 << 20 // bytes of fragments held at once
	FragTimeout     = 60e9     // ns of capture time a datagram may wait for its fragments
	maxDatagram     = 65535    // longest reassembled payload
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	ver      uint8
}

type fragPart struct {
	off  int
	data []byte
}

type fragDgram struct {
	parts []fragPart
	total int // payload length, -1 until the last fragment is seen
	bytes int
	first int64
	gen   uint64
}

type queued struct {
	key fragKey
	gen uint64
}

type reassembler struct {
	m       map[fragKey]*fragDgram
	queue   []queued
	head    int
	bytes   int
	gen     uint64
	evicted int
	buf     []byte
}

func newReassembler() *reassembler {
	return &reassembler{m: make(map[fragKey]*fragDgram)}
}

// add adds one fragment of p's datagram. When it completes the datagram it
// returns the reassembled payload (valid until the next call) and the
// number of fragments.
func (r *reassembler) add(p *Packet, off int, mf bool, payload []byte) ([]byte, int, bool, error) {
	end := off + len(payload)
	if end > maxDatagram || (mf && len(payload) == 0) {
		return nil, 0, false, errBadFragment
	}
	r.expire(p.TsNs, len(payload))
	k := fragKey{p.Src, p.Dst, p.FragID, p.Proto, p.IPVer}
	d := r.m[k]
	if d == nil {
		r.gen++
		d = &fragDgram{total: -1, first: p.TsNs, gen: r.gen}
		r.m[k] = d
		r.queue = append(r.queue, queued{k, r.gen})
	}
	d.parts = append(d.parts, fragPart{off, append([]byte(nil), payload...)})
	d.bytes += len(payload)
	r.bytes += len(payload)
	if !mf && d.total < 0 {
		d.total = end
	}
	if d.total < 0 {
		return nil, 0, false, nil
	}
	sort.SliceStable(d.parts, func(i, j int) bool { return d.parts[i].off < d.parts[j].off })
	covered := 0
	for _, fp := range d.parts {
		if fp.off > covered {
			return nil, 0, false, nil
		}
		if e := fp.off + len(fp.data); e > covered {
			covered = e
		}
	}
	if covered < d.total {
		return nil, 0, false, nil
	}
	if cap(r.buf) < d.total {
		r.buf = make([]byte, d.total, maxDatagram)
	}
	buf := r.buf[:d.total]
	// On overlap the fragment with the lower offset wins.
	for i := len(d.parts) - 1; i >= 0; i-- {
		fp := d.parts[i]
		if fp.off < d.total {
			copy(buf[fp.off:], fp.data)
		}
	}
	n := len(d.parts)
	r.drop(k, d)
	return buf, n, true, nil
}

func (r *reassembler) drop(k fragKey, d *fragDgram) {
	r.bytes -= d.bytes
	delete(r.m, k)
}

// expire evicts datagrams older than FragTimeout, and the oldest ones while
// the bounds would be exceeded by adding n bytes.
func (r *reassembler) expire(now int64, n int) {
	for r.head < len(r.queue) {
		q := r.queue[r.head]
		d := r.m[q.key]
		if d == nil || d.gen != q.gen {
			r.head++
			continue
		}
		if now-d.first > FragTimeout || len(r.m) >= MaxPendingFrags || r.bytes+n > MaxPendingBytes {
			r.drop(q.key, d)
			r.evicted++
			r.head++
			continue
		}
		break
	}
	if r.head > 1024 && r.head*2 > len(r.queue) {
		r.queue = append(r.queue[:0], r.queue[r.head:]...)
		r.head = 0
	}
}
