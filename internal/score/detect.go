package score

import (
	"context"
	"io"
	"slices"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// detectors are the detectors of one kind, after their pass over the input.
type detectors struct {
	dns      *detect.DNSSet
	flows    *detect.FlowSet
	proxy    *detect.ProxySet
	findings []record.Finding
}

// Detect runs the detectors of kind over every input (rewound, so that the
// inputs can then be read again to score) and returns their state, to be
// judged (Finish), written (WriteState) or merged with other shards'.
// Progress, when not nil, is told how many more records were read.
func Detect(ctx context.Context, ins []*ioformat.Input, kind record.Kind, lim detect.Limits, progress func(n int)) (detect.Set, error) {
	set, err := detect.New(kind, lim)
	if err != nil {
		return nil, err
	}
	switch kind {
	case record.KindFlow:
		return detectFlows(ctx, ins, lim, progress)
	case record.KindDNS:
		return detectDNS(ctx, ins, lim, progress)
	case record.KindProxy:
		err = observe(ctx, ins, kind, nil, progress, func(rs []record.Proxy) {
			for i := range rs {
				observeAny(set, &rs[i])
			}
		})
	}
	return set, err
}

// flowParts is how many goroutines observe flows or DNS messages: the
// detectors' tables of a busy network outgrow the caches, and their pass
// was the dearest of a fused score. A fixed number, not the CPUs', so that what a
// full table drops does not depend on the machine.
const flowParts = 2

// detectFlows runs the flow detectors in parts (detect.FlowParts), the
// reader filling a batch while the parts observe those before it: up to
// detect.InFlight of them, whose strings the reader lends (the detectors
// clone what they keep).
func detectFlows(ctx context.Context, ins []*ioformat.Input, lim detect.Limits, progress func(n int)) (detect.Set, error) {
	parts := detect.NewFlowParts(lim, flowParts)
	lend := &lending{reads: detect.InFlight, settle: parts.Settle}
	err := observeParts(ctx, ins, record.KindFlow, lend, progress, detect.FromFlow, (*detect.Flow).Complete, parts.ObserveBatch)
	return parts.Join(), err
}

// detectDNS runs the DNS detectors in parts (detect.DNSParts), as
// detectFlows does.
func detectDNS(ctx context.Context, ins []*ioformat.Input, lim detect.Limits, progress func(n int)) (detect.Set, error) {
	parts := detect.NewDNSParts(lim, flowParts)
	lend := &lending{reads: detect.InFlight, settle: parts.Settle}
	err := observeParts(ctx, ins, record.KindDNS, lend, progress, detect.FromDNS, (*detect.DNS).Complete, parts.ObserveBatch)
	return parts.Join(), err
}

// observeParts reads the inputs' events E and hands them to parts a batch
// at a time (hand), refilling the batches hand gives back. Parquet is read
// column by column straight into the batches (ioformat.PairReader: E's
// columns, and S's beside them, with which complete finishes each event);
// other formats as records R, each made an event by of.
func observeParts[R, E, S any](ctx context.Context, ins []*ioformat.Input, kind record.Kind, lend *lending, progress func(int),
	of func(*R) E, complete func(*E, *S), hand func([]E) []E) error {
	var spare []E
	for _, in := range ins {
		again, err := in.Rewind()
		if err != nil {
			return err
		}
		if again.Format == ioformat.Parquet {
			err = readPairs(ctx, again, lend, progress, &spare, complete, hand)
		} else {
			err = observeInput(ctx, again, kind, lend, progress, func(rs []R) {
				b := spare[:0]
				for i := range rs {
					b = append(b, of(&rs[i]))
				}
				spare = hand(b)
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readPairs reads the events of a Parquet input into batches, spare or
// new ones, and hands each to parts (hand), its strings lent when lend is
// not nil.
func readPairs[E, S any](ctx context.Context, in *ioformat.Input, lend *lending, progress func(int),
	spare *[]E, complete func(*E, *S), hand func([]E) []E) error {
	r, err := ioformat.NewPairReader[E, S](in)
	if err != nil {
		in.Close()
		return err
	}
	closeReader := r.Close
	if lend != nil {
		r.LendStrings(lend.reads)
		closeReader = func() error { lend.settle(); return r.Close() }
	}
	side := make([]S, ioformat.BatchSize)
	return drain(ctx, progress, closeReader, func() (int, error) {
		b := *spare
		if cap(b) < ioformat.BatchSize {
			b = make([]E, ioformat.BatchSize)
		}
		n, err := r.Read(b[:ioformat.BatchSize], side)
		for i := range n {
			complete(&b[i], &side[i])
		}
		if n > 0 {
			*spare = hand(b[:n])
		} else {
			*spare = b
		}
		return n, err
	})
}

// drain calls read, which reads and handles a batch, until the end of the
// input or an error (or ctx's end), telling progress how many records
// each read; it closes the reader (closeReader) whatever the outcome.
func drain(ctx context.Context, progress func(int), closeReader func() error, read func() (int, error)) error {
	for {
		if err := ctx.Err(); err != nil {
			closeReader()
			return err
		}
		n, err := read()
		if progress != nil {
			progress(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			closeReader()
			return err
		}
	}
	closeReader()
	return nil
}

// judge finishes a set and keeps its kind's explainer.
func judge(set detect.Set) *detectors {
	d := &detectors{findings: set.Finish()}
	switch s := set.(type) {
	case *detect.DNSSet:
		d.dns = s
	case *detect.FlowSet:
		d.flows = s
	case *detect.ProxySet:
		d.proxy = s
	}
	return d
}

// lending is how a pass borrows a reader's strings (ioformat.LendStrings):
// through how many more reads a batch's strings must stay valid, and
// settle, which returns once no batch handed out is in use (a reader's
// Close takes back what it lent).
type lending struct {
	reads  int
	settle func()
}

// observe reads every input again from the start, only in the columns the
// detectors of kind read, and hands each batch of records to f, whose
// strings stay valid for lend's reads when lend is not nil (f clones what
// it keeps longer).
func observe[E any](ctx context.Context, ins []*ioformat.Input, kind record.Kind, lend *lending, progress func(int), f func([]E)) error {
	for _, in := range ins {
		again, err := in.Rewind()
		if err != nil {
			return err
		}
		if err := observeInput(ctx, again, kind, lend, progress, f); err != nil {
			return err
		}
	}
	return nil
}

// observeInput is observe of one input, rewound, which it closes.
func observeInput[E any](ctx context.Context, in *ioformat.Input, kind record.Kind, lend *lending, progress func(int), f func([]E)) error {
	var cols []string
	if in.Format == ioformat.Parquet {
		have := in.Columns()
		for _, c := range detect.Columns[kind] {
			if slices.Contains(have, c) {
				cols = append(cols, c)
			}
		}
	}
	r, err := ioformat.NewReader[E](in, cols...)
	if err != nil {
		in.Close()
		return err
	}
	closeReader := r.Close
	if lend != nil && ioformat.LendStrings(r, lend.reads) {
		closeReader = func() error { lend.settle(); return r.Close() }
	}
	buf := make([]E, ioformat.BatchSize)
	return drain(ctx, progress, closeReader, func() (int, error) {
		n, err := r.Read(buf)
		f(buf[:n])
		return n, err
	})
}
