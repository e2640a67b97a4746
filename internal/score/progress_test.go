package score

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// TestProgress (#20 item 5): Options.Progress is told of every record
// scored from files, by the streaming path (NDJSON) and by the columnar one
// (Parquet to Parquet).
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
			seen := 0
			_, err = Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: filepath.Join(dir, tc.out)},
				Options{Model: model, Method: m, Progress: func(k int) { seen += k }})
			if err != nil {
				t.Fatal(err)
			}
			if seen != n {
				t.Errorf("%s to %s, method %s: progress told of %d records, want %d", filepath.Base(tc.in), tc.out, m, seen, n)
			}
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
