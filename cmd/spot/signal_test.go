package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// buildSpot builds the binary for tests that need a real process to signal.
func buildSpot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Ctrl-C in the middle of a stream: exit 130, a short message, and no
// output file, partial or temporary.
func TestInterruptLeavesNoOutput(t *testing.T) {
	bin := buildSpot(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"filter", "-o", "out.parquet"},
		{"filter", "-o", "out.ndjson"},
		{"featurize", "-o", "out.ndjson"},
		{"featurize", "--counts", "-o", "counts.parquet"},
	} {
		out := strings.Join(args, " ")
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		stdin, _ := cmd.StdinPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line := `{"kind":"flow","sip":"10.0.0.1","dip":"10.0.0.2","dport":53,"proto":"UDP"}` + "\n"
		stdin.Write([]byte(strings.Repeat(line, 5000))) // records are flowing; the input stays open
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		// A read waiting on the open stdin must end too: not by the deadline
		// is a failure, not a hang.
		deadline := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		deadline.Stop()
		stdin.Close()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Errorf("%s: %v after SIGINT, want exit 130 (stderr %q)", out, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%s: stderr %q does not say interrupted", out, stderr.String())
		}
		left, _ := os.ReadDir(dir)
		for _, e := range left {
			t.Errorf("%s: left %s behind", out, e.Name())
		}
	}
}

// Ctrl-C ends a stage waiting on an idle pipe at once (a cancel does not
// wake its read; it took a second signal): exit 130, saying so, nothing
// left behind.
func TestInterruptOnIdlePipe(t *testing.T) {
	bin := buildSpot(t)
	dir := t.TempDir()
	pcap, err := os.ReadFile("../../testdata/dns/ndpi_dns_fragmented.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "decode", "dns", "-o", "out.ndjson")
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A capture whose writer goes quiet; more than a pipe holds, so that
	// spot is reading (and catching signals) once the write returns.
	stdin.Write(pcap)
	for range 4 {
		stdin.Write(pcap[24:]) // its packets again
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	deadline := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	deadline.Stop()
	stdin.Close()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("%v after one SIGINT, want exit 130 (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted while waiting for input on standard input") {
		t.Errorf("stderr %q does not say it stopped while waiting for input", stderr.String())
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		t.Errorf("left %s behind", e.Name())
	}
}

// The collector, flooded on loopback, gets SIGTERM twice, the second
// inside its drain: it still writes every record it received, leaves no
// temporary file and exits 0.
func TestCollectorDoubleSignal(t *testing.T) {
	bin := buildSpot(t)
	dir := t.TempDir()
	tpl, err1 := os.ReadFile("../../testdata/flow/netflow9_test_cisco_asa_1_tpl.dat")
	data, err2 := os.ReadFile("../../testdata/flow/netflow9_test_cisco_asa_1_data.dat")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "decode", "flow", "--listen", "udp://127.0.0.1:0", "-o", dir, "-v")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := waitFor(t, stderr, regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`))
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(tpl)
	stopAt := time.Now().Add(time.Second)
	for sent := 0; ; sent++ { // a flood: as fast as loopback takes it, for a second
		if sent%256 == 0 && time.Now().After(stopAt) {
			break
		}
		conn.Write(data)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	// The second as soon as the first is seen (5 ms might merge the two
	// in the kernel on a loaded machine).
	waitFor(t, stderr, regexp.MustCompile(`(stopping: reading)`))
	cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	deadline.Stop()
	if err != nil {
		t.Errorf("%v after SIGTERM twice, want exit 0 (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "without draining the socket") {
		t.Errorf("the second signal was not taken as one (stderr %q)", stderr.String())
	}
	m := regexp.MustCompile(`decoded (\d+) flow records into (\d+) files`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no counts on stderr: %q", stderr.String())
	}
	decoded, _ := strconv.ParseInt(m[1], 10, 64)
	var written int64
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".parquet") {
			t.Errorf("left %s behind", path)
			return nil
		}
		in, err := ioformat.Open(path, nil)
		if err != nil {
			return err
		}
		written += in.ParquetFile().NumRows()
		return in.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if decoded < 1000 || written != decoded {
		t.Errorf("%d flow records in the partitions, %d decoded (want equal, and a flood's worth)", written, decoded)
	}
	t.Logf("flood: %d records decoded and written; %s", decoded, stderr.String())
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until re matches what b holds and returns its first group.
func waitFor(t *testing.T, b *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %s in %q after 20 s", re, b.String())
	return ""
}

// SIGINT and SIGTERM are caught from before spot's own packages and its
// dependencies' initialize (GODEBUG=inittrace lists the inits in order):
// a signal during the start-up, which takes tens of milliseconds, then
// exits 130 rather than killing spot.
func TestSignalsCaughtAtStart(t *testing.T) {
	bin := buildSpot(t)
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var inits []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "init" {
			inits = append(inits, f[1])
		}
	}
	const catcher = "github.com/spot-hunt/spot/internal/interrupt"
	for i, p := range inits {
		if p == catcher {
			t.Logf("signals caught after %d of %d package inits", i, len(inits))
			return
		}
		if strings.HasPrefix(p, "github.com/spot-hunt/") || p == "github.com/spf13/cobra" || i >= len(inits)/4 {
			t.Fatalf("%s initializes before %s (init %d of %d): a signal then kills spot", p, catcher, i+1, len(inits))
		}
	}
	t.Fatalf("no %s among the %d package inits: signals are caught only once main runs", catcher, len(inits))
}
