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

	"github.com/spot-hunt/spot/internal/testenv"
)

// signalWriter collects output and signals each write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A capture streamed on stdin (tcpdump -w - | spot decode dns): each record
// is written while the input is still open, not at its end.
func TestDecodeDNSStreamsRecords(t *testing.T) {
	capture, err := os.ReadFile(testenv.Testdata(t, "dns") + "/ndpi_dns.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	out := &signalWriter{wrote: make(chan struct{}, 1)}
	var errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Run(context.Background(), []string{"decode", "dns", "-"}, &IO{In: pr, Out: out, Err: &errb})
	}()
	// the whole capture, but the pipe stays open
	if _, err := pw.Write(capture); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for strings.Count(out.String(), "\n") < 3 {
		select {
		case <-out.wrote:
		case <-deadline:
			t.Fatalf("records not written while stdin is open; got %q", out.String())
		}
	}
	pw.Close()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), `"kind":"dns"`); n != 3 {
		t.Fatalf("%d records", n)
	}
}
