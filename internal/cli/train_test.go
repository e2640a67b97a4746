package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/lda"
)

// TestTrainProgressLine: the progress line computes the log-likelihood
// (a quarter of an iteration) only at -v, and shows it there.
func TestTrainProgressLine(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var out bytes.Buffer
		calls := 0
		p := lda.Progress{Iteration: 2, Iterations: 20, LogLikelihood: func() float64 { calls++; return -12345.5 }}
		progressPrinter(&out, 20, verbose)(p)
		line := out.String()
		if !strings.Contains(line, "iteration 2/20") {
			t.Errorf("verbose=%v: %q", verbose, line)
		}
		if shown := strings.Contains(line, "log-likelihood -12345.5"); shown != verbose || calls != map[bool]int{false: 0, true: 1}[verbose] {
			t.Errorf("verbose=%v: log-likelihood computed %d times, line %q", verbose, calls, line)
		}
	}
}
