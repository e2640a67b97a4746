package cli

import (
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// progress shows how far a stage has got on stderr: a count and a rate, or
// a bar when the total is known. Only on a terminal and without -q, so
// pipes and logs never see it. A nil *progress does nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a progress display for units of work (total -1 when
// unknown), or nil when none should be shown.
func (g *globals) newProgress(desc, unit string, total int64) *progress {
	if !g.showProgress() {
		return nil
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g.io.Err),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetRenderBlankState(true), // at once: the stage has started
	)}
}

// Add records n more units done.
func (p *progress) Add(n int) {
	if p != nil {
		p.bar.Add(n)
	}
}

// Describe changes the text before the bar (e.g. a log-likelihood).
func (p *progress) Describe(s string) {
	if p != nil {
		p.bar.Describe(s)
	}
}

// Done clears the display.
func (p *progress) Done() {
	if p != nil {
		p.bar.Finish()
	}
}

// counted returns w, counting the records written in p when p is not nil.
func counted[T any](w ioformat.Writer[T], p *progress) ioformat.Writer[T] {
	if p == nil {
		return w
	}
	return &countingWriter[T]{w, p}
}

// countingWriter counts the records written through it; it flushes what
// it wraps when that flushes (live inputs stay live).
type countingWriter[T any] struct {
	w ioformat.Writer[T]
	p *progress
}

func (c *countingWriter[T]) Write(recs []T) error {
	c.p.Add(len(recs))
	return c.w.Write(recs)
}

func (c *countingWriter[T]) Close() error { return c.w.Close() }
func (c *countingWriter[T]) Abort()       { c.w.Abort() }

func (c *countingWriter[T]) Flush() error {
	if f, ok := c.w.(ioformat.Flusher); ok {
		return f.Flush()
	}
	return nil
}

// inputProgress is the progress line of a stage named desc reading the
// records of ins: with their total when all are Parquet files (the row
// counts). None when the records go to the terminal's stdout.
func (g *globals) inputProgress(desc string, ins []*ioformat.Input, d ioformat.Dest) *progress {
	if d.Path == "-" && g.io.StdoutTTY {
		return nil
	}
	total := int64(0)
	for _, in := range ins {
		pf := in.ParquetFile()
		if pf == nil {
			total = -1
			break
		}
		total += pf.NumRows()
	}
	return g.newProgress(desc, "records", total)
}

// reading returns r, counting the records read in p when p is not nil.
func reading[T any](r ioformat.Reader[T], p *progress) ioformat.Reader[T] {
	if p == nil {
		return r
	}
	return &countingReader[T]{r, p}
}

type countingReader[T any] struct {
	r ioformat.Reader[T]
	p *progress
}

func (c *countingReader[T]) Read(buf []T) (int, error) {
	n, err := c.r.Read(buf)
	c.p.Add(n)
	return n, err
}

func (c *countingReader[T]) Close() error { return c.r.Close() }
