package partition

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// DuckDB reads a tree of partitions as one table, its y/m/d/h columns from
// the folder names, each record in the folder of its own time.
func TestDuckDBReadsPartitions(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	base := int64(1795392000) // 2026-11-23 00:00 UTC
	total := 0
	for i, input := range []string{"nfcapd.202611230000", "capture.pcap.gz", "x.csv"} {
		w, err := NewWriter[record.Flow](root, Hour, input, ioformat.Parquet, record.Flow{}.Meta(), flowTime)
		if err != nil {
			t.Fatal(err)
		}
		n := 500 + 300*i
		recs := make([]record.Flow, n)
		for j := range recs {
			recs[j] = flowAt(base+rng.Int64N(3*86400), int64(total+j))
		}
		total += n
		if err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	glob := filepath.Join(root, "**", "*.parquet")
	rows := testenv.DuckDB(t, fmt.Sprintf(`SELECT count(*) AS n, count(DISTINCT eid) AS eids,
		count(DISTINCT (y, m, d, h)) AS parts,
		count(*) FILTER (WHERE strftime(to_timestamp(unix_tstamp), 'y=%%Y/m=%%m/d=%%d/h=%%H') <>
			printf('y=%%04d/m=%%02d/d=%%02d/h=%%02d', y::INT, m::INT, d::INT, h::INT)) AS misplaced
		FROM read_parquet('%s', hive_partitioning = true)`, glob))
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	got := fmt.Sprint(rows[0]["n"], " ", rows[0]["eids"], " ", rows[0]["parts"], " ", rows[0]["misplaced"])
	if want := fmt.Sprint(total, " ", total, " 72 0"); got != want {
		t.Fatalf("DuckDB: records, eids, partitions, misplaced = %s, want %s", got, want)
	}
}
