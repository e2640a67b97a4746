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

// TestTerminalStdin (#20 item 5): reading a terminal's stdin says so on
// stderr, and the first Ctrl-C while a read waits there ends the run at
// once (a cancel does not wake that read); otherwise the first signal only
// cancels the run.
func TestTerminalStdin(t *testing.T) {
	codes := make(chan int, 1)
	exit = func(code int) { codes <- code }
	defer func() { exit = os.Exit }()

	for _, waiting := range []bool{true, false} {
		pr, pw := io.Pipe()
		var notice, stderr lockedBuffer
		in := &terminalStdin{r: pr, stderr: &notice}
		ctx, cancel := context.WithCancel(context.Background())
		sigs := make(chan os.Signal, 3)
		stop := handleSignals(cancel, &stderr, sigs, func() bool { return readWaiting(in) })
		read := make(chan struct{})
		if waiting {
			go func() { in.Read(make([]byte, 1)); close(read) }()
			for deadline := time.Now().Add(5 * time.Second); !readWaiting(in); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the read never started")
				}
			}
		}
		sigs <- os.Interrupt
		select {
		case code := <-codes:
			if !waiting {
				t.Errorf("no read waiting: the first signal ended the process (exit %d)", code)
			} else if code != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted while waiting for input typed at the terminal") {
				t.Errorf("exit %d, stderr %q", code, stderr.String())
			}
		case <-time.After(2 * time.Second):
			if waiting {
				t.Error("the first signal did not end a run waiting for the terminal")
			}
		}
		<-ctx.Done() // cancelled either way
		if waiting && !strings.Contains(notice.String(), "standard input, which is a terminal") {
			t.Errorf("reading the terminal said %q", notice.String())
		}
		stop()
		pw.Close()
		if waiting {
			<-read
		}
	}
}
