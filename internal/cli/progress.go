package cli

import (
	"time"

	"github.com/schollz/progressbar/v3"
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
