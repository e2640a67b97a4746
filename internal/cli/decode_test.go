package cli

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
