package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/enrich/enrichtest"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Strings a hostile host can put in a DNS name, a URI or a user agent;
// the reports must show them as text and run nothing.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`"><img src=x onerror="window.__pwned=2">`,
	`'onmouseover='window.__pwned=3'`,
	"\u2028</script><svg/onload=window.__pwned=4>",
}

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func writeRecs[T any](t testing.TB, dir, name string, recs []T) *ioformat.Input {
	t.Helper()
	path := filepath.Join(dir, name)
	var zero T
	w, err := ioformat.Create[T](ioformat.Dest{Path: path}, any(zero).(record.Record).Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// dnsDay makes a morning of DNS answers from 12 clients, one of them
// tunnelling through long names under t.example, and some names hostile.
func dnsDay(n int) (events []record.DNS, scored []record.ScoredDNS, findings []record.Finding) {
	r := rand.New(rand.NewPCG(3, 4))
	names := []string{"www.example.com", "mail.example.org", "cdn.example.net", "api.example.io", "updates.example.com"}
	for i := range n {
		client := fmt.Sprintf("10.0.0.%d", 10+r.IntN(12))
		name := names[r.IntN(len(names))]
		qtype := int32(1)
		if client == "10.0.0.13" && r.IntN(3) == 0 {
			name = fmt.Sprintf("%x.t.example", r.Uint64())
			qtype = 16
		}
		if i%97 == 5 {
			name = hostile[i%len(hostile)] + ".evil.example"
		}
		ts := t0.Add(time.Duration(i) * 4 * time.Hour / time.Duration(n))
		d := record.DNS{FrameTime: ts.Format("Jan _2, 2006 15:04:05.000000000 UTC"), UnixTstamp: ts.Unix(), TsNs: ts.UnixNano(),
			FrameLen: int32(80 + len(name)), IPDst: client, IPSrc: "10.0.0.53", QryName: name, QryClass: "0x00000001",
			QryType: qtype, Response: true, A: fmt.Sprintf("198.51.100.%d", r.IntN(200)), EID: int64(i + 1), Transport: "udp"}
		events = append(events, d)
		s := record.ScoredDNS{FeaturizedDNS: record.FeaturizedDNS{DNS: d, Doc: client, Word: fmt.Sprintf("0_7_%d_3_10_1_%d_0", ts.Hour(), qtype)}}
		s.Score = r.Float64() * 0.2
		if qtype == 16 {
			s.Score /= 100
			s.Detector, s.DetectorScore, s.Subject = "dns-tunnel", 0.97, client+" > t.example"
			s.Evidence = "412 distinct names under t.example, 96% TXT, mean label 16 characters"
		}
		s.Method, s.LDAScore = "fused", s.Score
		scored = append(scored, s)
	}
	findings = []record.Finding{
		{Detector: "dns-tunnel", EventKind: "dns", Subject: "10.0.0.13 > t.example", Src: "10.0.0.13", Dst: "t.example", Score: 0.03, DetectorScore: 0.97,
			Evidence: "412 distinct names under t.example, 96% TXT", FirstSeen: t0.Format(timeLayout), LastSeen: t0.Add(4 * time.Hour).Format(timeLayout), Events: 412, EID: 7},
		{Detector: "rare-name", EventKind: "dns", Subject: "10.0.0.20 > " + hostile[0], Src: "10.0.0.20", Dst: hostile[0], Score: 0.4, DetectorScore: 0.6,
			Evidence: hostile[1], Events: 3, EID: 8},
	}
	return
}

func buildDNS(t testing.TB, dir string, o Options) *Report {
	t.Helper()
	events, scored, findings := dnsDay(3000)
	in := Inputs{
		Scored:   []*ioformat.Input{writeRecs(t, dir, "scored.parquet", scored)},
		Findings: []*ioformat.Input{writeRecs(t, dir, "findings.ndjson", findings)},
		Context:  []*ioformat.Input{writeRecs(t, dir, "events.parquet", events)},
	}
	r, err := Build(context.Background(), record.KindDNS, in, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildDNS(t *testing.T) {
	dir := t.TempDir()
	en, err := enrich.Open(enrich.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := buildDNS(t, dir, Options{Top: 100, Storyboards: 5, Enricher: en, Now: t0})
	if r.Summary.Scored != 3000 || r.Summary.Context != 3000 || r.Summary.Shown != 100 || len(r.Findings) != 2 {
		t.Fatalf("summary %+v, %d findings", r.Summary, len(r.Findings))
	}
	for i := 1; i < len(r.Rows); i++ {
		if r.Rows[i].Score < r.Rows[i-1].Score || r.Rows[i].Rank != i+1 {
			t.Fatalf("rows out of order at %d", i)
		}
	}
	top := r.Rows[0]
	if top.Host != "10.0.0.13" || top.Detector != "dns-tunnel" || !strings.Contains(top.Detail, "TXT") || !strings.HasSuffix(top.What, ".t.example") {
		t.Errorf("first row %+v", top)
	}
	sb := r.Hosts[0]
	if sb.Host != "10.0.0.13" || sb.Best != 1 || len(sb.Findings) != 1 || !sb.Internal || sb.Events < 200 || len(sb.Peers) < 3 || !slices.ContainsFunc(sb.Peers, func(p Peer) bool { return p.Name == "t.example" && p.Direction == "out" }) {
		t.Errorf("storyboard of %s: best %d, %d findings, %d events, peers %+v", sb.Host, sb.Best, len(sb.Findings), sb.Events, sb.Peers)
	}
	var n int64
	for _, b := range sb.Timeline.Bins {
		n += b[1]
	}
	if n != sb.Events || sb.Timeline.Step != int64(time.Minute) {
		t.Errorf("timeline holds %d of %d events, step %d", n, sb.Events, sb.Timeline.Step)
	}
	n = 0
	for _, b := range r.Ingest.Bins {
		n += b[1]
	}
	if n != 3000 {
		t.Errorf("ingest summary holds %d events", n)
	}
	if len(r.Chord.Names) < 2 {
		t.Errorf("chord %+v", r.Chord)
	}
	// JSON holds the documents, eids as text
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"suspicious", "findings", "storyboards", "chord", "ingest"} {
		if back[k] == nil {
			t.Errorf("JSON has no %s", k)
		}
	}
	if _, ok := back["suspicious"].([]any)[0].(map[string]any)["eid"].(string); !ok {
		t.Error("eid is not text")
	}
}

// Bins widen as they fill, so memory stays bounded whatever the span.
func TestBinsBounded(t *testing.T) {
	b := newBins(100)
	for i := range 100_000 {
		b.add(int64(i)*int64(time.Minute), 1)
	}
	h := b.histogram()
	if len(h.Bins) > 100 || h.Step <= int64(time.Hour) {
		t.Fatalf("%d bins of %v", len(h.Bins), time.Duration(h.Step))
	}
	var n int64
	for _, x := range h.Bins {
		n += x[1]
	}
	if n != 100_000 {
		t.Errorf("%d events counted", n)
	}
}

// The terminal table fits the width it is given: at 80 columns it drops
// and cuts columns, at 200 it shows them whole; no line is wider.
func TestTableWidths(t *testing.T) {
	r := buildDNS(t, t.TempDir(), Options{Top: 15, Storyboards: 3, Now: t0})
	for _, width := range []int{80, 200} {
		var buf bytes.Buffer
		if err := r.WriteTable(&buf, TableOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if w := len([]rune(line)); w > width {
				t.Errorf("width %d: line %d is %d wide:\n%s", width, i, w, line)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("width %d: colour in a pipe", width)
		}
		if !strings.Contains(out, "10.0.0.13") || !strings.Contains(out, "dns-tunnel") {
			t.Errorf("width %d: the first row is missing:\n%s", width, out)
		}
		switch width {
		case 80:
			if list := out[:strings.Index(out, "Findings")]; strings.Contains(list, "evidence") || !strings.Contains(list, "…") {
				t.Errorf("at 80 columns the evidence column stays or nothing is cut:\n%s", out)
			}
		case 200:
			if !strings.Contains(out, "412 distinct names under t.example, 96% TXT, mean label 16 characters") {
				t.Errorf("at 200 columns the evidence is cut:\n%s", out)
			}
		}
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf, TableOptions{Width: 120, Colour: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[1;31m") || !strings.Contains(buf.String(), "┌") {
		t.Error("no colour or Unicode borders on a terminal")
	}
}

// Hostile strings stay inert in the HTML source: the data block holds no
// markup, the page's policy forbids every fetch.
func TestHTMLInert(t *testing.T) {
	r := buildDNS(t, t.TempDir(), Options{Top: 300, Storyboards: 5, Now: t0})
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	data := page[strings.Index(page, `id="data">`):]
	data = data[:strings.Index(data, "</script>")]
	for _, h := range []string{"<script", "<img", "<svg", "\u2028"} {
		if strings.Contains(data, h) {
			t.Errorf("the data block holds %q", h)
		}
	}
	if !strings.Contains(page, `content="default-src 'none'; script-src 'sha256-`) {
		t.Error("no Content-Security-Policy")
	}
	for _, banned := range []string{"http://", "https://", "//cdn", "src=\"", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(page, "http://www.w3.org/2000/svg", ""), banned) {
			t.Errorf("the page holds %q", banned)
		}
	}
}

func TestWriteFeedbackCSV(t *testing.T) {
	r := buildDNS(t, t.TempDir(), Options{Top: 5, Storyboards: 1, Now: t0})
	path := filepath.Join(t.TempDir(), "marks.csv")
	if err := r.WriteFeedback(ioformat.Dest{Path: path}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 || !strings.HasSuffix(lines[0], ",severity,analyst,noted_at,note") || !strings.HasSuffix(lines[1], ",,,,") {
		t.Fatalf("feedback CSV:\n%s", b)
	}
	// read back: kind from the header, the rows as they were, severity 0
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Meta != (record.Meta{Kind: record.KindDNS, Stream: record.StreamScored}) {
		t.Fatalf("meta %s", in.Meta)
	}
	rd, err := ioformat.NewReader[record.FeedbackDNS](in)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	buf := make([]record.FeedbackDNS, 10)
	n, _ := rd.Read(buf)
	if n != 5 || buf[0].QryName != r.Rows[0].What || buf[0].Severity != 0 || buf[0].Score != r.Rows[0].Score || buf[0].Detector != "dns-tunnel" {
		t.Errorf("read back %d rows, first %+v", n, buf[0])
	}
}

// The map appears with geolocation: rows get the answer's place.
func TestBuildWithGeo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	enrichtest.WriteMMDB(t, db, map[string]enrichtest.Place{"198.51.100.0/25": {Country: "NL", Lat: 52.37, Lon: 4.9}, "198.51.100.128/25": {Country: "BR", Lat: -23.55, Lon: -46.63}})
	en, err := enrich.Open(enrich.Options{GeoIP: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	defer en.Close()
	r := buildDNS(t, dir, Options{Top: 50, Storyboards: 2, Enricher: en, Reenrich: true, Now: t0})
	if !r.HasGeo || r.Rows[0].Country == "" || r.Rows[0].Lat == 0 {
		t.Errorf("geo: %v %+v", r.HasGeo, r.Rows[0])
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `id="land">M`) {
		t.Error("no map outline in the page")
	}
}

// A page that would pass MaxHTMLBytes (thousands of rows of long DNS names)
// holds the list's first rows and says how many it left out; -f json
// still holds them all.
func TestHTMLUnderMaxBytes(t *testing.T) {
	dir := t.TempDir()
	_, scored, _ := dnsDay(10000)
	for i := range scored {
		label := fmt.Sprintf("%062x", i)
		scored[i].QryName = strings.Join([]string{label, label, label, label}, ".") // 251 characters
	}
	r, err := Build(context.Background(), record.KindDNS, Inputs{Scored: []*ioformat.Input{writeRecs(t, dir, "scored.parquet", scored)}},
		Options{Top: 10000, Storyboards: 20, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if js, err := json.Marshal(r); err != nil || len(js) < MaxHTMLBytes*11/10 {
		t.Fatalf("the data is %d bytes (%v): too small to test the cap", len(js), err)
	}
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if page.Len() > MaxHTMLBytes || page.Len() < MaxHTMLBytes*9/10 {
		t.Fatalf("the page is %d bytes, want at most %d and not far below", page.Len(), MaxHTMLBytes)
	}
	if s.RowsCut == 0 || s.Shown != 10000 || s.HostsCut != 0 {
		t.Fatalf("summary %+v: want rows cut, every storyboard kept", s)
	}
	data := page.String()[strings.Index(page.String(), `id="data">`)+len(`id="data">`):]
	data = data[:strings.Index(data, "</script>")]
	var back Report
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != s.Shown-s.RowsCut || back.Rows[0].Rank != 1 || back.Rows[len(back.Rows)-1].Rank != len(back.Rows) ||
		back.Summary.RowsCut != s.RowsCut || len(back.Hosts) != len(r.Hosts) {
		t.Fatalf("the page holds %d rows (ranks %d..%d) and %d storyboards; summary %+v", len(back.Rows), back.Rows[0].Rank,
			back.Rows[len(back.Rows)-1].Rank, len(back.Hosts), back.Summary)
	}
	if len(r.Rows) != 10000 {
		t.Fatalf("WriteHTML cut the report's own rows to %d", len(r.Rows))
	}
}

// --per-subject: the list is the uncapped list's rows taken in order,
// passing over those whose subject has its fill, and says so.
func TestPerSubject(t *testing.T) {
	dir := t.TempDir()
	all := buildDNS(t, dir, Options{Top: 3000, Now: t0})
	capped := buildDNS(t, t.TempDir(), Options{Top: 20, PerSubject: 2, Storyboards: 5, Now: t0})
	var want []string
	n := map[string]int{}
	for _, row := range all.Rows {
		if s := subjectOf(&row, row.Host); len(want) < 20 && n[s] < 2 {
			want = append(want, row.EID)
			n[s]++
		}
	}
	var got []string
	for i, row := range capped.Rows {
		got = append(got, row.EID)
		if row.Rank != i+1 {
			t.Fatalf("row %d has rank %d", i, row.Rank)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("capped rows %v, want %v", got, want)
	}
	if all.Rows[0].Subject == "" || all.Rows[2].Subject != all.Rows[0].Subject {
		t.Fatalf("the first rows do not repeat a subject (%q, %q): nothing to cap", all.Rows[0].Subject, all.Rows[2].Subject)
	}
	var buf bytes.Buffer
	if err := capped.WriteTable(&buf, TableOptions{Width: 200}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "at most 2 rows per subject") {
		t.Errorf("the table does not say rows are capped:\n%s", buf.String())
	}
}
