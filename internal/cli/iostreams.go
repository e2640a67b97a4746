package cli

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IO holds the standard streams a command uses and whether each is a terminal.
type IO struct {
	In                             io.Reader
	Out, Err                       io.Writer
	StdinTTY, StdoutTTY, StderrTTY bool
}

// System returns the process's own streams.
func System() *IO {
	return &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// Test returns streams backed by buffers, none of them a terminal.
func Test(stdin string) (*IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &IO{In: bytes.NewBufferString(stdin), Out: &out, Err: &errb}, &out, &errb
}
