package score

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// TestProgress (#20 item 5): Options.Progress is told of every record
// scored, from files by the streaming path (NDJSON) and by the columnar one
// (Parquet to Parquet), from a pipe by both methods; DetectProgress of every
// record of the fused method's first pass over files (the detectors').
func TestProgress(t *testing.T) {
	const n = 3000
	path, model := flowsAndModel(t, n)
	parquetPath := toParquet(t, path, n)
	dir := t.TempDir()
	for _, tc := range []struct{ in, out string }{
		{path, "scored.ndjson"},
		{parquetPath, "scored.parquet"},
	} {
		for _, m := range []Method{Method(lda.Spot), Fused} {
			in, err := ioformat.Open(tc.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			seen, detected := 0, 0
			_, err = Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: filepath.Join(dir, tc.out)},
				Options{Model: model, Method: m, Progress: func(k int) { seen += k }, DetectProgress: func(k int) { detected += k }})
			if err != nil {
				t.Fatal(err)
			}
			if seen != n {
				t.Errorf("%s to %s, method %s: progress told of %d records, want %d", filepath.Base(tc.in), tc.out, m, seen, n)
			}
			if want := map[Method]int{Fused: n}[m]; detected != want {
				t.Errorf("%s to %s, method %s: the detectors' progress told of %d records, want %d", filepath.Base(tc.in), tc.out, m, detected, want)
			}
		}
	}
	// a pipe, read once by the fused method: its records as they are held
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Method{Method(lda.Spot), Fused} {
		in, err := ioformat.Open("-", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		if _, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: filepath.Join(dir, "piped.ndjson")},
			Options{Model: model, Method: m, Progress: func(k int) { seen += k }}); err != nil {
			t.Fatal(err)
		}
		if seen != n {
			t.Errorf("piped, method %s: progress told of %d records, want %d", m, seen, n)
		}
	}
}

// toParquet writes the n flows of the NDJSON file path to a Parquet file
// and returns its path.
func toParquet(t testing.TB, path string, n int) string {
	t.Helper()
	parquetPath := filepath.Join(t.TempDir(), "flows.parquet")
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ioformat.NewReader[record.Flow](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := ioformat.Create[record.Flow](ioformat.Dest{Path: parquetPath}, record.Flow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]record.Flow, n+1)
	k, _ := r.Read(buf)
	for k < n {
		m, err := r.Read(buf[k:])
		if m == 0 || err != nil {
			break
		}
		k += m
	}
	if err := w.Write(buf[:k]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return parquetPath
}

// TestProgressProxy (#20 item 5): proxy lines are counted too, streamed
// (a model with the user-agent counts) or held to count their agents.
func TestProgressProxy(t *testing.T) {
	const n = ioformat.BatchSize + 300 // held lines are scored past one full batch
	dir := t.TempDir()
	lines := make([]record.Proxy, n)
	for i := range lines {
		lines[i] = record.Proxy{PDate: "2026-01-02", PTime: fmt.Sprintf("10:%02d:00", i%60), ClientIP: fmt.Sprintf("10.0.0.%d", i%5+1),
			Host: "example.com", FullURI: fmt.Sprintf("example.com/p%d", i%9), UserAgent: "ua", RespCode: "200", ReqMethod: "GET", EID: int64(i + 1)}
	}
	lines[3].Host = "" // rejected, and read all the same
	path := filepath.Join(dir, "proxy.ndjson")
	w, err := ioformat.Create[record.Proxy](ioformat.Dest{Path: path}, record.Proxy{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(lines); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := lda.NewBuilder()
	b.Add("10.0.0.1", "a-word", 1)
	b.Add("10.0.0.2", "another", 1)
	m, err := lda.Train(context.Background(), b.Build(), lda.Settings{Topics: 2, Alpha: 1.02, Beta: 1.001, Iterations: 2, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Kind = string(record.KindProxy)
	for _, agents := range []map[string]int64{{"ua": n}, nil} { // streamed, held
		m.Features = feature.New(record.KindProxy, feature.Options{UserAgents: agents}).Settings()
		model := filepath.Join(dir, "proxy.model")
		if err := m.WriteFile(model); err != nil {
			t.Fatal(err)
		}
		in, err := ioformat.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		var told []int
		st, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: filepath.Join(dir, "scored.ndjson")},
			Options{Model: model, Method: Method(lda.Spot), Progress: func(k int) { seen += k; told = append(told, k) }})
		if err != nil {
			t.Fatal(err)
		}
		if seen != n || st.Rejected != 1 {
			t.Errorf("user agents %v: progress told of %d lines, %d rejected; want %d, 1", agents, seen, st.Rejected, n)
		}
		// held lines are told as each batch of scored rows is written: the
		// lines read up to it (the rejected one among them), then the rest
		if want := []int{ioformat.BatchSize + 1, n - ioformat.BatchSize - 1}; agents == nil && !slices.Equal(told, want) {
			t.Errorf("held lines: progress told %v, want %v", told, want)
		}
	}
}
