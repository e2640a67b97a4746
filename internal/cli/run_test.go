package cli

import (
	"context"
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
		{[]string{"report"}, "", ExitError, "spot: report: report is not implemented yet"},
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
