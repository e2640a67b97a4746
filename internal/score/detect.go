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
		err = observe[record.Flow](ctx, ins, set, progress)
	case record.KindDNS:
		err = observe[record.DNS](ctx, ins, set, progress)
	case record.KindProxy:
		err = observe[record.Proxy](ctx, ins, set, progress)
	}
	return set, err
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

// observe reads every input again from the start, only in the columns the
// detectors read, and hands each event to set.
func observe[E any](ctx context.Context, ins []*ioformat.Input, set detect.Set, progress func(int)) error {
	buf := make([]E, ioformat.BatchSize)
	flows, _ := set.(*detect.FlowSet) // flows are observed a batch at a time
	var fs []detect.Flow
	for _, in := range ins {
		again, err := in.Rewind()
		if err != nil {
			return err
		}
		var cols []string
		if again.Format == ioformat.Parquet {
			have := again.Columns()
			for _, c := range detect.Columns[set.Kind()] {
				if slices.Contains(have, c) {
					cols = append(cols, c)
				}
			}
		}
		r, err := ioformat.NewReader[E](again, cols...)
		if err != nil {
			again.Close()
			return err
		}
		for {
			if err := ctx.Err(); err != nil {
				r.Close()
				return err
			}
			n, err := r.Read(buf)
			if flows != nil {
				fs = fs[:0]
				for i := range buf[:n] {
					if f, ok := flowOf(&buf[i]); ok {
						fs = append(fs, f)
					}
				}
				flows.ObserveBatch(fs)
			} else {
				for i := range buf[:n] {
					observeAny(set, &buf[i])
				}
			}
			if progress != nil {
				progress(n)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
	}
	return nil
}
