package cli

import (
	"context"
	"errors"
	"fmt"
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
}

func (e *SkippedError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("skipped %d malformed %s, %s", e.Count, e.Unit, e.Detail)
	}
	return fmt.Sprintf("skipped %d malformed %s", e.Count, e.Unit)
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
