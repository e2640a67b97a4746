package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/testenv"
)

// TestDecodeSkipsForeignInputs: an input of several that is not of a format
// the decoder reads (a README among captures) is named, skipped and counted
// (exit 3) and the others are written; with --strict, or alone, it ends the
// run with nothing written (#20 item 4).
func TestDecodeSkipsForeignInputs(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# Captures\n\nThese are the captures of the 2nd of January.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, input string
	}{
		{"dns", filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap")},
		{"flow", filepath.Join(testenv.Testdata(t, "flow"), "icmp_5-pings.pcap")},
		{"proxy", filepath.Join(testenv.Testdata(t, "proxy"), "squid-native.access.log")},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			decode := func(args ...string) (code int, stderr string, records int, written bool) {
				out := filepath.Join(dir, tc.kind+".ndjson")
				os.Remove(out)
				st, _, errb := Test("")
				code = Run(context.Background(), append([]string{"decode", tc.kind, "-o", out}, args...), st)
				f, err := os.Open(out)
				if err != nil {
					return code, errb.String(), 0, false
				}
				defer f.Close()
				sc := bufio.NewScanner(f)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					records++
				}
				return code, errb.String(), records, true
			}
			code, stderr, alone, _ := decode(tc.input)
			if code != ExitOK || alone == 0 {
				t.Fatalf("%s alone: exit %d, %d records: %s", tc.input, code, alone, stderr)
			}
			code, stderr, n, _ := decode(tc.input, readme)
			if code != ExitSkipped || n != alone {
				t.Errorf("with a README: exit %d, %d records; want exit %d and the capture's %d records", code, n, ExitSkipped, alone)
			}
			for _, want := range []string{"file=" + readme, "skipped 1 input not of a format it reads"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("with a README: stderr %q lacks %q", stderr, want)
				}
			}
			if code, stderr, _, written := decode("--strict", tc.input, readme); code != ExitError || written || !strings.Contains(stderr, readme) {
				t.Errorf("--strict: exit %d, output written %v, stderr %q; want exit %d naming the README, nothing written", code, written, stderr, ExitError)
			}
			if code, stderr, _, written := decode(readme, readme); code != ExitError || written || !strings.Contains(stderr, readme) {
				t.Errorf("only READMEs: exit %d, output written %v, stderr %q; want exit %d, nothing written", code, written, stderr, ExitError)
			}
		})
	}
}

// TestDecodeFlowFindsExports: a capture of exports to a port outside the
// --ports is read as exports, found by their content, and says which port;
// --from exports on a capture without any says so and fails (#20 item 2).
func TestDecodeFlowFindsExports(t *testing.T) {
	flows := testenv.Testdata(t, "flow")
	run := func(args ...string) (int, string, string) {
		st, out, errb := Test("")
		code := Run(context.Background(), append([]string{"decode", "flow"}, args...), st)
		return code, out.String(), errb.String()
	}
	capture := filepath.Join(flows, "alexa-app.softflowd-v5.pcap") // softflowd to port 29995
	code, named, stderr := run("--ports", "29995", capture)
	if code != ExitOK || strings.Count(named, "\n") < 10 {
		t.Fatalf("--ports 29995: exit %d, %d records: %s", code, strings.Count(named, "\n"), stderr)
	}
	code, found, stderr := run(capture)
	if code != ExitOK || found != named {
		t.Errorf("without --ports: exit %d, %d records; want the %d of --ports 29995", code, strings.Count(found, "\n"), strings.Count(named, "\n"))
	}
	if !strings.Contains(stderr, "exports by their content") || !strings.Contains(stderr, "port=29995") {
		t.Errorf("without --ports: stderr %q does not say the exports were found on port 29995", stderr)
	}
	// raw traffic is still raw traffic
	if code, out, stderr := run(filepath.Join(flows, "conn-size.pcap")); code != ExitOK || out == "" || strings.Contains(stderr, "exports") {
		t.Errorf("raw traffic: exit %d, stderr %q", code, stderr)
	}
	dns := filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap")
	if code, out, stderr := run("--from", "exports", dns); code != ExitError || out != "" || !strings.Contains(stderr, "holds no NetFlow/IPFIX or sFlow export") {
		t.Errorf("--from exports on DNS traffic: exit %d, output %q, stderr %q; want exit %d saying there are no exports", code, out, stderr, ExitError)
	}
}

// TestDecodeProgress (#20 item 5): on a terminal, decode shows how much of
// its files it has read, out of their size; in a pipe or log, or with -q,
// nothing.
func TestDecodeProgress(t *testing.T) {
	pcap := filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap") // 868 bytes
	out := filepath.Join(t.TempDir(), "dns.ndjson")
	for _, tc := range []struct {
		tty, quiet bool
		want       bool
	}{{true, false, true}, {false, false, false}, {true, true, false}} {
		st, _, errb := Test("")
		st.StderrTTY = tc.tty
		args := []string{"decode", "dns", pcap, "-o", out}
		if tc.quiet {
			args = append([]string{"-q"}, args...)
		}
		if code := Run(context.Background(), args, st); code != ExitOK {
			t.Fatalf("%q: exit %d: %s", args, code, errb)
		}
		if got := strings.Contains(errb.String(), "decode dns") && strings.Contains(errb.String(), "/868 B"); got != tc.want {
			t.Errorf("%q, stderr a terminal %v: progress shown %v, want %v: %q", args, tc.tty, got, tc.want, errb)
		}
	}
}

// TestFeaturizeProgress (#20 item 5): featurize --counts shows on a
// terminal how many records it has read, out of the total when the inputs
// are Parquet files.
func TestFeaturizeProgress(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "dns.parquet")
	st, _, errb := Test("")
	if code := Run(context.Background(), []string{"decode", "dns", filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap"), "-o", events}, st); code != ExitOK {
		t.Fatalf("decode: exit %d: %s", code, errb)
	}
	st, out, errb := Test("")
	if code := Run(context.Background(), []string{"filter", events, "-f", "ndjson"}, st); code != ExitOK {
		t.Fatalf("filter: exit %d: %s", code, errb)
	}
	total := strings.Count(out.String(), "\n")
	st, _, errb = Test("")
	st.StderrTTY = true
	if code := Run(context.Background(), []string{"featurize", "--counts", events, "-o", filepath.Join(dir, "counts.parquet")}, st); code != ExitOK {
		t.Fatalf("featurize: exit %d: %s", code, errb)
	}
	if want := fmt.Sprintf("/%d, ", total); !strings.Contains(errb.String(), "featurize") || !strings.Contains(errb.String(), want) {
		t.Errorf("featurize --counts on a terminal: stderr %q, want a progress line with %q", errb, want)
	}
}

// TestFlowProgress (#20 item 5): on a terminal, featurize --counts of flow
// Parquet (counted column by column), detect, and score's fused method,
// whose first pass is the detectors', show their progress out of the
// inputs' row count; train shows its reading.
func TestFlowProgress(t *testing.T) {
	dir := t.TempDir()
	run := func(tty bool, args ...string) (stdout, stderr string) {
		t.Helper()
		st, out, errb := Test("")
		st.StderrTTY = tty
		if code := Run(context.Background(), args, st); code != ExitOK {
			t.Fatalf("spot %q: exit %d: %s", args, code, errb)
		}
		return out.String(), errb.String()
	}
	flows := filepath.Join(dir, "flows.parquet")
	run(false, "decode", "flow", filepath.Join(testenv.Testdata(t, "flow"), "alexa-app.softflowd-v5.pcap"), "-o", flows)
	records, _ := run(false, "filter", flows, "-f", "ndjson")
	total := fmt.Sprintf("/%d, ", strings.Count(records, "\n"))
	model := filepath.Join(dir, "flow.model")
	if _, stderr := run(true, "train", flows, "-o", model, "--topics", "2", "--iterations", "2"); !strings.Contains(stderr, "train: reading") {
		t.Errorf("train on a terminal: stderr %q shows no progress of its reading", stderr)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"featurize", "--counts", flows, "-o", filepath.Join(dir, "counts.parquet")}, []string{"featurize", total}},
		{[]string{"detect", flows, "-o", filepath.Join(dir, "findings.ndjson")}, []string{"detect", total}},
		{[]string{"score", "-m", model, flows, "-o", filepath.Join(dir, "scored.parquet")}, []string{"score: detectors", total}},
	} {
		_, stderr := run(true, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("spot %q on a terminal: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if tc.args[0] == "score" && strings.LastIndex(stderr, "\rscore ") < strings.Index(stderr, "score: detectors") {
			t.Errorf("score on a terminal: stderr %q does not show the scoring pass after the detectors'", stderr)
		}
	}
}

// TestFileProgressRecords: a decoder's bar of bytes read says how many
// records were written in its description.
func TestFileProgressRecords(t *testing.T) {
	st, _, errb := Test("")
	st.StderrTTY = true
	g := &globals{io: st}
	p := g.newFileProgress("decode dns", []string{filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap")})
	if p == nil || p.reader() == nil {
		t.Fatal("no bar of bytes for a file of known size")
	}
	time.Sleep(250 * time.Millisecond) // the bar redraws at most every 200 ms
	p.Wrote(3)
	p.reader()(100)
	p.Wrote(4)
	p.Done()
	if !strings.Contains(errb.String(), "decode dns: 3 records") || !strings.Contains(errb.String(), "/868 B") {
		t.Errorf("stderr %q, want the records written beside the bytes read of 868", errb)
	}
	if g.newFileProgress("decode dns", []string{"-"}).reader() != nil {
		t.Error("a bar of bytes for stdin, whose size is not known")
	}
}

// TestProgressStopped: a run's progress displays left without Done (a
// stage that returned early) are finished when the run ends, so no
// spinner goroutine draws after it.
func TestProgressStopped(t *testing.T) {
	st, _, _ := Test("")
	st.StderrTTY = true
	g := &globals{io: st}
	done, left := g.newProgress("train: reading", "records", -1), g.newProgress("detect", "records", -1)
	if done == nil || left == nil {
		t.Fatal("no progress on a terminal")
	}
	done.Done()
	done.Done() // twice is once
	if left.bar.IsFinished() {
		t.Fatal("a display finished before the run ended")
	}
	g.stopProgress()
	if !left.bar.IsFinished() {
		t.Error("a display left running is not finished when the run ends")
	}
	if len(g.progs) != 0 {
		t.Errorf("%d displays still held", len(g.progs))
	}
}
