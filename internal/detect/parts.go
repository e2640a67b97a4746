package detect

import (
	"math/rand/v2"
	"sync"
)

// InFlight is how many batches a FlowParts or DNSParts may hold, still
// being observed, when ObserveBatch returns: enough that a part slower on
// some batches (new subjects come in bursts) does not hold up the others
// or the reader. 16 against 4: spot detect of 10M flows 4.21 -> 3.84 s,
// of 5.1M DNS records 3.64 -> 3.26 s (idle, medians of 3).
const InFlight = 16

// fanout hands batches of events E, with their subjects' keys K made once
// on the caller's goroutine, to n parts observing on n goroutines, each
// every event in input order.
type fanout[E, K any] struct {
	work  []chan *batch[E, K]
	queue []*batch[E, K] // in flight, oldest first
	spare [][]K
}

type batch[E, K any] struct {
	events []E
	keys   []K
	done   sync.WaitGroup
}

// newFanout starts n goroutines, the i-th observing batches with observe(i, ...).
func newFanout[E, K any](n int, observe func(i int, events []E, keys []K)) *fanout[E, K] {
	f := &fanout[E, K]{}
	for i := range n {
		work := make(chan *batch[E, K], InFlight)
		f.work = append(f.work, work)
		go func() {
			for b := range work {
				observe(i, b.events, b.keys)
				b.done.Done()
			}
		}()
	}
	return f
}

// hand makes the keys of es with key, hands es to the parts and returns
// while they observe it, with a batch handed over before that every part
// has observed (nil until InFlight batches are in flight): until it comes
// back, the caller leaves es as it is.
func (f *fanout[E, K]) hand(es []E, key func(*E, *K)) (free []E) {
	if len(f.queue) == InFlight {
		free = f.wait()
	}
	b := &batch[E, K]{events: es}
	if n := len(f.spare); n > 0 {
		b.keys, f.spare = f.spare[n-1][:0], f.spare[:n-1]
	}
	var zero K
	for i := range es {
		b.keys = append(b.keys, zero)
		key(&es[i], &b.keys[i])
	}
	b.done.Add(len(f.work))
	f.queue = append(f.queue, b)
	for _, w := range f.work {
		w <- b
	}
	return free
}

// wait waits for the oldest batch in flight and returns its events.
func (f *fanout[E, K]) wait() []E {
	b := f.queue[0]
	f.queue = f.queue[1:]
	b.done.Wait()
	f.spare = append(f.spare, b.keys)
	return b.events
}

// settle returns once every batch handed over is observed.
func (f *fanout[E, K]) settle() {
	for len(f.queue) > 0 {
		f.wait()
	}
}

// stop settles and stops the goroutines.
func (f *fanout[E, K]) stop() {
	f.settle()
	for _, w := range f.work {
		close(w)
	}
}

// part is which share of the subjects a set keeps: those whose hash
// modulo n is i; the zero part (n 0 or 1) keeps them all.
type part struct{ i, n uint64 }

// mine reports whether the part keeps subject h.
func (p part) mine(h uint64) bool { return p.n <= 1 || h%p.n == p.i }

// share is a part's share of the limit on subjects.
func share(lim Limits, n int) Limits {
	lim.Subjects = max(1, lim.Subjects/n)
	return lim
}

// FlowParts observes flows on several goroutines: each part is a FlowSet
// that keeps the subjects whose hash falls to it, with its share of the
// limit on subjects. The caller's goroutine hashes each flow's subjects
// once; every part sees every flow (for the window and to pick out its
// subjects). Each subject's state is made by one part from its flows in
// input order, so Join gives the state one FlowSet would have made from
// the same flows, as long as no table filled up; when one did, the least
// active subjects were dropped within each part rather than across them.
type FlowParts struct {
	lim    Limits
	parts  []*FlowSet
	hasher flowHasher
	*fanout[Flow, flowKeys]
}

// NewFlowParts returns n parts (n >= 1) observing on n goroutines until
// Join.
func NewFlowParts(lim Limits, n int) *FlowParts {
	lim = lim.orDefault()
	p := &FlowParts{lim: lim, hasher: flowHasher{seed: rand.Uint64()}}
	for i := range n {
		s := NewFlow(share(lim, n))
		s.part = part{uint64(i), uint64(n)}
		s.hasher, s.strs = p.hasher, newStrs(p.hasher.seed)
		p.parts = append(p.parts, s)
	}
	p.fanout = newFanout(n, func(i int, fs []Flow, keys []flowKeys) { p.parts[i].observeKeyed(fs, keys) })
	return p
}

// ObserveBatch hashes fs's subjects, hands fs to the parts and returns
// while they observe it, with a batch handed over before that every part
// has observed (nil until InFlight batches are in flight): until it comes
// back, the caller leaves fs as it is.
func (p *FlowParts) ObserveBatch(fs []Flow) (free []Flow) { return p.hand(fs, p.hasher.keys) }

// Settle returns once every batch handed over is observed.
func (p *FlowParts) Settle() { p.settle() }

// Join waits for every batch, stops the goroutines and returns one FlowSet
// holding every part's subjects, under the whole limit.
func (p *FlowParts) Join() *FlowSet {
	p.stop()
	s := p.parts[0]
	s.lim, s.part = p.lim, part{}
	for _, t := range []interface{ setMax(int) }{s.pairs, s.vscan, s.hscan} {
		t.setMax(p.lim.Subjects)
	}
	for _, o := range p.parts[1:] {
		s.Merge(o) // of the same kind, neither judged: no error
	}
	return s
}

// DNSParts is FlowParts for DNS messages: the caller's goroutine reads
// each message's name (the Public Suffix List lookup) and hashes its
// subjects once, and each part keeps the subjects of every table whose
// hash falls to it.
type DNSParts struct {
	lim   Limits
	parts []*DNSSet
	keyer *DNSSet // the names cache and key buffer of the caller's goroutine
	*fanout[DNS, dnsKeys]
}

// NewDNSParts returns n parts (n >= 1) observing on n goroutines until
// Join.
func NewDNSParts(lim Limits, n int) *DNSParts {
	lim = lim.orDefault()
	p := &DNSParts{lim: lim, keyer: NewDNS(lim)}
	for i := range n {
		s := NewDNS(share(lim, n))
		s.part = part{uint64(i), uint64(n)}
		p.parts = append(p.parts, s)
	}
	p.fanout = newFanout(n, func(i int, es []DNS, keys []dnsKeys) {
		s := p.parts[i]
		for j := range es {
			s.observeKeyed(&es[j], &keys[j])
		}
	})
	return p
}

// ObserveBatch is FlowParts.ObserveBatch for DNS messages.
func (p *DNSParts) ObserveBatch(es []DNS) (free []DNS) { return p.hand(es, p.keyer.keys) }

// Settle returns once every batch handed over is observed.
func (p *DNSParts) Settle() { p.settle() }

// Join waits for every batch, stops the goroutines and returns one DNSSet
// holding every part's subjects, under the whole limit.
func (p *DNSParts) Join() *DNSSet {
	p.stop()
	s := p.parts[0]
	s.lim, s.part = p.lim, part{}
	for _, t := range []interface{ setMax(int) }{s.tunnels, s.domains, s.names, s.beacons, s.servers} {
		t.setMax(p.lim.Subjects)
	}
	for _, o := range p.parts[1:] {
		s.Merge(o) // of the same kind, neither judged: no error
	}
	return s
}
