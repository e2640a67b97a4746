package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// TestCountsSameWhenSpilled: a count table is the same file, byte for
// byte, whether the counter held every pair in memory or spilled runs to
// disk and merged them (featurize --counts in bounded memory).
func TestCountsSameWhenSpilled(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"parquet", "ndjson"} {
		var files [][]byte
		for _, limit := range []int{0, 97, 5000} {
			c := feature.NewCounterLimit(limit)
			// 50,000 pairs: many write batches, one row group; 515 runs spilled
			// at the lower limit (compacted past 64), 10 at the higher
			for i := range 50000 {
				c.Add(fmt.Sprintf("10.0.%d.%d", i%7, i%97), fmt.Sprintf("%d_TCP_%d_%d_%d", i%13, i%24, i%5, i%3), int64(1+i%4))
			}
			spilled := c.Spills() > 0
			path := filepath.Join(dir, fmt.Sprintf("counts-%d.%s", limit, format))
			if err := writeCounts(ioformat.Dest{Path: path}, record.KindFlow, c); err != nil {
				t.Fatal(err)
			}
			if spilled != (limit > 0) {
				t.Errorf("limit %d: spilled %v", limit, spilled)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
		if !bytes.Equal(files[0], files[1]) || !bytes.Equal(files[0], files[2]) {
			t.Errorf("%s: the count tables differ (%d, %d and %d bytes)", format, len(files[0]), len(files[1]), len(files[2]))
		}
	}
}

// TestCountsMergeFails: a count table whose counter cannot merge its runs
// (a spill that failed) is an error naming it, and no file: writeCounts
// merges in a goroutine of its own, whose error it returns.
func TestCountsMergeFails(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	c := feature.NewCounterLimit(10)
	for i := range 5000 {
		c.Add(fmt.Sprint("d", i%50), fmt.Sprint("w", i), 1)
	}
	path := filepath.Join(dir, "counts.parquet")
	err := writeCounts(ioformat.Dest{Path: path}, record.KindFlow, c)
	if err == nil || !strings.Contains(err.Error(), "spilling to a scratch file") {
		t.Errorf("writeCounts of a counter whose spill failed: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", path, err)
	}
}

// TestCountsWriteFails: rows that cannot be written stop the merge (no
// goroutine left waiting) and give the writer's error.
func TestCountsWriteFails(t *testing.T) {
	c := feature.NewCounterLimit(1000)
	for i := range 50000 {
		c.Add(fmt.Sprint("d", i%50), fmt.Sprint("w", i), 1)
	}
	out := &failingWriter{left: 100 << 10}
	err := writeCounts(ioformat.Dest{Path: "-", Format: ioformat.NDJSON, Stdout: out}, record.KindFlow, c)
	if !errors.Is(err, errDiskFull) {
		t.Errorf("writeCounts to a writer that fails: %v", err)
	}
}

var errDiskFull = errors.New("disk full")

// failingWriter takes left bytes, then fails.
type failingWriter struct{ left int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.left {
		return 0, errDiskFull
	}
	w.left -= len(b)
	return len(b), nil
}
