package cli

import (
	"context"
	"encoding/json"
	"fmt"
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

// The exit statuses and messages a new user meets (#20 items 3 and 7):
// typos and bad values are usage errors naming what was meant, malformed
// feedback rows are skipped and counted, and messages speak of columns, not
// of Go types.
func TestRunFirstHour(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scored := write("scored.ndjson", `{"kind":"dns","stream":"scored","ip_dst":"10.0.0.1","dns_qry_name":"a.example","score":0.5,"eid":1}`+"\n")
	low := write("low.ndjson", `{"kind":"dns","stream":"scored","ip_dst":"10.0.0.1","dns_qry_name":"a.example","severity":"low"}`+"\n")
	seven := write("seven.ndjson", `{"kind":"dns","stream":"scored","ip_dst":"10.0.0.1","dns_qry_name":"a.example","severity":7}`+"\n")
	unjudged := write("unjudged.ndjson", `{"kind":"dns","stream":"scored","ip_dst":"10.0.0.1","dns_qry_name":"a.example"}`+"\n"+ // not judged yet
		`{"kind":"dns","stream":"scored","ip_dst":"10.0.0.2","dns_qry_name":"b.example","severity":3}`+"\n")
	events := write("events.ndjson", `{"kind":"dns","frame_time":"Jan  4, 2017 04:41:06.337519000 UTC","unix_tstamp":1483504866,"frame_len":90,"ip_dst":"10.0.0.1","ip_src":"10.0.0.53","dns_qry_name":"www.example.com","dns_qry_type":1,"eid":1}`+"\n")
	for _, tc := range []struct {
		args      []string
		code      int
		stderr    string
		notStderr string
	}{
		{[]string{"decode", "dnss", "x.pcap"}, ExitUsage, `unknown command "dnss" for "spot decode"; did you mean "dns"?`, ""},
		{[]string{"decode", "x.pcap"}, ExitUsage, `(want dns, flow, proxy)`, ""},
		{[]string{"filterr"}, ExitUsage, `unknown command "filterr" for "spot"; did you mean "filter"?`, ""},
		{[]string{"train", "--alpha", "-1", scored, "-o", dir + "/m"}, ExitUsage, "alpha must be", ""},
		{[]string{"filter", "--top", "0", scored}, ExitUsage, "--top must be at least 1", ""},
		{[]string{"filter", ""}, ExitUsage, "input 1 of 1 is an empty file name", ""},
		{[]string{"filter", scored, "-o", ""}, ExitUsage, "-o: an empty path", ""},
		{[]string{"filter", "--feedback", low, scored}, ExitSkipped, "column severity: a string where an integer is expected", "Go struct"},
		{[]string{"filter", "--feedback", seven, scored}, ExitSkipped, "severity 7 is not 1 (high), 2 (medium) or 3 (low risk)", ""},
		{[]string{"filter", "--feedback", unjudged, scored}, ExitOK, "", "malformed"},
		{[]string{"train", "--feedback", seven, events, "-o", dir + "/7.model", "--topics", "2", "--iterations", "2"}, ExitSkipped, "severity 7 is not 1 (high), 2 (medium) or 3 (low risk)", ""},
		{[]string{"train", "--feedback", unjudged, events, "-o", dir + "/u.model", "--topics", "2", "--iterations", "2"}, ExitOK, "", "malformed"},
		{[]string{"filter", scored, "-o", dir}, ExitError, dir + " is a directory: name a file in it", ".tmp"},
		{[]string{"filter", scored, "-o", dir + "/missing/x.ndjson"}, ExitError, "directory " + dir + "/missing does not exist", ".tmp"},
		{[]string{"train", scored, "-o", dir + "/missing/x.model"}, ExitError, "directory " + dir + "/missing does not exist", ".tmp"},
		{[]string{"-q", "filter", "--feedback", low, scored}, ExitSkipped, "skipped 1 malformed records, 1 of them in the feedback file (-q hid the warnings that name them)", "warnings above"},
	} {
		st, _, errb := Test("")
		code := Run(context.Background(), tc.args, st)
		if code != tc.code {
			t.Errorf("spot %q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, errb)
		}
		if !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("spot %q: stderr %q, want it to contain %q", tc.args, errb, tc.stderr)
		}
		if tc.notStderr != "" && strings.Contains(errb.String(), tc.notStderr) {
			t.Errorf("spot %q: stderr %q contains %q", tc.args, errb, tc.notStderr)
		}
	}
	// Under --log-json every line of stderr, the closing one too, is JSON.
	st, _, errb := Test("")
	if code := Run(context.Background(), []string{"--log-json", "filter", "--feedback", low, scored}, st); code != ExitSkipped {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("--log-json wrote a line that is not JSON: %q", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, `"exit":3`) || !strings.Contains(last, `"skipped":1`) {
		t.Errorf("--log-json closing line %q", last)
	}
}

// TestRejectsHint: the warning about rows Apache Spot rejects points at a
// flag the stage has: featurize's --rejects, not a --rejects score lacks.
func TestRejectsHint(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "dns.ndjson")
	good := `{"kind":"dns","frame_time":"Jan  4, 2017 04:41:06.337519000 UTC","unix_tstamp":1483504866,"frame_len":90,"ip_dst":"10.0.0.1","ip_src":"10.0.0.53","dns_qry_name":"www.example.com","dns_qry_type":1,"eid":1}`
	reject := `{"kind":"dns","frame_time":"Jan  4, 2017 04:41:06.337519000 UTC","unix_tstamp":1483504866,"frame_len":90,"ip_dst":"10.0.0.1","ip_src":"10.0.0.53","dns_qry_name":"","eid":2}`
	if err := os.WriteFile(events, []byte(good+"\n"+reject+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "dns.model")
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"train", events, "-o", model, "--topics", "2", "--iterations", "2"}, "(spot featurize --rejects FILE writes them out)"},
		{[]string{"score", "-m", model, events}, "(spot featurize --rejects FILE writes them out)"},
		{[]string{"featurize", events}, "(--rejects FILE writes them out)"},
		{[]string{"featurize", events, "--rejects", filepath.Join(dir, "rej.ndjson")}, "(written to " + filepath.Join(dir, "rej.ndjson") + ")"},
	} {
		st, _, errb := Test("")
		if code := Run(context.Background(), tc.args, st); code != ExitOK {
			t.Fatalf("spot %q: exit %d: %s", tc.args, code, errb)
		}
		if !strings.Contains(errb.String(), "rows Apache Spot would reject were left out "+tc.hint) {
			t.Errorf("spot %q: stderr %q, want the hint %q", tc.args, errb, tc.hint)
		}
	}
}

// TestScoreUnfamiliarModel (#20 item 7): a model that knows none of the
// input's words or hosts (trained on other traffic) says so, naming the
// model and the input, rather than scoring every event 0 in silence.
func TestScoreUnfamiliarModel(t *testing.T) {
	dir := t.TempDir()
	event := func(client, name string, qtype, length, eid int) string {
		return fmt.Sprintf(`{"kind":"dns","frame_time":"Jan  4, 2017 04:41:06.337519000 UTC","unix_tstamp":1483504866,"frame_len":%d,"ip_dst":"%s","ip_src":"10.0.0.53","dns_qry_name":"%s","dns_qry_type":%d,"eid":%d}`,
			length, client, name, qtype, eid) + "\n"
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var own, other string
	for i := 0; i < 20; i++ {
		own += event(fmt.Sprintf("10.0.0.%d", i%4+1), "www.example.com", 1, 90, i+1)
		other += event(fmt.Sprintf("172.16.0.%d", i%4+1), fmt.Sprintf("x%dq9z.tunnel-%d.example.org", i*7919, i), 16, 400, i+1)
	}
	ownPath, otherPath := write("own.ndjson", own), write("other.ndjson", other)
	model := filepath.Join(dir, "dns.model")
	st, _, errb := Test("")
	if code := Run(context.Background(), []string{"train", ownPath, "-o", model, "--topics", "2", "--iterations", "2"}, st); code != ExitOK {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
	for _, tc := range []struct {
		input string
		want  []string
	}{
		{ownPath, nil},
		{otherPath, []string{"the model knows none of the input's words", "the model knows none of the input's hosts", "model=" + model, "input=" + otherPath, "events=20"}},
	} {
		st, _, errb := Test("")
		if code := Run(context.Background(), []string{"score", "-m", model, tc.input, "-o", filepath.Join(dir, "scored.ndjson")}, st); code != ExitOK {
			t.Fatalf("score %s: exit %d: %s", tc.input, code, errb)
		}
		for _, w := range tc.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("score %s: stderr %q lacks %q", tc.input, errb, w)
			}
		}
		if tc.want == nil && strings.Contains(errb.String(), "the model knows") {
			t.Errorf("score of the model's own input: stderr %q", errb)
		}
	}
}
