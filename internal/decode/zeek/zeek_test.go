package zeek

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// readAll decodes every row of data as kind k.
func readAll(t testing.TB, data []byte, name string, k Kind, queries bool) (int, Stats, []string) {
	t.Helper()
	z := NewReader(bytes.NewReader(data), name)
	z.Queries = queries
	var warned []string
	z.Warn = func(e *RowError) { warned = append(warned, e.Error()) }
	n := 0
	var err error
	for err == nil {
		switch k {
		case Conn:
			var recs []record.Flow
			recs, err = z.ReadFlows(nil, 100)
			n += len(recs)
		case DNS:
			var recs []record.DNS
			recs, err = z.ReadDNS(nil, 100)
			n += len(recs)
		case HTTP:
			var recs []record.Proxy
			recs, err = z.ReadProxy(nil, 100)
			n += len(recs)
		}
	}
	if err != io.EOF {
		t.Fatalf("%s: %v", name, err)
	}
	return n, z.Stats(), warned
}

// counter counts a Zeek log's rows independently of the decoder (awk):
// data rows, rows whose ts is a number (or, in JSON, an ISO time), and
// for dns.log rows that saw a response (rcode or answers set).
const counter = `
{ line = $0; sub(/^[ \t]+/, "", line) }
line == "" { next }
line ~ /^#separator/ { next }
line ~ /^#/ {
	n = split(line, p, "\t")
	if (p[1] == "#unset_field") unset = p[2]
	if (p[1] == "#fields") { delete col; for (i = 2; i <= n; i++) col[p[i]] = i - 1 }
	next
}
{ rows++ }
line ~ /^\{/ {
	ok = line ~ /"ts":[0-9]/ || line ~ /"ts":"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/
	resp = line ~ /"(rcode|answers)":[^n]/
	timed += ok; answered += ok && resp
	next
}
{
	split($0, v, "\t")
	ok = v[col["ts"]] ~ /^[0-9]+(\.[0-9]+)?$/
	resp = ("rcode" in col && v[col["rcode"]] != unset) || ("answers" in col && v[col["answers"]] != unset)
	timed += ok; answered += ok && resp
}
END { printf "{\"rows\":%d,\"timed\":%d,\"answered\":%d}\n", rows, timed, answered }
`

var zeekCut = map[string]bool{
	"count-default-tunnel-changes__conn.log": true, "geneve-arp__conn.log": true,
	"vxlan-inner-tcp-bad-checksum__conn.log": true, "geneve-inner-tcp-bad-checksum__conn.log": true,
}

type counts struct{ Rows, Timed, Answered int }

func countRows(t *testing.T, path string) counts {
	t.Helper()
	awk := testenv.Tool(t, "awk")
	out, err := exec.Command(awk, "-v", "unset=-", counter, path).Output()
	if err != nil {
		t.Fatalf("counting %s: %v", path, err)
	}
	var c counts
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCorpusCounts: every Zeek log of the corpus decodes into one record
// per row (dns: per row that saw a response, the rest counted as queries
// left out), and every other row is a counted, named skip: the btest
// baselines' canonified times (XXXXXXXXXX.XXXXXX) are not times.
func TestCorpusCounts(t *testing.T) {
	var files []string
	for _, dir := range []string{"zeek", "labelled/slips", "tunnels/zeek-baseline"} {
		all, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, dir), "*"))
		for _, f := range all {
			b := filepath.Base(f)
			if strings.Contains(b, "conn.log") || strings.Contains(b, "dns.log") || strings.Contains(b, "http.log") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 40 {
		t.Fatalf("%d Zeek logs in the corpus", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if zeekCut[filepath.Base(f)] {
				// zeek-cut's output of the columns its test chose (ts, uid,
				// history, tunnel_parents) under a plain header line: no
				// Zeek log, and no addresses to make a record of.
				if Sniff(data) {
					t.Fatal("zeek-cut output taken for a Zeek log")
				}
				return
			}
			if !Sniff(data[:min(len(data), 4096)]) {
				t.Fatal("not recognised as a Zeek log")
			}
			want := countRows(t, f)
			k := Conn
			switch b := filepath.Base(f); {
			case strings.Contains(b, "dns.log"):
				k = DNS
			case strings.Contains(b, "http.log"):
				k = HTTP
			}
			n, st, warned := readAll(t, data, f, k, false)
			if st.Rows != int64(want.Rows) {
				t.Errorf("%d rows read, python counts %d", st.Rows, want.Rows)
			}
			wantRecs := want.Timed
			if k == DNS {
				wantRecs = want.Answered
				if st.QueriesLeft != int64(want.Timed-want.Answered) {
					t.Errorf("%d queries left out, want %d", st.QueriesLeft, want.Timed-want.Answered)
				}
			}
			if n != wantRecs || st.Skipped != int64(want.Rows-want.Timed) || len(warned) != int(st.Skipped) {
				t.Errorf("%d records, %d skipped (%d warned), want %d and %d; warnings %q",
					n, st.Skipped, len(warned), wantRecs, want.Rows-want.Timed, warned[:min(3, len(warned))])
			}
			// With queries, every timed dns row is a record.
			if k == DNS {
				if n, _, _ := readAll(t, data, f, k, true); n != want.Timed {
					t.Errorf("with queries: %d records, want %d", n, want.Timed)
				}
			}
		})
	}
}
