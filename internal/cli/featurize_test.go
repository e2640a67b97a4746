package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
