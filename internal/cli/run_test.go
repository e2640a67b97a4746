package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Run maps each kind of outcome to its documented exit status and prefixes
// messages with the stage once.
func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{[]string{"--version"}, "", ExitOK, ""},
		{[]string{"filter", "--bogus"}, "", ExitUsage, "spot: filter: unknown flag: --bogus"},
		{[]string{"filter", "-f", "xml"}, `{"kind":"flow","sip":"1.2.3.4"}` + "\n", ExitUsage, "spot: filter: -f: unknown format"},
		{[]string{"filter"}, `{"kind":"flow","sip":"1.2.3.4"}` + "\n{oops\n", ExitSkipped, "spot: filter: skipped 1 malformed records"},
		{[]string{"filter", "missing.ndjson"}, "", ExitError, "spot: filter: open missing.ndjson"},
		{[]string{"filter"}, "PAR1 not really", ExitError, "spot: filter: <stdin>: not a readable Parquet file"},
		{[]string{"report"}, "", ExitError, "spot: report: no records to report"},
	} {
		io, _, errb := Test(tc.stdin)
		code := Run(context.Background(), tc.args, io)
		if code != tc.code {
			t.Errorf("spot %v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, errb)
		}
		if !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("spot %v: stderr %q, want it to contain %q", tc.args, errb, tc.stderr)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io, out, errb := Test(`{"kind":"flow","sip":"1.2.3.4"}` + "\n")
	if code := Run(ctx, []string{"filter"}, io); code != ExitInterrupted {
		t.Errorf("exit %d after interrupt, want %d (stderr %q)", code, ExitInterrupted, errb)
	}
	if out.Len() != 0 {
		t.Errorf("interrupted run wrote %q", out)
	}
}

// committedCtx is a context whose interrupt arrives the moment path is
// renamed into place: after the work, before Run looks at the outcome.
type committedCtx struct {
	context.Context
	cancel context.CancelFunc
	path   string
}

func (c committedCtx) Err() error {
	if _, err := os.Stat(c.path); err == nil {
		c.cancel()
	}
	return c.Context.Err()
}

// An interrupt after the output is in place does not turn a finished run
// into an interrupted one: exit 0 and the new file; an interrupt before
// leaves the old file and exits 130. The message says which.
func TestRunInterruptAfterCommit(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "hunt", "flows.ndjson.gz")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"out.model", []string{"train", "--iterations", "3", sample}},
		{"out.parquet", []string{"filter", sample}},
	} {
		out := filepath.Join(t.TempDir(), tc.name)
		args := append(tc.args, "-o", out)

		base, cancel := context.WithCancel(context.Background())
		io, _, errb := Test("")
		code := Run(committedCtx{base, cancel, out}, args, io)
		cancel()
		if code != ExitOK || base.Err() == nil {
			t.Errorf("spot %v, interrupted after the rename: exit %d, want %d (stderr %q)", args, code, ExitOK, errb)
		}
		if !strings.Contains(errb.String(), "written in full") {
			t.Errorf("spot %v: stderr %q does not say the output was kept", args, errb)
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Errorf("spot %v: %s missing or empty after exit 0: %v", args, out, err)
		}

		if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		early, cancel2 := context.WithCancel(context.Background())
		cancel2()
		io, _, errb = Test("")
		if code := Run(early, args, io); code != ExitInterrupted {
			t.Errorf("spot %v, interrupted at once: exit %d, want %d (stderr %q)", args, code, ExitInterrupted, errb)
		}
		if !strings.Contains(errb.String(), "was not written") {
			t.Errorf("spot %v: stderr %q does not say the output was not written", args, errb)
		}
		if b, _ := os.ReadFile(out); string(b) != "old" {
			t.Errorf("spot %v: interrupted run replaced %s", args, out)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(left) > 0 {
			t.Errorf("spot %v: left %v", args, left)
		}
	}
}
