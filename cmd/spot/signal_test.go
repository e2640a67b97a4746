package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
