package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/cli"
	"github.com/spot-hunt/spot/internal/testenv"
)

// rowsOf counts a Zeek log's rows (lines not starting with #) and its
// label column's values, by plain text, apart from ReadZeekLabels.
func rowsOf(t *testing.T, path string) (int, map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n, values, col := 0, map[string]int{}, -1
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "#fields\t"); ok {
			for i, name := range strings.Split(h, "\t") {
				if name == "label" {
					col = i
				}
			}
		}
		if line == "" || line[0] == '#' {
			continue
		}
		n++
		values[strings.Split(line, "\t")[col]]++
	}
	return n, values
}

// TestZeekLabels reads CTU-SME-11's labelled Zeek logs (testdata/eval) as
// the eval does and asserts the counts per label that the files hold: the
// conn.log's 719 RemcosRAT connections, 44 benign and 3 unknown rows; the
// dns.log's 22 lookups, all benign (LLMNR: no attack lookups, so no DNS
// dataset). Then every flow spot decodes from the conn.log is joined to
// exactly one row and every row to one flow, with the same counts.
func TestZeekLabels(t *testing.T) {
	dir := filepath.Join(testenv.ModuleRoot(t), "testdata", "eval")
	for _, c := range []struct {
		file string
		want map[string]int
		raw  map[string]int
	}{
		{"ctu-sme-11.conn.log.labeled.gz", map[string]int{"rat-remcos": 719, "benign": 44, Unknown: 3},
			map[string]int{"Malicious": 719, "Benign": 44, "Unknown": 3}},
		{"ctu-sme-11.dns.log.labeled.gz", map[string]int{"benign": 22}, map[string]int{"Benign": 22}},
	} {
		path := filepath.Join(dir, c.file)
		rows, err := ReadZeekLabels(path, ZeekLabels("rat-remcos"))
		if err != nil {
			t.Fatal(err)
		}
		n, raw := rowsOf(t, path)
		if len(rows) != n {
			t.Errorf("%s: %d rows read, the file has %d", c.file, len(rows), n)
		}
		if !maps.Equal(raw, c.raw) {
			t.Errorf("%s: label column %v, want %v", c.file, raw, c.raw)
		}
		if got := countLabels(rows); !maps.Equal(got, c.want) {
			t.Errorf("%s: labels %v, want %v", c.file, got, c.want)
		}
	}

	path := filepath.Join(dir, "ctu-sme-11.conn.log.labeled.gz")
	rows, err := ReadZeekLabels(path, ZeekLabels("rat-remcos"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"decode", "flow", path}, &cli.IO{Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("spot decode flow: exit %d\n%s", code, errb.String())
	}
	var events []ZeekEvent
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r struct {
			TStartNs     int64  `json:"tstart_ns"`
			Proto        string `json:"proto"`
			SIP, DIP     string
			SPort, DPort int32
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		events = append(events, ZeekEvent{r.TStartNs, FlowKey{r.Proto, r.SIP, r.SPort, r.DIP, r.DPort}})
	}
	ls, err := JoinZeekLabels(rows, events)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, l := range ls {
		got[l]++
	}
	if want := countLabels(rows); !maps.Equal(got, want) {
		t.Errorf("decoded flows' labels %v, rows' %v", got, want)
	}
	// the join refuses a row left over and a flow of no row
	if _, err := JoinZeekLabels(rows, events[1:]); err == nil {
		t.Error("a row without its flow joined")
	}
	bad := append([]ZeekEvent{}, events...)
	bad[0].TsNs++
	if _, err := JoinZeekLabels(rows, bad); err == nil {
		t.Error("a flow 1 ns off its row joined")
	}
}

func TestReadZeekLabelsRefuses(t *testing.T) {
	dir := t.TempDir()
	head := "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tlabel\n"
	for name, body := range map[string]string{
		"unknown label":   head + "1.5\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tSuspicious\n",
		"no label column": "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n1.5\t10.0.0.1\t1\t10.0.0.2\t2\n",
		"short row":       head + "1.5\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n",
		"bad time":        head + "x\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tBenign\n",
	} {
		p := filepath.Join(dir, "x.log")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadZeekLabels(p, ZeekLabels("rat-remcos")); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	p := filepath.Join(dir, "ok.log")
	if err := os.WriteFile(p, []byte(head+"1.000000500\t10.0.0.1\t3\t10.0.0.2\t3\ticmp\tMalicious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadZeekLabels(p, ZeekLabels("rat-remcos"))
	if err != nil || len(rows) != 1 {
		t.Fatalf("%v %v", rows, err)
	}
	if r := rows[0]; r.TsNs != 1_000_000_500 || r.Label != "rat-remcos" || r.Key != (FlowKey{"ICMP", "10.0.0.1", 0, "10.0.0.2", 3*256 + 3}) {
		t.Errorf("read %+v", r)
	}
}

func TestShiftZeekTimes(t *testing.T) {
	in := "#fields\tuid\tts\n#types\tstring\ttime\na\t1677024003.714845\nb\t99\n#close\tx\n"
	var out bytes.Buffer
	if err := ShiftZeekTimes(strings.NewReader(in), &out, 100); err != nil {
		t.Fatal(err)
	}
	want := "#fields\tuid\tts\n#types\tstring\ttime\na\t1677024103.714845\nb\t199\n#close\tx\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func countLabels(rows []ZeekRow) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r.Label]++
	}
	return m
}
