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
// is a *terminalStdin, and when it is a pipe or a socket a *waitingStdin.
func System() *IO {
	s := &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	switch st, err := os.Stdin.Stat(); {
	case s.StdinTTY:
		s.In = &terminalStdin{waitingStdin: waitingStdin{r: os.Stdin, what: "input typed at the terminal"}, stderr: os.Stderr}
	case err == nil && !st.Mode().IsRegular():
		s.In = &waitingStdin{r: os.Stdin, what: "input on standard input"}
	}
	return s
}

// waitingStdin is stdin when a read of it may wait (a pipe, a socket, a
// terminal): it tells the signal handler whether a read is waiting, which
// a cancelled run does not wake, so that the first signal then ends the
// run at once rather than the second. A regular file stays an *os.File
// (ioformat reads Parquet from it in place).
type waitingStdin struct {
	r       io.Reader
	what    string // what a waiting read waits for, in words
	waiting atomic.Int32
}

func (w *waitingStdin) Read(p []byte) (int, error) {
	w.waiting.Add(1)
	defer w.waiting.Add(-1)
	return w.r.Read(p)
}

// terminalStdin is stdin when it is a terminal. Its first read also says
// on stderr that spot waits for what is typed there (a user who forgot to
// name a file sees why nothing happens).
type terminalStdin struct {
	waitingStdin
	stderr io.Writer
	once   sync.Once
}

func (t *terminalStdin) Read(p []byte) (int, error) {
	t.once.Do(func() {
		fmt.Fprintln(t.stderr, "spot: reading standard input, which is a terminal: name an input file or pipe one in (Ctrl-D ends typed input, Ctrl-C stops)")
	})
	return t.waitingStdin.Read(p)
}

// readWaiting says what a read of in waits for, if in is stdin and a read
// of it is waiting ("" otherwise).
func readWaiting(in io.Reader) string {
	var w *waitingStdin
	switch in := in.(type) {
	case *waitingStdin:
		w = in
	case *terminalStdin:
		w = &in.waitingStdin
	}
	if w == nil || w.waiting.Load() == 0 {
		return ""
	}
	return w.what
}

// Test returns streams backed by buffers, none of them a terminal.
func Test(stdin string) (*IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &IO{In: bytes.NewBufferString(stdin), Out: &out, Err: &errb}, &out, &errb
}
