package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// copyRecords copies every record of the inputs to d, keeping those for
// which keep (if not nil) is true. It stops with ctx's error when ctx is
// cancelled, leaving no partial output file.
func copyRecords[T any](ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, keep func(*T) bool, prog *progress) error {
	defer prog.Done()
	c, err := newConcat[T](ctx, ins)
	if err != nil {
		return err
	}
	var r ioformat.Reader[T] = c
	if allParquet(ins) {
		r = ioformat.Prefetch(r) // files: reading ahead never blocks
	}
	defer r.Close()
	w, err := ioformat.Create[T](d, meta)
	if err != nil {
		return err
	}
	ioformat.FlushWhenIdle(r, w)
	buf := ioformat.Touched(make([]T, ioformat.BatchSize))
	for {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return err
		}
		n, err := r.Read(buf)
		prog.Add(n)
		if n > 0 {
			batch := buf[:n]
			if keep != nil {
				kept := batch[:0]
				for i := range batch {
					if keep(&batch[i]) {
						kept = append(kept, batch[i])
					}
				}
				batch = kept
			}
			if werr := w.Write(batch); werr != nil {
				w.Abort()
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if n := c.Skipped(); n > 0 {
		return &SkippedError{Count: n, Unit: "records"}
	}
	return nil
}

func allParquet(ins []*ioformat.Input) bool {
	for _, in := range ins {
		if in.Format != ioformat.Parquet {
			return false
		}
	}
	return true
}

// copyAny copies a stream of any kind and shape unchanged (the format
// converter behind "spot filter" with no predicate).
func copyAny(ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, prog *progress) error {
	switch record.Example(meta).(type) {
	case record.Flow:
		return copyRecords[record.Flow](ctx, ins, meta, d, nil, prog)
	case record.DNS:
		return copyRecords[record.DNS](ctx, ins, meta, d, nil, prog)
	case record.Proxy:
		return copyRecords[record.Proxy](ctx, ins, meta, d, nil, prog)
	case record.FeaturizedFlow:
		return copyRecords[record.FeaturizedFlow](ctx, ins, meta, d, nil, prog)
	case record.FeaturizedDNS:
		return copyRecords[record.FeaturizedDNS](ctx, ins, meta, d, nil, prog)
	case record.FeaturizedProxy:
		return copyRecords[record.FeaturizedProxy](ctx, ins, meta, d, nil, prog)
	case record.Count:
		return copyRecords[record.Count](ctx, ins, meta, d, nil, prog)
	case record.ScoredFlow:
		return copyRecords[record.ScoredFlow](ctx, ins, meta, d, nil, prog)
	case record.ScoredDNS:
		return copyRecords[record.ScoredDNS](ctx, ins, meta, d, nil, prog)
	case record.ScoredProxy:
		return copyRecords[record.ScoredProxy](ctx, ins, meta, d, nil, prog)
	case record.Finding:
		return copyRecords[record.Finding](ctx, ins, meta, d, nil, prog)
	}
	return fmt.Errorf("no record type for %s streams", meta)
}
