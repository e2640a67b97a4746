package cli

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// progress shows how far a stage has got on stderr: a count and a rate, or
// a bar when the total is known. Only on a terminal and without -q, so
// pipes and logs never see it. A nil *progress does nothing.
type progress struct {
	bar *progressbar.ProgressBar
	// A decoder's bar counts the bytes of its files read (read), and the
	// records written go in its description.
	bytes     bool
	desc      string
	mu        sync.Mutex
	records   int64
	described time.Time
}

// newProgress returns a progress display for units of work (total -1 when
// unknown), or nil when none should be shown.
func (g *globals) newProgress(desc, unit string, total int64) *progress {
	if !g.showProgress() {
		return nil
	}
	return g.track(&progress{bar: progressbar.NewOptions64(total,
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
	)})
}

// newFileProgress is a decoder's progress display: the bytes of the files
// named read, out of their size (compressed, when they are), with the
// records written so far; the records alone when a size is not known
// (stdin, a pipe, an interface: files nil). Nil when none should be shown.
func (g *globals) newFileProgress(desc string, files []string) *progress {
	total := int64(0)
	for _, name := range files {
		st, err := os.Stat(name)
		if name == "" || name == "-" || err != nil || !st.Mode().IsRegular() {
			files = nil
			break
		}
		total += st.Size()
	}
	if len(files) == 0 || !g.showProgress() {
		return g.newProgress(desc, "records", -1)
	}
	return g.track(&progress{bytes: true, desc: desc, bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g.io.Err),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)})
}

// Wrote records n more records written: the units counted, or, beside a
// bar of bytes read, in its description (at most every 200 ms).
func (p *progress) Wrote(n int) {
	if p == nil {
		return
	}
	if !p.bytes {
		p.bar.Add(n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records += int64(n)
	if now := time.Now(); now.Sub(p.described) >= 200*time.Millisecond {
		p.described = now
		p.bar.Describe(fmt.Sprintf("%s: %d records", p.desc, p.records))
	}
}

// reader returns the callback for the bytes read of the files of a bar
// that counts them (newFileProgress), else nil.
func (p *progress) reader() func(int) {
	if p == nil || !p.bytes {
		return nil
	}
	return p.Add
}

// Add records n more units done.
func (p *progress) Add(n int) {
	if p != nil {
		p.bar.Add(n)
	}
}

// adder returns Add as a callback, or nil when nothing is shown (so that
// the work skips the calls).
func (p *progress) adder() func(int) {
	if p == nil {
		return nil
	}
	return p.Add
}

// stage returns Add for the next pass over the same work, shown as desc:
// the count starts again from 0 at the first call.
func (p *progress) stage(desc string) func(int) {
	if p == nil {
		return nil
	}
	started := false
	return func(n int) {
		if !started {
			started = true
			p.bar.Reset()
			p.bar.Describe(desc)
			p.bar.RenderBlank() // at once: the pass has started
		}
		p.bar.Add(n)
	}
}

// Describe changes the text before the bar (e.g. a log-likelihood).
func (p *progress) Describe(s string) {
	if p != nil {
		p.bar.Describe(s)
	}
}

// Done clears the display; a finished bar draws nothing more.
func (p *progress) Done() {
	if p != nil && !p.bar.IsFinished() {
		p.bar.Finish()
	}
}

// track keeps p to be finished when the run ends (stopProgress), should
// its stage return before its Done: a bar of unknown length redraws its
// spinner from a goroutine of its own until it is finished, which would
// draw over the run's closing message (and, in tests, into a buffer
// being read).
func (g *globals) track(p *progress) *progress {
	g.progMu.Lock()
	g.progs = append(g.progs, p)
	g.progMu.Unlock()
	return p
}

// stopProgress ends every display the run started, before its closing
// message is printed.
func (g *globals) stopProgress() {
	g.progMu.Lock()
	progs := g.progs
	g.progs = nil
	g.progMu.Unlock()
	for _, p := range progs {
		p.Done()
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
	c.p.Wrote(len(recs))
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
