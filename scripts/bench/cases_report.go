package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// reportCases: #16's floors. filter --where from Parquet (>= 5M records/s,
// reading only the columns the expression names), filter --top N over 100M
// records in O(N) memory (the same scored file given ten times, beside one
// pass over it: the peak RSS must not grow), and report over 10k
// suspicious events with 10M context events (under a minute, the HTML
// under 5 MB). DuckDB does the same selections as the peer.
func reportCases(env *Env) []Case {
	n := 10_000_000
	if env.Small {
		n = 1_000_000
	}
	flows := filepath.Join(env.Dir, fmt.Sprintf("engine-flows-%d.parquet", n))
	model := filepath.Join(env.Dir, fmt.Sprintf("engine-flows-%d.model", n))
	scored := filepath.Join(env.Dir, fmt.Sprintf("report-scored-%d.parquet", n))
	top := filepath.Join(env.Dir, fmt.Sprintf("report-top10k-%d.parquet", n))
	html := filepath.Join(env.Dir, "report-out.html")
	out := filepath.Join(env.Dir, "report-out")
	setup := func() error {
		if err := engineCases(env)[0].Setup(); err != nil { // the flows and their model
			return err
		}
		for _, step := range []struct{ path, cmd string }{
			{scored, fmt.Sprintf("%s score -m %s %s -o %s", env.Spot, model, flows, scored)},
			{top, fmt.Sprintf("%s filter --top 10000 %s -o %s", env.Spot, scored, top)},
		} {
			if exists(step.path) {
				continue
			}
			r := &result{}
			if run(env, env.Spot, step.cmd, r); r.err != nil {
				return r.err
			}
		}
		return nil
	}
	duck := "node scripts/duckdb/sql.mjs \"SET threads=2\" "
	const where = `dport == 3389 && ibyt > 20000 && proto == "TCP"`
	const duckWhere = `dport = 3389 AND ibyt > 20000 AND proto = 'TCP'`
	tenfold := strings.TrimSpace(strings.Repeat(scored+" ", 10))
	items := float64(n)
	return []Case{
		{Name: "flow filter --where Parquet " + si(items), Items: items, Unit: "records", Setup: setup, Input: flows,
			Ours:     fmt.Sprintf("$SPOT filter %s --where '%s' -o %s.parquet", flows, where, out),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"COPY (SELECT * FROM '%s' WHERE %s) TO '%s-duck.parquet' (COMPRESSION snappy)"`, flows, duckWhere, out)},
		{Name: "flow filter --top 100 of " + si(items), Items: items, Unit: "records", Setup: setup, Input: scored,
			Ours:     fmt.Sprintf("$SPOT filter --top 100 %s -o %s.parquet", scored, out),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"COPY (SELECT * FROM '%s' ORDER BY score, eid LIMIT 100) TO '%s-duck.parquet' (COMPRESSION snappy)"`, scored, out)},
		{Name: "flow filter --top 100 of " + si(10*items), Items: 10 * items, Unit: "records", Setup: setup,
			Ours:     fmt.Sprintf("$SPOT filter --top 100 %s -o %s.parquet", tenfold, out),
			PeerName: "duckdb",
			Peer:     duck + fmt.Sprintf(`"COPY (SELECT * FROM read_parquet([%s]) ORDER BY score, eid LIMIT 100) TO '%s-duck.parquet' (COMPRESSION snappy)"`, quoteList(scored, 10), out)},
		{Name: "report -f html 10k of " + si(items) + " context", Items: items, Unit: "context", Setup: setup,
			Ours: fmt.Sprintf("$SPOT report %s --context %s -n 10000 -o %s", top, flows, html),
			Note: func() string { return sizeNote(html, 5e6) }},
		{Name: "report -f table 10k of " + si(items) + " context", Items: items, Unit: "context", Setup: setup,
			Ours: fmt.Sprintf("$SPOT report %s --context %s -n 10000 --width 160 > %s.txt", top, flows, out)},
	}
}

// quoteList is path, n times, as a SQL list of strings.
func quoteList(path string, n int) string {
	q := make([]string, n)
	for i := range q {
		q[i] = "'" + path + "'"
	}
	return strings.Join(q, ", ")
}

// sizeNote says how big path is against a limit in bytes.
func sizeNote(path string, limit float64) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	verdict := "under"
	if float64(st.Size()) > limit {
		verdict = "OVER"
	}
	return fmt.Sprintf("%s: %.2f MB, %s the %.0f MB floor", filepath.Base(path), float64(st.Size())/1e6, verdict, limit/1e6)
}
