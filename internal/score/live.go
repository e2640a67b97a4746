package score

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// A pipe cannot be read twice without holding it, and a pipe from a
// capture in progress never ends: the fused method reads it once. Each
// event goes to the detectors as it comes and is held; when the input goes
// idle, the held events are scored with the evidence seen so far and
// written, so a live pipeline shows them at once. An input that never
// pauses is held until its end, as a file would be read, and scored with
// the whole input's evidence; past maxHeld events the held ones go to a
// temporary Parquet file (memory stays bounded), and then the rest waits
// for the end too.
var maxHeld = 1 << 18

// piped reports whether an input is a stream (standard input), which the
// fused method reads once.
func piped(ins []*ioformat.Input) bool {
	for _, in := range ins {
		if in.Name == "" || in.Name == "-" {
			return true
		}
	}
	return false
}

// live is the fused method's state on a piped input.
type live struct {
	set      detect.Set
	det      **detectors // what the scoring functions explain with
	findings *ioformat.Dest
	st       *Stats
}

// judge rebuilds the verdicts from everything the detectors have seen.
func (l *live) judge() {
	*l.det = judge(l.set)
}

// finish judges the whole input and writes the findings.
func (l *live) finish() error {
	l.judge()
	l.st.Findings = (*l.det).findings
	if l.findings != nil {
		return WriteFindings(*l.findings, l.st.Findings)
	}
	return nil
}

// streamLive is stream for the fused method on piped inputs (see maxHeld).
func streamLive[E, S any](ctx context.Context, ins []*ioformat.Input, in, out record.Meta, d ioformat.Dest, top int, l *live, progress func(int), fn func(*E, *S) string) error {
	st := l.st
	r, err := ioformat.NewConcat[E](ctx, ins)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := create[S](d, out, top)
	if err != nil {
		return err
	}
	scored := make([]S, ioformat.BatchSize)
	write := func(es []E) error {
		for len(es) > 0 {
			n := min(len(es), len(scored))
			if k := scoreBatch(es[:n], scored, st, fn); k > 0 {
				if err := w.Write(scored[:k]); err != nil {
					return err
				}
			}
			es = es[n:]
		}
		return nil
	}
	var held []E
	var spill ioformat.Writer[E]
	var spillDir string
	defer func() {
		if spillDir != "" {
			os.RemoveAll(spillDir)
		}
	}()
	if idler, ok := any(r).(interface{ OnIdle(func() error) }); ok {
		idler.OnIdle(func() error {
			if spill != nil || len(held) == 0 {
				return nil
			}
			l.judge()
			err := write(held)
			held = held[:0]
			if f, ok := w.(interface{ Flush() error }); ok && err == nil {
				err = f.Flush()
			}
			return err
		})
	}
	buf := make([]E, ioformat.BatchSize)
	fail := func(err error) error {
		w.Abort()
		if spill != nil {
			spill.Abort()
		}
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n, rerr := r.Read(buf)
		if progress != nil {
			progress(n)
		}
		for i := range buf[:n] {
			observeAny(l.set, &buf[i])
		}
		switch {
		case spill != nil:
			if err := spill.Write(buf[:n]); err != nil {
				return fail(err)
			}
		case len(held)+n > maxHeld:
			if spillDir, err = os.MkdirTemp("", "spot-score-*"); err != nil {
				return fail(err)
			}
			if spill, err = ioformat.Create[E](ioformat.Dest{Path: filepath.Join(spillDir, "held.parquet")}, in); err != nil {
				return fail(err)
			}
			if err := spill.Write(held); err != nil {
				return fail(err)
			}
			if err := spill.Write(buf[:n]); err != nil {
				return fail(err)
			}
			held = nil
		default:
			held = append(held, buf[:n]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	st.Skipped += r.Skipped()
	if err := l.finish(); err != nil {
		return fail(err)
	}
	if spill == nil {
		if err := write(held); err != nil {
			return fail(err)
		}
		return w.Close()
	}
	if err := spill.Close(); err != nil {
		spill = nil
		return fail(err)
	}
	spill = nil
	again, err := ioformat.Open(filepath.Join(spillDir, "held.parquet"), nil)
	if err != nil {
		return fail(err)
	}
	sr, err := ioformat.NewReader[E](again)
	if err != nil {
		again.Close()
		return fail(err)
	}
	defer sr.Close()
	for {
		n, rerr := sr.Read(buf)
		if err := write(buf[:n]); err != nil {
			return fail(err)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	return w.Close()
}

// observeAny hands an event, featurized or not, to the detectors of its kind.
func observeAny(set detect.Set, e any) {
	switch s := set.(type) {
	case *detect.FlowSet:
		if f, ok := flowOf(e); ok {
			s.Observe(&f)
		}
	case *detect.DNSSet:
		var r *record.DNS
		switch e := e.(type) {
		case *record.DNS:
			r = e
		case *record.FeaturizedDNS:
			r = &e.DNS
		}
		if r != nil {
			d := detect.FromDNS(r)
			s.Observe(&d)
		}
	case *detect.ProxySet:
		var r *record.Proxy
		switch e := e.(type) {
		case *record.Proxy:
			r = e
		case *record.FeaturizedProxy:
			r = &e.Proxy
		}
		if r != nil {
			p := detect.FromProxy(r)
			s.Observe(&p)
		}
	}
}

// flowOf returns what the flow detectors read of e, a flow featurized or not.
func flowOf(e any) (detect.Flow, bool) {
	switch e := e.(type) {
	case *record.Flow:
		return detect.FromFlow(e), true
	case *record.FeaturizedFlow:
		return detect.FromFlow(&e.Flow), true
	}
	return detect.Flow{}, false
}
