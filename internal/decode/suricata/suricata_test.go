package suricata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

const python = "/usr/bin/python3"

// oracleOut is what testdata/oracle.py reads in an EVE file.
type oracleOut struct {
	Events      int64
	Skipped     int64
	Passed      map[string]int64
	Records     []json.RawMessage
	QueriesLeft int64 `json:"queries_left"`
	Merged      int64
}

func oracle(t *testing.T, path string) map[string]oracleOut {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import dns.rdatatype").CombinedOutput(); err != nil {
		testenv.Unavailable(t, "dnspython for "+python+" is missing (Debian: python3-dnspython): "+string(out))
	}
	cmd := exec.Command(python, "testdata/oracle.py", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var o map[string]oracleOut
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// read decodes every event of data for kind and returns each record's key
// fields as JSON, to compare with the oracle's.
func read(t *testing.T, data []byte, name, kind string, queries bool) ([]string, Stats, []string) {
	t.Helper()
	z := NewReader(bytes.NewReader(data), name)
	z.Queries = queries
	var warned []string
	z.Warn = func(e *LineError) { warned = append(warned, e.Error()) }
	var keys []string
	j := func(v ...any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, string(b))
	}
	var err error
	for err == nil {
		switch kind {
		case "flow":
			var recs []record.Flow
			recs, err = z.ReadFlows(nil, 7)
			for _, f := range recs {
				j(f.SIP, f.SPort, f.DIP, f.DPort, f.IPkt, f.IByt, f.OPkt, f.OByt, f.TStartNs, f.TEndNs, f.Flag)
			}
		case "dns":
			var recs []record.DNS
			recs, err = z.ReadDNS(nil, 7)
			for _, d := range recs {
				client, server := d.IPDst, d.IPSrc
				if !d.Response {
					client, server = server, client
				}
				answers := d.Answers
				if answers == nil {
					answers = []string{}
				}
				j(client, d.ClientPort, server, d.QryName, d.QryType, d.QryRcode, d.ID, d.Response, d.ANCount, answers, d.TsNs)
			}
		case "http":
			var recs []record.Proxy
			recs, err = z.ReadProxy(nil, 7)
			for _, p := range recs {
				j(p.ClientIP, p.Host, p.URIPath, p.URIQuery, p.RespCode, p.SCBytes)
			}
		}
	}
	if err != io.EOF {
		t.Fatalf("%s: %v", name, err)
	}
	return keys, z.Stats(), warned
}

// oracleKeys turns the oracle's records into read's form.
func oracleKeys(t *testing.T, kind string, o oracleOut) []string {
	var keys []string
	for _, raw := range o.Records {
		var v []any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "flow":
			v[10] = flowrec.Flags(uint8(v[10].(float64)))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		// numbers as the decoder's JSON writes them
		var norm []any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&norm); err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(norm)
		keys = append(keys, string(b))
	}
	return keys
}

func normalize(t *testing.T, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		var v []any
		d := json.NewDecoder(strings.NewReader(k))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	return out
}

// TestOracle: every EVE file of testdata/suricata, for each decoder,
// gives the records an independent reading of it (Python's json and
// datetime, dnspython's tables) gives, and skips and passes over what it
// counts.
func TestOracle(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "suricata/*.json*"))
	if len(files) < 7 {
		t.Fatalf("%d EVE files in testdata/suricata", len(files))
	}
	for _, f := range files {
		checkFile(t, f)
	}
}

// TestCorpus: every EVE log of the corpus (suricata/), as TestOracle.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, "suricata"), "*"))
	if len(files) < 2 {
		t.Fatalf("%d EVE logs in the corpus", len(files))
	}
	for _, f := range files {
		checkFile(t, f)
	}
}

// checkFile compares each decoder's reading of the EVE file f with the
// oracle's.
func checkFile(t *testing.T, f string) {
	data := testenv.ReadFile(t, f)
	readings := oracle(t, f)
	for _, kind := range []string{"flow", "dns", "http"} {
		for _, queries := range []bool{false, true} {
			if queries && kind != "dns" {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s/queries=%v", filepath.Base(f), kind, queries), func(t *testing.T) {
				want := readings[kind]
				if queries {
					want = readings["dns_queries"]
				}
				got, st, warned := read(t, data, f, kind, queries)
				if st.Events != want.Events || st.Skipped != want.Skipped || int64(len(warned)) != st.Skipped ||
					st.QueriesLeft != want.QueriesLeft || st.Merged != want.Merged {
					t.Errorf("events %d skipped %d (warned %d) queries left %d merged %d; oracle: %d %d %d %d; warnings %q",
						st.Events, st.Skipped, len(warned), st.QueriesLeft, st.Merged,
						want.Events, want.Skipped, want.QueriesLeft, want.Merged, warned)
				}
				if !reflect.DeepEqual(st.Passed, want.Passed) && (len(st.Passed) > 0 || len(want.Passed) > 0) {
					t.Errorf("passed over %v, oracle %v", st.Passed, want.Passed)
				}
				wantKeys := oracleKeys(t, kind, want)
				got = normalize(t, got)
				if st.Records != int64(len(got)) {
					t.Errorf("Stats.Records %d, %d records", st.Records, len(got))
				}
				if len(got) != len(wantKeys) {
					t.Fatalf("%d records, oracle %d", len(got), len(wantKeys))
				}
				for i := range got {
					if got[i] != wantKeys[i] {
						t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], wantKeys[i])
					}
				}
			})
		}
	}
}
