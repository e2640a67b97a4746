package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/cli"
	"github.com/spot-hunt/spot/internal/testenv"
)

// decode runs spot's decoder in process and returns its NDJSON records.
func decode(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	switch code := cli.Run(context.Background(), append([]string{"decode"}, args...), &cli.IO{Out: &out, Err: &errb}); code {
	case 0:
	case 3: // finished; malformed packets skipped and counted (gnutella.pcap holds one cut to 4 bytes)
		t.Logf("spot decode %s: %s", strings.Join(args, " "), strings.TrimSpace(errb.String()))
	default:
		t.Fatalf("spot decode %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	var recs []map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("decode output: %v", err)
		}
		recs = append(recs, m)
	}
	return recs
}

func datasets(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(testenv.ModuleRoot(t), "testdata", "eval")
	labels, err := filepath.Glob(filepath.Join(dir, "*.labels.csv.gz"))
	if err != nil || len(labels) == 0 {
		t.Fatalf("no label files in %s (%v)", dir, err)
	}
	return labels
}

func capture(t *testing.T, labels string) string {
	t.Helper()
	base := strings.TrimSuffix(labels, ".labels.csv.gz")
	for _, ext := range []string{".pcap.gz", ".pcapng.gz"} {
		if _, err := os.Stat(base + ext); err == nil {
			return base + ext
		}
	}
	t.Fatalf("%s: no capture %s.pcap.gz beside it", labels, base)
	return ""
}

func isDNS(t *testing.T, path string) bool {
	t.Helper()
	err := readCSV(path, DNSHeader[:1], func(int, []string) error { return nil })
	return err == nil
}

// TestLabelsCoverDecode asserts, for every dataset of testdata/eval, that
// each record spot decodes from the capture has exactly one label, known,
// and that each label names a decoded record: DNS messages (queries and
// responses) by frame, flows by connection.
func TestLabelsCoverDecode(t *testing.T) {
	for _, lp := range datasets(t) {
		name := strings.TrimSuffix(filepath.Base(lp), ".labels.csv.gz")
		t.Run(name, func(t *testing.T) {
			cp := capture(t, lp)
			count := map[string]int{}
			if isDNS(t, lp) {
				labels, err := ReadDNSLabels(lp)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[int64]bool{}
				for _, r := range decode(t, "dns", "--queries", cp) {
					fr := int64(r["frame"].(float64))
					l, ok := labels[fr]
					if !ok {
						t.Fatalf("frame %d (%v %v -> %v) has no label", fr, r["dns_qry_name"], r["ip_src"], r["ip_dst"])
					}
					if q := strings.TrimSuffix(strings.ToLower(r["dns_qry_name"].(string)), "."); plain(l.QName) && q != l.QName {
						t.Fatalf("frame %d: decoded name %q, label row says %q", fr, q, l.QName)
					}
					if !seen[fr] {
						count[l.Label]++
					}
					seen[fr] = true
				}
				for fr := range labels {
					if !seen[fr] {
						t.Errorf("label of frame %d names no decoded message", fr)
					}
				}
			} else {
				labels, err := ReadFlowLabels(lp)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[FlowKey]bool{}
				for _, r := range decode(t, "flow", cp) {
					k := FlowKey{Proto: r["proto"].(string), SIP: r["sip"].(string), SPort: int32(r["sport"].(float64)),
						DIP: r["dip"].(string), DPort: int32(r["dport"].(float64))}.Canonical()
					l, ok := labels[k]
					if !ok {
						t.Fatalf("flow %s has no label", k)
					}
					count[l]++
					seen[k] = true
				}
				for k := range labels {
					if !seen[k] {
						t.Errorf("label of %s names no decoded flow", k)
					}
				}
			}
			var parts []string
			for l, n := range count {
				parts = append(parts, l+" "+strconv.Itoa(n))
			}
			sort.Strings(parts)
			t.Logf("%s: %s", name, strings.Join(parts, ", "))
			attacks := 0
			for l, n := range count {
				if l != "benign" {
					attacks += n
				}
			}
			if attacks == 0 || count["benign"] == 0 {
				t.Errorf("%s: want both benign and attack records, have %v", name, count)
			}
		})
	}
}

// plain says whether tshark and spot spell a name alike: printable letters,
// digits, dots, dashes and underscores only (iodine's raw bytes, the root's
// "<Root>" and over-long names are written differently).
func plain(name string) bool {
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return name != ""
}
