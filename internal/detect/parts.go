package detect

import (
	"math/rand/v2"
	"sync"
)

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
	work   []chan *flowBatch
	hasher flowHasher
	queue  []*flowBatch // in flight, oldest first
	spare  [][]flowKeys
}

// flowBatch is a batch of flows and their subjects' keys, observed by
// every part.
type flowBatch struct {
	fs   []Flow
	keys []flowKeys
	done sync.WaitGroup
}

// InFlight is how many batches a FlowParts may hold, still being observed,
// when ObserveBatch returns: a few, so that a part slower on one batch
// does not hold up the others or the reader.
const InFlight = 4

// NewFlowParts returns n parts (n >= 1) observing on n goroutines until
// Join.
func NewFlowParts(lim Limits, n int) *FlowParts {
	lim = lim.orDefault()
	p := &FlowParts{lim: lim, hasher: flowHasher{seed: rand.Uint64()}}
	for i := range n {
		share := lim
		share.Subjects = max(1, lim.Subjects/n)
		s := NewFlow(share)
		s.share, s.shares = uint64(i), uint64(n)
		s.hasher, s.strs = p.hasher, newStrs(p.hasher.seed)
		work := make(chan *flowBatch, InFlight)
		p.parts, p.work = append(p.parts, s), append(p.work, work)
		go func() {
			for b := range work {
				s.observeKeyed(b.fs, b.keys)
				b.done.Done()
			}
		}()
	}
	return p
}

// ObserveBatch hashes fs's subjects, hands fs to the parts and returns
// while they observe it, with a batch handed over before that every part
// has observed (nil until InFlight batches are in flight): until it comes
// back, the caller leaves fs as it is.
func (p *FlowParts) ObserveBatch(fs []Flow) (free []Flow) {
	if len(p.queue) == InFlight {
		free = p.wait()
	}
	b := &flowBatch{fs: fs}
	if n := len(p.spare); n > 0 {
		b.keys, p.spare = p.spare[n-1][:0], p.spare[:n-1]
	}
	for i := range fs {
		b.keys = append(b.keys, flowKeys{})
		p.hasher.keys(&fs[i], &b.keys[i])
	}
	b.done.Add(len(p.parts))
	p.queue = append(p.queue, b)
	for _, w := range p.work {
		w <- b
	}
	return free
}

// wait waits for the oldest batch in flight and returns its flows.
func (p *FlowParts) wait() []Flow {
	b := p.queue[0]
	p.queue = p.queue[1:]
	b.done.Wait()
	p.spare = append(p.spare, b.keys)
	return b.fs
}

// Settle returns once every batch handed over is observed.
func (p *FlowParts) Settle() {
	for len(p.queue) > 0 {
		p.wait()
	}
}

// Join waits for every batch, stops the goroutines and returns one FlowSet
// holding every part's subjects, under the whole limit.
func (p *FlowParts) Join() *FlowSet {
	p.Settle()
	for _, w := range p.work {
		close(w)
	}
	s := p.parts[0]
	s.lim, s.share, s.shares = p.lim, 0, 0
	for _, t := range []interface{ setMax(int) }{s.pairs, s.vscan, s.hscan} {
		t.setMax(p.lim.Subjects)
	}
	for _, o := range p.parts[1:] {
		s.Merge(o) // of the same kind, neither judged: no error
	}
	return s
}
