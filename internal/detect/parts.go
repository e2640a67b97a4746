package detect

import "sync"

// FlowParts observes flows on several goroutines: each part is a FlowSet
// that keeps the subjects whose hash falls to it, with its share of the
// limit on subjects, and sees every flow (for the window and to pick out
// its subjects). Each subject's state is made by one part from its flows
// in input order, so Join gives the state one FlowSet would have made from
// the same flows, as long as no table filled up; when one did, the least
// active subjects were dropped within each part rather than across them.
type FlowParts struct {
	lim   Limits
	parts []*FlowSet
	work  []chan []Flow
	done  sync.WaitGroup
}

// NewFlowParts returns n parts (n >= 1) observing on n goroutines until
// Join.
func NewFlowParts(lim Limits, n int) *FlowParts {
	lim = lim.orDefault()
	p := &FlowParts{lim: lim}
	for i := range n {
		share := lim
		share.Subjects = max(1, lim.Subjects/n)
		s := NewFlow(share)
		s.share, s.shares = uint64(i), uint64(n)
		work := make(chan []Flow)
		p.parts, p.work = append(p.parts, s), append(p.work, work)
		go func() {
			for fs := range work {
				s.ObserveBatch(fs)
				p.done.Done()
			}
		}()
	}
	return p
}

// ObserveBatch waits for the parts to finish the previous batch, hands
// them fs and returns while they observe it: the caller leaves fs as it is
// until the next ObserveBatch or Join returns (two buffers, used in turn).
func (p *FlowParts) ObserveBatch(fs []Flow) {
	p.done.Wait()
	p.done.Add(len(p.parts))
	for _, w := range p.work {
		w <- fs
	}
}

// Join waits for the last batch, stops the goroutines and returns one
// FlowSet holding every part's subjects, under the whole limit.
func (p *FlowParts) Join() *FlowSet {
	p.done.Wait()
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
