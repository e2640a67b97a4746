package main

import (
	"fmt"
	"path/filepath"
)

// ioCases: the record-stream layer, NDJSON <-> Parquet of flow records.
func ioCases(env *Env) []Case {
	n := 10_000_000
	if env.Small {
		n = 1_000_000
	}
	nd := filepath.Join(env.Dir, fmt.Sprintf("flows-%d.ndjson", n))
	pq := filepath.Join(env.Dir, fmt.Sprintf("flows-%d.parquet", n))
	setup := func() error {
		return fmt.Errorf("TODO: generate %d flow records into %s", n, nd)
	}
	return []Case{
		{Name: fmt.Sprintf("flow NDJSON->Parquet %s", si(float64(n))), Items: float64(n), Unit: "records", Setup: setup,
			Ours: fmt.Sprintf("$SPOT filter %s -o %s", nd, pq)},
		{Name: fmt.Sprintf("flow Parquet->NDJSON %s", si(float64(n))), Items: float64(n), Unit: "records", Setup: setup,
			Ours: fmt.Sprintf("$SPOT filter %s > /dev/null", pq)},
	}
}
