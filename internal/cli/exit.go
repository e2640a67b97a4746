package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Exit codes, documented in "spot help exit-codes" and each command's help.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitSkipped     = 3
	ExitInterrupted = 130
)

const exitStatusHelp = `
EXIT STATUS
  0    success
  1    error (the message names the stage, the file and the record or packet)
  2    usage error (unknown flag, bad argument)
  3    finished, but malformed input was skipped (counted on stderr)
  130  interrupted (SIGINT/SIGTERM) before the output was complete: no partial
       or temporary file is left behind (a signal once it is complete changes
       nothing; a second signal stops at once)`

// usageError marks errors in how spot was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// SkippedError reports that a stage finished but skipped malformed input.
type SkippedError struct {
	Count  int64  // how many units were skipped
	Unit   string // "packets", "lines", "records", ...
	Detail string // where some of them were, e.g. "2 of them in the feedback file"
	Inputs int64  // whole inputs left out: not of a format the stage reads
}

func (e *SkippedError) Error() string {
	var parts []string
	if e.Count > 0 || e.Inputs == 0 {
		p := fmt.Sprintf("%d malformed %s", e.Count, e.Unit)
		if e.Detail != "" {
			p += ", " + e.Detail
		}
		parts = append(parts, p)
	}
	switch {
	case e.Inputs == 1:
		parts = append(parts, "1 input not of a format it reads")
	case e.Inputs > 1:
		parts = append(parts, fmt.Sprintf("%d inputs not of a format it reads", e.Inputs))
	}
	return "skipped " + strings.Join(parts, " and ")
}

// skippedOrNil is the SkippedError of count malformed units and inputs
// left out, or nil when there were none.
func skippedOrNil(count int64, unit string, inputs int64) error {
	if count == 0 && inputs == 0 {
		return nil
	}
	return &SkippedError{Count: count, Unit: unit, Inputs: inputs}
}

// errNotYet is returned by stages whose implementation has not landed.
func errNotYet(stage string, issue int) error {
	if issue == 0 {
		return fmt.Errorf("%s is not implemented yet; nothing was written", stage)
	}
	return fmt.Errorf("%s is not implemented yet (tracked in issue #%d); nothing was written", stage, issue)
}

// exitCode maps an error returned by a command to the process's exit status.
func exitCode(err error) int {
	var skipped *SkippedError
	var usage usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &skipped):
		return ExitSkipped
	case errors.As(err, &usage):
		return ExitUsage
	}
	return ExitError
}

// isBrokenPipe reports an EPIPE that surfaced as an error (the SIGPIPE that
// normally ends the process did not, e.g. on a pipe other than stdout).
func isBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }
