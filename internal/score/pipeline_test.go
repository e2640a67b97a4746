package score

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// The score stage's routes, each against another that must agree with it
// or against the rule it implements: the fused score of every row from its
// verdict and topic-model score, by the streaming and the columnar path;
// pipes (read once) against files (read twice), for each kind and method;
// the detectors' state given, the findings file, the scratch file of a
// long pipe, a live pipe's rows written when it pauses, failures and
// counts. (These came from mutants of run.go, live.go, detect.go and
// fused.go that no test noticed.)

func openFile(t *testing.T, path string) *ioformat.Input {
	t.Helper()
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// openPipe opens the file at path as standard input (a pipe).
func openPipe(t *testing.T, path string) *ioformat.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ioformat.Open("-", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func runOK(t *testing.T, in *ioformat.Input, d ioformat.Dest, o Options) Stats {
	t.Helper()
	st, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, d, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFusedRows: every fused row's score is Fuse of its verdict's score
// and its topic-model score (Apache Spot's, or the method given with
// Within), its verdict is the detectors' (the beacon's rows name it), and
// the streaming and columnar paths (NDJSON or Parquet in and out) give the
// same rows and count the same rejects.
func TestFusedRows(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	flows := readFlows(t, path)
	rejected := 0
	for i := range flows {
		if i%97 == 5 {
			flows[i].TReceived = "" // Spot's filter drops these
			rejected++
		}
	}
	dir := t.TempDir()
	nd := filepath.Join(dir, "in.ndjson")
	writeFlows(t, nd, flows)
	pq := toParquet(t, nd, len(flows))

	topic := func(m lda.Method) map[int64]float64 {
		out := filepath.Join(dir, string(m)+".ndjson")
		runOK(t, openFile(t, nd), ioformat.Dest{Path: out}, Options{Model: model, Method: Method(m)})
		s := map[int64]float64{}
		for _, r := range read[record.ScoredFlow](t, out) {
			s[r.EID] = r.Score
		}
		return s
	}
	for _, within := range []lda.Method{"", lda.Population} {
		want := topic(lda.Spot)
		if within != "" {
			want = topic(within)
		}
		var first []record.ScoredFlow
		for _, c := range []struct{ in, out string }{{nd, "a.ndjson"}, {nd, "b.parquet"}, {pq, "c.parquet"}, {pq, "d.ndjson"}} {
			name := fmt.Sprintf("%s to %s, within %q", filepath.Ext(c.in), c.out, within)
			out := filepath.Join(dir, c.out)
			st := runOK(t, openFile(t, c.in), ioformat.Dest{Path: out}, Options{Model: model, Method: Fused, Within: within})
			var reasons int64
			for _, n := range st.Reasons {
				reasons += n
			}
			if st.Rejected != int64(rejected) || reasons != int64(rejected) || st.Scored != int64(len(flows)-rejected) {
				t.Errorf("%s: %d rejected (%v), %d scored; want %d rejected", name, st.Rejected, st.Reasons, st.Scored, rejected)
			}
			rows := read[record.ScoredFlow](t, out)
			if len(rows) != len(flows)-rejected {
				t.Fatalf("%s: %d rows, want %d", name, len(rows), len(flows)-rejected)
			}
			if b, err := os.ReadFile(out); err != nil || (filepath.Ext(out) == ".parquet") != bytes.HasPrefix(b, []byte("PAR1")) ||
				(filepath.Ext(out) == ".ndjson") != bytes.HasPrefix(b, []byte("{")) {
				t.Fatalf("%s: the output is not in the format its name asks for (%v)", name, err)
			}
			beacon := 0
			for _, r := range rows {
				if r.Method != string(Fused) || math.Abs(r.Score-Fuse(r.DetectorScore, r.LDAScore)) > 1e-12 || math.Abs(r.LDAScore-want[r.EID]) > 1e-12 ||
					r.Detector == "" && r.DetectorScore != 0 {
					t.Fatalf("%s: row %+v: score not Fuse(%v, %v) or LDA score not %v", name, r, r.DetectorScore, r.LDAScore, want[r.EID])
				}
				if r.SIP == "10.0.0.99" && r.DIP == "198.51.100.9" {
					if r.Detector != "beacon" || r.DetectorScore <= 0 || !strings.Contains(r.Subject, "10.0.0.99") {
						t.Fatalf("%s: a beacon's row: %+v", name, r.Explanation)
					}
					beacon++
				}
			}
			if beacon == 0 {
				t.Fatalf("%s: no beacon rows", name)
			}
			if first == nil {
				first = rows
			} else if fmt.Sprint(rows) != fmt.Sprint(first) {
				t.Errorf("%s: rows differ from NDJSON to NDJSON's", name)
			}
		}
	}
}

// TestPipedEachMethod: a pipe scored by Apache Spot's method (read once,
// no detectors) and by the fused one (held, then scored) gives the file's
// rows, to NDJSON and to a Parquet file.
func TestPipedEachMethod(t *testing.T) {
	path, model := flowsAndModel(t, 2000)
	dir := t.TempDir()
	for _, m := range []Method{Method(lda.Spot), Method(lda.Hybrid), Fused} {
		for _, ext := range []string{".ndjson", ".parquet"} {
			want, got := filepath.Join(dir, "file"+ext), filepath.Join(dir, "pipe"+ext)
			fst := runOK(t, openFile(t, path), ioformat.Dest{Path: want}, Options{Model: model, Method: m})
			pst := runOK(t, openPipe(t, path), ioformat.Dest{Path: got}, Options{Model: model, Method: m})
			w, g := read[record.ScoredFlow](t, want), read[record.ScoredFlow](t, got)
			if len(w) != 2000 || fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("%s to %s: piped %d rows, file %d, or others", m, ext, len(g), len(w))
			}
			if fmt.Sprint(pst.Findings) != fmt.Sprint(fst.Findings) || (m == Fused) != (len(fst.Findings) > 0) {
				t.Errorf("%s to %s: piped findings %v, file's %v", m, ext, pst.Findings, fst.Findings)
			}
		}
	}
}

// TestStateGiven: with the detectors' state of the whole input (spot
// detect --state), a pipe of part of it is judged by that state, not by
// what the pipe holds; a state of another kind is refused.
func TestStateGiven(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	flows := readFlows(t, path)
	part := filepath.Join(t.TempDir(), "part.ndjson")
	writeFlows(t, part, flows[:40])
	state := func() detect.Set {
		s, err := Detect(context.Background(), []*ioformat.Input{openFile(t, path)}, record.KindFlow, detect.Limits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := state().Finish()
	alone := runOK(t, openPipe(t, part), ioformat.Dest{Path: part + ".alone.ndjson"}, Options{Model: model, Method: Fused})
	if len(want) == 0 || fmt.Sprint(alone.Findings) == fmt.Sprint(want) {
		t.Fatalf("test data: the whole input's findings %v, the part's %v", want, alone.Findings)
	}
	for _, in := range []*ioformat.Input{openPipe(t, part), openFile(t, part)} {
		out := filepath.Join(t.TempDir(), "scored.ndjson")
		st := runOK(t, in, ioformat.Dest{Path: out}, Options{Model: model, Method: Fused, State: state()})
		if fmt.Sprint(st.Findings) != fmt.Sprint(want) {
			t.Errorf("%q: findings %v, want the state's %v", in.Name, st.Findings, want)
		}
		beacon := false
		for _, r := range read[record.ScoredFlow](t, out) {
			beacon = beacon || r.Detector == "beacon"
		}
		if !beacon {
			t.Errorf("%q: no row explained by the state's beacon", in.Name)
		}
	}
	dnsState, err := detect.New(record.KindDNS, detect.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	in := openFile(t, part)
	if _, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: part + ".x.ndjson"},
		Options{Model: model, Method: Fused, State: dnsState}); err == nil || !strings.Contains(err.Error(), "the detector state is of dns events; the input holds flow") {
		t.Errorf("a DNS state for flows: %v", err)
	}
}

// TestFindingsFile: the fused method writes its findings where asked, as
// Stats has them (an empty file when there are none); a findings file
// that cannot be made fails the run.
func TestFindingsFile(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	dir := t.TempDir()
	for _, in := range []*ioformat.Input{openFile(t, path), openPipe(t, path)} {
		f := filepath.Join(dir, "findings.ndjson")
		st := runOK(t, in, ioformat.Dest{Path: filepath.Join(dir, "s.ndjson")}, Options{Model: model, Method: Fused, Findings: &ioformat.Dest{Path: f}})
		got := read[record.Finding](t, f)
		if len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(st.Findings) {
			t.Errorf("%q: findings file %v, Stats %v", in.Name, got, st.Findings)
		}
		os.Remove(f)
	}
	f := filepath.Join(dir, "none.parquet")
	if err := WriteFindings(ioformat.Dest{Path: f}, nil); err != nil {
		t.Fatal(err)
	}
	if in := openFile(t, f); in.Meta != (record.Finding{}).Meta() || len(read[record.Finding](t, f)) != 0 {
		t.Errorf("no findings: %v, %d rows", in.Meta, len(read[record.Finding](t, f)))
	}
	bad := &ioformat.Dest{Path: filepath.Join(dir, "missing", "findings.ndjson")}
	for _, in := range []*ioformat.Input{openFile(t, path), openPipe(t, path)} {
		if _, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: filepath.Join(dir, "s2.ndjson")},
			Options{Model: model, Method: Fused, Findings: bad}); err == nil {
			t.Errorf("%q: findings to a missing folder: no error", in.Name)
		}
	}
}

// dnsBeacon is DNS responses of clients browsing, and one client asking a
// name every minute, with a model of them.
func dnsBeacon(t *testing.T) (events string, model string) {
	t.Helper()
	dir := t.TempDir()
	fz := feature.New(record.KindDNS, feature.Options{})
	t0 := int64(1_468_400_000)
	var rs []record.DNS
	var pairs [][2]string
	for i := range 1200 {
		ts := t0 + int64(i)*7
		r := record.DNS{UnixTstamp: ts, TsNs: ts * 1e9, FrameLen: int32(80 + i%40), IPDst: fmt.Sprintf("10.0.0.%d", i%13+1), IPSrc: "10.0.0.53",
			QryName: fmt.Sprintf("h%d.site%d.com", i%17, i%5), QryType: 1, Response: true, EID: int64(i + 1)}
		if i%4 == 0 { // the beacon: every 28 s
			r.IPDst, r.QryName, r.FrameLen = "10.0.0.66", "c2.evil.example", 90
		}
		r.FrameTime = time.Unix(ts, 0).UTC().Format("Jan 2, 2006 15:04:05.000000000 UTC")
		rs = append(rs, r)
		pairs = append(pairs, [2]string{feature.DNSDoc(&r), fz.DNSWord(&r)})
	}
	model, _ = trained(t, dir, record.KindDNS, fz, pairs)
	return write(t, filepath.Join(dir, "dns.ndjson"), record.DNS{}.Meta(), rs), model
}

// proxyBeacon is proxy requests of 12 clients, one of which sends a user
// agent no other sends, every minute to one host; with models with and
// without the user agents' counts.
func proxyBeacon(t *testing.T) (events, withAgents, without string) {
	t.Helper()
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	var ps []record.Proxy
	for i := range 1200 {
		ts := t0.Add(time.Duration(i) * 5 * time.Second)
		p := record.Proxy{PDate: ts.Format("2006-01-02"), PTime: ts.Format("15:04:05"), TsNs: ts.UnixNano(), ClientIP: fmt.Sprintf("10.0.0.%d", i%12+1),
			Host: fmt.Sprintf("www.site%d.com", i%5), FullURI: fmt.Sprintf("http://www.site%d.com/%d", i%5, i%13), ReqMethod: "GET",
			UserAgent: "Mozilla/5.0", RespCode: "200", CSBytes: 300, SCBytes: int64(2000 + i%700), EID: int64(i + 1)}
		if i%12 == 0 { // every minute
			p.ClientIP, p.Host, p.FullURI, p.UserAgent, p.SCBytes = "10.0.0.66", "c2.evil.example", "http://c2.evil.example/beat", "EvilBot/1.0", 100
		}
		ps = append(ps, p)
	}
	ua := feature.UserAgentCounts(ps)
	models := make([]string, 2)
	for k, agents := range []map[string]int64{ua, nil} {
		fz := feature.New(record.KindProxy, feature.Options{UserAgents: agents})
		var pairs [][2]string
		for i := range ps {
			pairs = append(pairs, [2]string{ps[i].ClientIP, fz.ProxyWord(&ps[i], ua[feature.ProxyAgent(&ps[i])])})
		}
		sub := filepath.Join(dir, fmt.Sprint(k))
		os.Mkdir(sub, 0o755)
		models[k], _ = trained(t, sub, record.KindProxy, fz, pairs)
	}
	return write(t, filepath.Join(dir, "proxy.ndjson"), record.Proxy{}.Meta(), ps), models[0], models[1]
}

// TestFusedKinds: DNS and proxy events, and featurized DNS, scored by the
// fused method from a file (the detectors' pass, then scoring) and from a
// pipe (held, or for proxy lines without the model's user-agent counts,
// spooled and read twice) give the same findings (the beacon's, the rare
// agent's) and rows, which carry them.
func TestFusedKinds(t *testing.T) {
	dnsPath, dnsModel := dnsBeacon(t)
	proxyPath, withAgents, without := proxyBeacon(t)
	var fzPath string
	{ // the DNS events featurized
		fz := feature.New(record.KindDNS, feature.Options{})
		var fs []record.FeaturizedDNS
		for _, e := range read[record.DNS](t, dnsPath) {
			fs = append(fs, record.FeaturizedDNS{DNS: e, Doc: feature.DNSDoc(&e), Word: fz.DNSWord(&e)})
		}
		fzPath = write(t, filepath.Join(t.TempDir(), "dns.featurized.ndjson"), record.FeaturizedDNS{}.Meta(), fs)
	}
	for _, c := range []struct {
		name, path, model, detector string
	}{
		{"dns", dnsPath, dnsModel, "beacon"},
		{"featurized dns", fzPath, dnsModel, "beacon"},
		{"proxy, user agents counted", proxyPath, withAgents, "rare-agent"},
		{"proxy, lines held", proxyPath, without, "rare-agent"},
	} {
		dir := t.TempDir()
		var rows []string
		var findings []string
		for _, in := range []*ioformat.Input{openFile(t, c.path), openPipe(t, c.path)} {
			out := filepath.Join(dir, "scored.ndjson")
			st := runOK(t, in, ioformat.Dest{Path: out}, Options{Model: c.model, Method: Fused})
			found := false
			for _, f := range st.Findings {
				found = found || f.Detector == c.detector && strings.Contains(f.Subject, "10.0.0.66")
			}
			if !found {
				t.Errorf("%s, %q: no %s finding on 10.0.0.66 in %v", c.name, in.Name, c.detector, st.Findings)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"subject":"10.0.0.66 > `) {
				t.Errorf("%s, %q: no row explained by a verdict on 10.0.0.66", c.name, in.Name)
			}
			rows, findings = append(rows, string(data)), append(findings, fmt.Sprint(st.Findings))
		}
		if rows[0] != rows[1] || findings[0] != findings[1] {
			t.Errorf("%s: piped rows or findings differ from the file's", c.name)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) lines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Count(s.b.Bytes(), []byte("\n"))
}

// TestLivePipe: when a live pipe pauses, the fused method scores and
// writes what it holds (with the evidence seen so far) at once, so that a
// live pipeline shows it, through a buffered writer too (CSV); the rest
// follows at the end.
func TestLivePipe(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := 0
	for range 500 {
		cut += bytes.IndexByte(data[cut:], '\n') + 1
	}
	for _, f := range []ioformat.Format{ioformat.NDJSON, ioformat.CSV} {
		header := map[ioformat.Format]int{ioformat.CSV: 1}[f]
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go pw.Write(data[:cut])
		in, err := ioformat.Open("-", pr) // reads the first lines to tell their format
		if err != nil {
			t.Fatal(err)
		}
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			_, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Stdout: &out, Format: f}, Options{Model: model, Method: Fused})
			done <- err
		}()
		deadline := time.Now().Add(30 * time.Second)
		for out.lines() < header+500 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := out.lines() - header; n != 500 {
			t.Errorf("%s: a pipe paused after 500 events: %d rows written", f, n)
		}
		pw.Write(data[cut:])
		pw.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		pr.Close()
		if n := out.lines() - header; n != 3000 {
			t.Errorf("%s: %d rows at the end, want 3000", f, n)
		}
	}
}

// TestHeldAndSpilled: a pipe of at most maxHeld events is held in memory
// (no scratch file: it scores with TMPDIR missing); past it the events
// held go to a scratch file, removed at the end; a cancelled run stops
// with its error.
func TestHeldAndSpilled(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	defer func(old int) { maxHeld = old }(maxHeld)
	o := Options{Model: model, Method: Fused}
	out := filepath.Join(t.TempDir(), "scored.ndjson")

	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	maxHeld = 3000
	if _, err := Run(context.Background(), []*ioformat.Input{openPipe(t, path)}, record.Flow{}.Meta(), ioformat.Dest{Path: out}, o); err != nil {
		t.Errorf("3000 events, maxHeld 3000: %v", err)
	}
	maxHeld = 2999
	if _, err := Run(context.Background(), []*ioformat.Input{openPipe(t, path)}, record.Flow{}.Meta(), ioformat.Dest{Path: out}, o); err == nil {
		t.Error("3000 events, maxHeld 2999: no scratch file needed")
	}

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	maxHeld = 100
	runOK(t, openPipe(t, path), ioformat.Dest{Path: out}, o)
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("scratch left in TMPDIR: %v", left)
	}
	if n := len(read[record.ScoredFlow](t, out)); n != 3000 {
		t.Errorf("spilled: %d rows", n)
	}

	for _, held := range []int{100, 1 << 18} {
		maxHeld = held
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Run(ctx, []*ioformat.Input{openPipe(t, path)}, record.Flow{}.Meta(), ioformat.Dest{Path: out}, o); !errors.Is(err, context.Canceled) {
			t.Errorf("maxHeld %d, cancelled: %v", held, err)
		}
	}
}

// TestLivePipePastHeld: past maxHeld events the rest waits for the end: a
// pipe that pauses after maxHeld+1 events writes nothing during the pause
// (they went to the scratch file), and every row at its end.
func TestLivePipePastHeld(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const before = 100
	cut := 0
	for range before {
		cut += bytes.IndexByte(data[cut:], '\n') + 1
	}
	defer func(old int) { maxHeld = old }(maxHeld)
	maxHeld = before - 1
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if _, err := pw.Write(data[:cut]); err != nil { // within the pipe's buffer: read in one go
		t.Fatal(err)
	}
	in, err := ioformat.Open("-", pr)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Stdout: &out, Format: ioformat.NDJSON}, Options{Model: model, Method: Fused})
		done <- err
	}()
	time.Sleep(20 * ioformat.IdleAfter) // a pause the reader tells (TestLivePipe)
	if n := out.lines(); n != 0 {
		t.Errorf("a pipe paused after maxHeld+1 events: %d rows written during the pause, want none", n)
	}
	pw.Write(data[cut:])
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := out.lines(); n != 3000 {
		t.Errorf("%d rows at the end, want 3000", n)
	}
}

// failing fails every write, as a closed pipe or a full disk does.
type failing struct{}

var errBroken = errors.New("broken pipe")

func (failing) Write([]byte) (int, error) { return 0, errBroken }

// TestRunFailsAndSkips: an output that cannot be written fails the run,
// on every path; malformed lines are skipped and counted on every path.
func TestRunFailsAndSkips(t *testing.T) {
	path, model := flowsAndModel(t, 300)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	at := bytes.IndexByte(data, '\n') + 1
	if err := os.WriteFile(bad, append(append(append(data[:at:at], "{not json\n"...), data[at:]...), "[1, 2\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	proxyPath, withAgents, without := proxyBeacon(t)
	for _, c := range []struct {
		name, path, model string
		m                 Method
	}{
		{"flows", bad, model, Method(lda.Spot)}, {"flows, fused", bad, model, Fused},
		{"proxy, streamed", proxyPath, withAgents, Method(lda.Spot)}, {"proxy, held", proxyPath, without, Method(lda.Spot)},
	} {
		for _, in := range []*ioformat.Input{openFile(t, c.path), openPipe(t, c.path)} {
			if _, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Stdout: failing{}, Format: ioformat.NDJSON},
				Options{Model: c.model, Method: c.m}); !errors.Is(err, errBroken) {
				t.Errorf("%s, %q, to a broken pipe: %v", c.name, in.Name, err)
			}
		}
		if c.path != bad {
			continue
		}
		for _, in := range []*ioformat.Input{openFile(t, c.path), openPipe(t, c.path)} {
			st := runOK(t, in, ioformat.Dest{Path: filepath.Join(t.TempDir(), "s.ndjson")}, Options{Model: c.model, Method: c.m})
			if st.Skipped != 2 || st.Scored != 300 {
				t.Errorf("%s, %q: %d skipped, %d scored; want 2, 300", c.name, in.Name, st.Skipped, st.Scored)
			}
		}
	}
}

// TestKnownAtIndexZero: the events whose words and hosts the model knows
// are counted as the model's indexes say, its first word and host (index
// 0) included, on either side of a flow, by every path.
func TestKnownAtIndexZero(t *testing.T) {
	dir := t.TempDir()
	var train []record.Flow
	for i := range 400 {
		f := record.Flow{SIP: fmt.Sprintf("10.0.0.%d", i%9+1), DIP: fmt.Sprintf("192.0.2.%d", i%11+1), SPort: []int32{22, 53, 443, 40000, 50000}[i%5],
			DPort: []int32{80, 443, 8080, 45000, 53}[i/5%5], Proto: []string{"TCP", "UDP"}[i%2], TrHour: int32(i % 3), IByt: int64(100 + i%7*300), IPkt: int64(1 + i%4),
			TReceived: "2023-11-14 10:13:20", UnixTstamp: 1_700_000_000 + int64(i), EID: int64(i + 1)}
		g := f // the flow seen the other way
		g.SIP, g.DIP, g.SPort, g.DPort, g.EID = f.DIP, f.SIP, f.DPort, f.SPort, f.EID+10000
		train = append(train, f, g)
	}
	fz := feature.New(record.KindFlow, feature.Options{})
	var pairs [][2]string
	for _, f := range train {
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		pairs = append(pairs, [2]string{f.SIP, src}, [2]string{f.DIP, dst})
	}
	model, s := trained(t, dir, record.KindFlow, fz, pairs)
	var first string // the model's first host
	for _, f := range train {
		if s.Doc(f.SIP) == 0 {
			first = f.SIP
		}
	}
	events := append([]record.Flow(nil), train...)
	for i, f := range train[:40] { // one side a host the model never saw
		f.EID = int64(20000 + i)
		if i%2 == 0 {
			f.SIP, f.DIP = first, "203.0.113.1"
		} else {
			f.SIP, f.DIP = "203.0.113.1", first
		}
		if i%4 < 2 {
			f.TrHour = 20 // and words it never saw
		}
		events = append(events, f)
	}
	var words, hosts int64
	var seen [4]bool // a word 0 at the source, at the destination; a host 0 alone at the source, at the destination
	for i := range events {
		f := &events[i]
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		sw, dw, sd, dd := s.Word(src), s.Word(dst), s.Doc(f.SIP), s.Doc(f.DIP)
		if sw >= 0 && dw >= 0 {
			words++
		}
		if sd >= 0 || dd >= 0 {
			hosts++
		}
		seen[0] = seen[0] || sw == 0 && dw >= 0
		seen[1] = seen[1] || dw == 0 && sw >= 0
		seen[2] = seen[2] || sd == 0 && dd < 0
		seen[3] = seen[3] || dd == 0 && sd < 0
	}
	if seen != [4]bool{true, true, true, true} || words == int64(len(events)) {
		t.Fatalf("test data: index 0 seen %v; %d of %d words known", seen, words, len(events))
	}
	nd := filepath.Join(dir, "events.ndjson")
	writeFlows(t, nd, events)
	pq := toParquet(t, nd, len(events))
	for _, c := range []struct{ in, out string }{{nd, "s.ndjson"}, {pq, "s.parquet"}} {
		for _, m := range []Method{Method(lda.Spot), Fused} {
			st := runOK(t, openFile(t, c.in), ioformat.Dest{Path: filepath.Join(dir, c.out)}, Options{Model: model, Method: m})
			if st.Scored != int64(len(events)) || st.KnownWords != words || st.KnownHosts != hosts {
				t.Errorf("%s to %s, %s: scored %d, known words %d, hosts %d; want %d, %d, %d", filepath.Ext(c.in), c.out, m,
					st.Scored, st.KnownWords, st.KnownHosts, len(events), words, hosts)
			}
		}
	}
}

// TestUnfamiliarAtATenth: exactly a tenth of the events known is enough;
// one fewer is not.
func TestUnfamiliarAtATenth(t *testing.T) {
	for _, c := range []struct {
		known int64
		warn  bool
	}{{100, false}, {99, true}, {101, false}} {
		st := Stats{Scored: 1000, KnownWords: c.known, KnownHosts: 1000}
		if got := len(st.Unfamiliar(Options{Method: Fused})) > 0; got != c.warn {
			t.Errorf("%d of 1000 words known: warned %v", c.known, got)
		}
	}
}
