package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/spot-hunt/spot/internal/atomicfile"
)

// Interrupts. The first SIGINT or SIGTERM cancels the run's context: the
// stage stops, discards its unfinished output and exits 130 (the collector,
// which runs until told to stop, writes what it received). While the stage
// waits for stdin (a terminal, an idle pipe), which a cancel does not wake,
// the first signal ends the process at once, as a second does otherwise. A second one
// ends the process at once, exit 130, leaving no temporary file; a command
// that set lateSignals is told instead of being ended (the collector cuts
// its drain short), and only a third ends it.
//
// SIGPIPE is not caught: "| head" ends a stage silently, as it does cat.

// lateSignals are what a command asks of the second and third signals.
type lateSignals struct {
	hurry func()        // the second signal: finish sooner
	lost  func() string // the forced end: what it abandons, in words ("" for nothing)
}

var late atomic.Pointer[lateSignals]

// setLateSignals installs l for the rest of the run.
func setLateSignals(l *lateSignals) { late.Store(l) }

// handleSignals starts watching for SIGINT and SIGTERM on sigs (nil: a
// channel of its own); stop ends it. waiting says what the stage waits for
// on stdin, if a read of it is waiting ("" otherwise).
func handleSignals(cancel context.CancelFunc, stderr io.Writer, sigs chan os.Signal, waiting func() string) (stop func()) {
	if sigs == nil {
		sigs = make(chan os.Signal, 3)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			l, what := late.Load(), ""
			if n == 1 {
				what = waiting()
			}
			switch {
			case what != "":
				cancel()
				stopAtOnce(stderr, "spot: interrupted while waiting for "+what)
			case n == 1:
				cancel()
			case n == 2 && l != nil && l.hurry != nil:
				l.hurry()
			default:
				forcedExit(stderr, l)
			}
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

// forcedExit ends the process at once: no output appears after it, and no
// temporary file stays behind.
func forcedExit(stderr io.Writer, l *lateSignals) {
	msg := "spot: interrupted again: stopped at once, nothing more was written"
	if l != nil && l.lost != nil {
		if s := l.lost(); s != "" {
			msg += "; " + s
		}
	}
	stopAtOnce(stderr, msg)
}

// stopAtOnce removes every temporary file, says msg and ends the process,
// exit 130.
func stopAtOnce(stderr io.Writer, msg string) {
	atomicfile.Freeze()
	fmt.Fprintln(stderr, msg)
	exit(ExitInterrupted)
}

// exit ends the process (a test replaces it).
var exit = os.Exit
