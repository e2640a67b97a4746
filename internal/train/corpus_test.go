package train_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/train"
)

// flows makes n flows between a few hosts, on a few services.
func flows(n int) []record.Flow {
	r := rand.New(rand.NewPCG(1, 2))
	fs := make([]record.Flow, n)
	for i := range fs {
		fs[i] = record.Flow{
			TReceived: "2026-12-07 10:11:12", TrHour: int32(r.IntN(24)),
			SIP: fmt.Sprintf("10.0.0.%d", r.IntN(12)), DIP: fmt.Sprintf("192.0.2.%d", r.IntN(12)),
			SPort: int32(1024 + r.IntN(60000)), DPort: []int32{22, 53, 80, 443, 8080}[r.IntN(5)], Proto: "TCP",
			IPkt: int64(1 + r.IntN(200)), IByt: int64(40 + r.IntN(100000)),
		}
	}
	return fs
}

// want is the corpus of fs with each feedback flow added dup times, made
// from feature.FlowWords without this package.
func want(t *testing.T, fs []record.Flow, feedback []record.Flow, dup int64) *lda.Corpus {
	t.Helper()
	c := feature.NewCounter()
	add := func(f record.Flow, n int64) {
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		c.Add(f.SIP, src, n)
		c.Add(f.DIP, dst, n)
	}
	for _, f := range fs {
		add(f, 1)
	}
	for _, f := range feedback {
		add(f, dup)
	}
	return build(t, sortedCounts(t, c))
}

func sortedCounts(t *testing.T, c *feature.Counter) []record.Count {
	t.Helper()
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func build(t *testing.T, rows []record.Count) *lda.Corpus {
	t.Helper()
	b := lda.NewSortedBuilder()
	for _, r := range rows {
		if err := b.Add(r.Doc, r.Word, float64(r.Count)); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func write[T any](t *testing.T, path string, m record.Meta, recs []T) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := ioformat.Create[T](ioformat.Dest{Path: path}, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	flowEvents = record.Meta{Kind: record.KindFlow, Stream: record.StreamEvents}
	flowCounts = record.Meta{Kind: record.KindFlow, Stream: record.StreamCounts}
)

// TestSameCorpusWhateverTheInputs: events (Parquet, read column by column;
// NDJSON, featurized row by row), featurized events, count tables in order
// (merged) and out of order (counted) all give the corpus of the flows'
// words; Options.Progress is told of every record read (#20 item 5).
func TestSameCorpusWhateverTheInputs(t *testing.T) {
	dir := t.TempDir()
	fs := flows(3000)
	wantC := want(t, fs, nil, 0)
	half := len(fs) / 2

	c := feature.NewCounter()
	for _, f := range fs {
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		c.Add(f.SIP, src, 1)
		c.Add(f.DIP, dst, 1)
	}
	rows := sortedCounts(t, c)
	// Two sorted tables sharing documents: every other row each, so that
	// pairs and documents span both; a pair split in two in a third.
	var even, odd []record.Count
	for i, r := range rows {
		if i%2 == 0 {
			even = append(even, r)
		} else {
			odd = append(odd, r)
		}
	}
	split := slices.Clone(even)
	for i := range split {
		split[i].Count = 1
		even[i].Count--
	}
	reversed := slices.Clone(rows)
	slices.Reverse(reversed)

	var featurized []record.FeaturizedFlow
	for _, f := range fs {
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		featurized = append(featurized, record.FeaturizedFlow{Flow: f, SrcWord: src, DstWord: dst})
	}

	for name, inputs := range map[string][]string{
		"parquet events": {
			write(t, filepath.Join(dir, "a.parquet"), flowEvents, fs[:half]),
			write(t, filepath.Join(dir, "b.parquet"), flowEvents, fs[half:]),
		},
		"ndjson events": {write(t, filepath.Join(dir, "e.ndjson"), flowEvents, fs)},
		"featurized":    {write(t, filepath.Join(dir, "f.ndjson"), record.Meta{Kind: record.KindFlow, Stream: record.StreamFeaturized}, featurized)},
		"sorted counts": {
			write(t, filepath.Join(dir, "even.parquet"), flowCounts, even),
			write(t, filepath.Join(dir, "odd.ndjson"), flowCounts, odd),
			write(t, filepath.Join(dir, "split.parquet"), flowCounts, split),
		},
		"unsorted counts": {write(t, filepath.Join(dir, "reversed.parquet"), flowCounts, reversed)},
		"folder":          {filepath.Join(dir, "parts")},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "folder" {
				write(t, filepath.Join(dir, "parts", "h=01", "x.parquet"), flowEvents, fs[:half])
				write(t, filepath.Join(dir, "parts", "h=02", "x.parquet"), flowEvents, fs[half:])
				inputs = []string{filepath.Join(dir, "parts", "h=01"), filepath.Join(dir, "parts", "h=02", "x.parquet")}
			}
			read := 0
			res, err := train.Corpus(context.Background(), inputs, nil, train.Options{Progress: func(n int) { read += n }})
			if err != nil {
				t.Fatal(err)
			}
			records := map[string]int{"sorted counts": len(even) + len(odd) + len(split), "unsorted counts": len(reversed)}[name]
			if records == 0 {
				records = len(fs)
			}
			if read != records {
				t.Errorf("progress told of %d records read, want the inputs' %d", read, records)
			}
			if res.Kind != record.KindFlow || res.Skipped != 0 || res.Rejected.Count != 0 {
				t.Errorf("kind %q, skipped %d, rejected %d; want flow, 0, 0", res.Kind, res.Skipped, res.Rejected.Count)
			}
			if res.Features[feature.KeyRules] != feature.RulesVersion {
				t.Errorf("features %v: no word rules", res.Features)
			}
			if !reflect.DeepEqual(res.Corpus, wantC) {
				t.Errorf("corpus differs: %d docs, %d words, %d pairs; want %d, %d, %d",
					len(res.Corpus.Docs), len(res.Corpus.Words), res.Corpus.Entries(), len(wantC.Docs), len(wantC.Words), wantC.Entries())
			}
		})
	}
}

// TestFeedback: severity-3 rows are added dup times, others not at all.
func TestFeedback(t *testing.T) {
	dir := t.TempDir()
	fs := flows(500)
	extra := flows(503)[500:]
	var fb []record.FeedbackFlow
	for i, f := range extra {
		r := record.FeedbackFlow{}
		r.Flow = f
		r.Severity = []int32{3, 1, 3}[i]
		fb = append(fb, r)
	}
	events := write(t, filepath.Join(dir, "e.parquet"), flowEvents, fs)
	feedback := write(t, filepath.Join(dir, "fb.ndjson"), record.Meta{Kind: record.KindFlow, Stream: record.StreamScored}, fb)
	res, err := train.Corpus(context.Background(), []string{events}, nil, train.Options{Feedback: feedback, DupFactor: 7})
	if err != nil {
		t.Fatal(err)
	}
	if w := want(t, fs, []record.Flow{extra[0], extra[2]}, 7); !reflect.DeepEqual(res.Corpus, w) {
		t.Errorf("corpus with feedback: %.0f tokens, want %.0f", res.Corpus.Tokens(), w.Tokens())
	}
}

// TestRejectsAndErrors: rejected rows are counted by reason, nothing left
// is an error, and inputs of two kinds are refused by name.
func TestRejectsAndErrors(t *testing.T) {
	dir := t.TempDir()
	fs := flows(10)
	for i := range fs {
		fs[i].TrHour = 30
	}
	bad := write(t, filepath.Join(dir, "bad.ndjson"), flowEvents, fs)
	_, err := train.Corpus(context.Background(), []string{bad}, nil, train.Options{})
	if !errors.Is(err, train.ErrNoPairs) {
		t.Errorf("every row rejected: %v, want ErrNoPairs", err)
	}

	good := write(t, filepath.Join(dir, "good.ndjson"), flowEvents, flows(20))
	res, err := train.Corpus(context.Background(), []string{bad, good}, nil, train.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected.Count != 10 || res.Rejected.Reasons["trhour out of 0-23"] != 10 {
		t.Errorf("rejected %d %v, want 10 for trhour", res.Rejected.Count, res.Rejected.Reasons)
	}

	dns := write(t, filepath.Join(dir, "dns.ndjson"), record.Meta{Kind: record.KindDNS, Stream: record.StreamEvents}, []record.DNS{{}})
	_, err = train.Corpus(context.Background(), []string{good, dns}, nil, train.Options{})
	if err == nil || !strings.Contains(err.Error(), "dns.ndjson holds dns records") {
		t.Errorf("flow then dns: %v, want an error naming dns.ndjson", err)
	}

	_, err = train.Corpus(context.Background(), []string{"-"}, strings.NewReader(""), train.Options{})
	if err == nil || !strings.Contains(err.Error(), "no records") {
		t.Errorf("empty stdin: %v, want no records", err)
	}
}
