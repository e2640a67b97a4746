package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer written from other goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStdinWaiting (#20 item 5): reading a terminal's stdin says so on
// stderr, and the first Ctrl-C while a read waits on stdin, a terminal or
// an idle pipe, ends the run at once (a cancel does not wake that read);
// otherwise the first signal only cancels the run.
func TestStdinWaiting(t *testing.T) {
	codes := make(chan int, 1)
	exit = func(code int) { codes <- code }
	defer func() { exit = os.Exit }()

	for _, c := range []struct {
		terminal, waiting bool
	}{{true, true}, {true, false}, {false, true}, {false, false}} {
		pr, pw := io.Pipe()
		var notice, stderr lockedBuffer
		var in io.Reader = &waitingStdin{r: pr, what: "input on standard input"}
		want := "interrupted while waiting for input on standard input"
		if c.terminal {
			in = &terminalStdin{waitingStdin: waitingStdin{r: pr, what: "input typed at the terminal"}, stderr: &notice}
			want = "interrupted while waiting for input typed at the terminal"
		}
		ctx, cancel := context.WithCancel(context.Background())
		sigs := make(chan os.Signal, 3)
		stop := handleSignals(cancel, &stderr, sigs, func() string { return readWaiting(in) })
		read := make(chan struct{})
		if c.waiting {
			go func() { in.Read(make([]byte, 1)); close(read) }()
			for deadline := time.Now().Add(5 * time.Second); readWaiting(in) == ""; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the read never started")
				}
			}
		}
		sigs <- os.Interrupt
		select {
		case code := <-codes:
			if !c.waiting {
				t.Errorf("%+v: no read waiting: the first signal ended the process (exit %d)", c, code)
			} else if code != ExitInterrupted || !strings.Contains(stderr.String(), want) {
				t.Errorf("%+v: exit %d, stderr %q", c, code, stderr.String())
			}
		case <-time.After(2 * time.Second):
			if c.waiting {
				t.Errorf("%+v: the first signal did not end a run waiting for stdin", c)
				break
			}
			sigs <- os.Interrupt // a second one ends the run at once
			select {
			case code := <-codes:
				if code != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted again") {
					t.Errorf("%+v: second signal: exit %d, stderr %q", c, code, stderr.String())
				}
			case <-time.After(2 * time.Second):
				t.Errorf("%+v: the second signal did not end the run", c)
			}
		}
		<-ctx.Done() // cancelled either way
		if c.terminal && c.waiting && !strings.Contains(notice.String(), "standard input, which is a terminal") {
			t.Errorf("reading the terminal said %q", notice.String())
		}
		stop()
		pw.Close()
		if c.waiting {
			<-read
		}
	}
}
