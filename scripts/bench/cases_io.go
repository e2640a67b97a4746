package main

import (
	"fmt"
	"path/filepath"
)

// ioCases: the record-stream layer, NDJSON <-> Parquet of flow records, with
// DuckDB (scripts/duckdb) doing the same conversions as the peer.
func ioCases(env *Env) []Case {
	n := 10_000_000
	if env.Small {
		n = 1_000_000
	}
	nd := filepath.Join(env.Dir, fmt.Sprintf("flows-%d.ndjson", n))
	pq := filepath.Join(env.Dir, fmt.Sprintf("flows-%d.parquet", n))
	out := filepath.Join(env.Dir, "out")
	setup := func() error {
		if err := goBuild("./scripts/bench/colscan", filepath.Join(env.Dir, "colscan")); err != nil {
			return err
		}
		if err := genFlows(nd, n); err != nil {
			return err
		}
		return genFlows(pq, n)
	}
	duck := "node scripts/duckdb/sql.mjs \"SET threads=2\" "
	items := float64(n)
	cases := []Case{
		{Name: "flow NDJSON->Parquet " + si(items), Items: items, Unit: "records", Setup: setup, Input: nd,
			Ours:     fmt.Sprintf("$SPOT filter %s -o %s.parquet", nd, out),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"COPY (SELECT * FROM read_ndjson('%s')) TO '%s-duck.parquet' (COMPRESSION snappy)"`, nd, out)},
		{Name: "flow Parquet->NDJSON " + si(items), Items: items, Unit: "records", Setup: setup, Input: pq,
			Ours:     fmt.Sprintf("$SPOT filter %s -o %s.ndjson", pq, out),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"COPY (SELECT * FROM '%s') TO '%s-duck.ndjson' (FORMAT json)"`, pq, out)},
		{Name: "flow Parquet 8 of 28 columns " + si(items), Items: items, Unit: "rows", Setup: setup, Input: pq,
			Ours:     fmt.Sprintf("$BENCH_DIR/colscan %s %s", pq, engineColumns),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"SELECT count(*), sum(hash(%s)) FROM '%s'"`, engineColumns, pq)},
	}
	return cases
}

// engineColumns are the 8 flow columns the flow engine reads.
const engineColumns = "trhour,sip,dip,sport,dport,proto,ipkt,ibyt"
