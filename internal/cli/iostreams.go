package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/term"
)

// IO holds the standard streams a command uses and whether each is a terminal.
type IO struct {
	In                             io.Reader
	Out, Err                       io.Writer
	StdinTTY, StdoutTTY, StderrTTY bool
}

// System returns the process's own streams; stdin, when it is a terminal,
// is a *terminalStdin.
func System() *IO {
	s := &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if s.StdinTTY {
		s.In = &terminalStdin{r: os.Stdin, stderr: os.Stderr}
	}
	return s
}

// terminalStdin is stdin when it is a terminal. Its first read says on
// stderr that spot waits for what is typed there (a user who forgot to
// name a file sees why nothing happens), and it tells the signal handler
// whether a read is waiting on it: such a read does not return when the
// run is cancelled, so the first Ctrl-C ends the run at once.
type terminalStdin struct {
	r       io.Reader
	stderr  io.Writer
	once    sync.Once
	waiting atomic.Int32
}

func (t *terminalStdin) Read(p []byte) (int, error) {
	t.once.Do(func() {
		fmt.Fprintln(t.stderr, "spot: reading standard input, which is a terminal: name an input file or pipe one in (Ctrl-D ends typed input, Ctrl-C stops)")
	})
	t.waiting.Add(1)
	defer t.waiting.Add(-1)
	return t.r.Read(p)
}

// readWaiting reports whether a read of in, if it is a terminal's stdin,
// is waiting for input.
func readWaiting(in io.Reader) bool {
	t, ok := in.(*terminalStdin)
	return ok && t.waiting.Load() > 0
}

// Test returns streams backed by buffers, none of them a terminal.
func Test(stdin string) (*IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &IO{In: bytes.NewBufferString(stdin), Out: &out, Err: &errb}, &out, &errb
}
