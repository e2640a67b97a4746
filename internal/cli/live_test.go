package cli

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/testenv"
)

// liveWait is how long a record may take to cross a pipeline whose input
// stays open (0.2-0.4 s measured on a 2-core machine at load 30).
const liveWait = time.Second

// runPipe runs stages (argument lists of spot) joined by pipes, in process,
// with in as the first stage's stdin. It returns the last stage's stdout and
// a channel of the stages' exit codes, sent when all have ended.
func runPipe(t *testing.T, in io.Reader, stages ...[]string) (io.Reader, <-chan []int) {
	t.Helper()
	done := make(chan []int, 1)
	codes := make([]int, len(stages))
	ends := make(chan struct{}, len(stages))
	for i, args := range stages {
		pr, pw := io.Pipe()
		var errb strings.Builder
		st := &IO{In: in, Out: pw, Err: &lockedWriter{w: &errb}}
		go func() {
			codes[i] = Run(context.Background(), args, st)
			pw.Close()
			if codes[i] != 0 {
				t.Logf("spot %s: exit %d: %s", strings.Join(args, " "), codes[i], errb.String())
			}
			ends <- struct{}{}
		}()
		in = pr
	}
	go func() {
		for range stages {
			<-ends
		}
		done <- codes
	}()
	return in, done
}

// lockedWriter is a stderr a stage may write from several goroutines.
type lockedWriter struct{ w io.Writer }

func (l *lockedWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// TestLivePipes: a record reaches the end of a three-stage pipeline while
// the capture feeding it stays open, as with "tcpdump -w - | spot decode dns
// | ...": every streaming stage writes what it has when its input goes idle.
// The capture has three responses, less than a buffer's worth of records.
func TestLivePipes(t *testing.T) {
	capture := testenv.ReadFile(t, filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap"))
	dir := t.TempDir()
	events, model := filepath.Join(dir, "dns.ndjson"), filepath.Join(dir, "dns.model")
	for _, args := range [][]string{
		{"decode", "dns", "-o", events},
		{"train", events, "-o", model, "--topics", "2", "--iterations", "5"},
	} {
		st, _, errb := Test(string(capture))
		if code := Run(context.Background(), args, st); code != 0 {
			t.Fatalf("spot %s: exit %d: %s", strings.Join(args, " "), code, errb)
		}
	}
	for _, tc := range []struct {
		name   string
		stages [][]string
	}{
		{"featurize and filter", [][]string{{"decode", "dns"}, {"featurize"}, {"filter"}}},
		{"score and filter", [][]string{{"decode", "dns"}, {"score", "-m", model}, {"filter", "--max-score", "1"}}},
		{"filter to CSV", [][]string{{"decode", "dns"}, {"filter"}, {"filter", "-f", "csv"}}},
		{"decode to CSV", [][]string{{"decode", "dns", "-f", "csv"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go pw.Write(capture) // and the capture stays open
			out, done := runPipe(t, pr, tc.stages...)
			line := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(out)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					if l := sc.Text(); l != "" && !strings.HasPrefix(l, "frame_time,") { // not CSV's header
						line <- l
						break
					}
				}
				io.Copy(io.Discard, out)
			}()
			start := time.Now()
			select {
			case l := <-line:
				t.Logf("first record after %v: %.80s", time.Since(start).Round(time.Millisecond), l)
			case <-time.After(liveWait):
				t.Errorf("no record at the end of the pipeline %v after %v with its input open", time.Since(start), liveWait)
			}
			pw.Close()
			for i, c := range <-done {
				if c != 0 {
					t.Errorf("stage %d exited %d", i+1, c)
				}
			}
		})
	}
}
