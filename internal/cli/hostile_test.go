package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat/parquettest"
)

// A Parquet footer that lies about its data (20,001 row groups sharing one
// chunk drove score to 3 GB; a chunk of 2^40 bytes gave "makeslice: len out
// of range") is refused by every stage that reads records, in the same
// words, before anything is allocated for it.
func TestHostileParquetFooter(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join("..", "..", "testdata", "hunt", "flows.ndjson.gz")
	good, model := filepath.Join(dir, "good.parquet"), filepath.Join(dir, "m.model")
	for _, args := range [][]string{
		{"filter", sample, "-o", good},
		{"train", "--iterations", "3", sample, "-o", model},
	} {
		io, _, errb := Test("")
		if code := Run(context.Background(), args, io); code != ExitOK {
			t.Fatalf("spot %v: exit %d: %s", args, code, errb)
		}
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := parquettest.SharedRowGroups(data, 2001)
	if err != nil {
		t.Fatal(err)
	}
	huge, err := parquettest.HugeChunk(data, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"shared.parquet", "its footer lists 2001 row groups whose column chunks and page indexes add up to more than", shared},
		{"huge.parquet", "row group 0, column 0 declares a chunk of 1099511627776 bytes", huge},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"filter", path, "-o", filepath.Join(dir, "out.parquet")},
			{"score", "-m", model, path, "-o", filepath.Join(dir, "out.parquet")},
			{"featurize", path, "-o", filepath.Join(dir, "out.parquet")},
		} {
			io, _, errb := Test("")
			code := Run(context.Background(), args, io)
			if code != ExitError || !strings.Contains(errb.String(), path+": not a readable Parquet file: "+tc.want) {
				t.Errorf("spot %v: exit %d, stderr %q; want %d and %q", args[:1], code, errb, ExitError, tc.want)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
