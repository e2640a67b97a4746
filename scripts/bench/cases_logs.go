package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// logCases: the logs of other tools that spot reads natively, against the
// way users read them without it. Zeek's TSV conn.log (the corpus's zat
// conn.log, its rows repeated under one header) against Miller reading the
// same rows as TSV; Suricata's EVE log (Slips' log, its events repeated)
// against Miller selecting its flow events; nfdump's binary files (the
// NetFlow v9 cases' 2M-record nfcapd file, as nfcapd wrote it and
// recompressed by nfdump with LZO and LZ4) against "nfdump -r FILE -o csv |
// spot decode flow", the pipeline they replace.
func logCases(env *Env) []Case {
	rows := 2_000_000
	if env.Small {
		rows = 200_000
	}
	var cases []Case

	conn := filepath.Join(env.Dir, fmt.Sprintf("zeek-conn-%d.log", rows))
	connSrc := filepath.Join(env.Corpus, "zeek", "zat_conn.log")
	setupConn := func() error { return repeatRows(connSrc, conn, rows, func(l []byte) bool { return l[0] == '#' }) }
	cases = append(cases,
		Case{Name: fmt.Sprintf("Zeek TSV conn.log %s -> Parquet", si(float64(rows))), Items: float64(rows), Unit: "rows",
			Setup: setupConn, Input: conn,
			Ours: fmt.Sprintf("$SPOT decode flow %s -o $BENCH_DIR/zeek-out.parquet", conn)},
		Case{Name: fmt.Sprintf("Zeek TSV conn.log %s -> NDJSON", si(float64(rows))), Items: float64(rows), Unit: "rows",
			Setup: setupConn, Input: conn,
			Ours:     fmt.Sprintf("$SPOT decode flow %s > $BENCH_DIR/zeek-out.ndjson", conn),
			Peer:     fmt.Sprintf("grep -v '^#' %s | mlr --inidx --ifs tab --ojsonl cat > $BENCH_DIR/zeek-out-mlr.jsonl", conn),
			PeerName: "mlr"},
	)

	eve := filepath.Join(env.Dir, fmt.Sprintf("eve-%d.json", rows))
	eveSrc := filepath.Join(env.Corpus, "suricata", "slips_test6-malicious.suricata.json.gz")
	setupEVE := func() error { return repeatRows(eveSrc, eve, rows, nil) }
	cases = append(cases,
		Case{Name: fmt.Sprintf("Suricata EVE %s events -> Parquet", si(float64(rows))), Items: float64(rows), Unit: "events",
			Setup: setupEVE, Input: eve,
			Ours: fmt.Sprintf("$SPOT decode flow %s -o $BENCH_DIR/eve-out.parquet", eve)},
		Case{Name: fmt.Sprintf("Suricata EVE %s events -> NDJSON", si(float64(rows))), Items: float64(rows), Unit: "events",
			Setup: setupEVE, Input: eve,
			Ours:     fmt.Sprintf("$SPOT decode flow %s > $BENCH_DIR/eve-out.ndjson", eve),
			Peer:     fmt.Sprintf(`mlr --ijsonl --ojsonl filter '$event_type == "flow"' %s > $BENCH_DIR/eve-out-mlr.jsonl`, eve),
			PeerName: "mlr"},
	)

	n := 2_000_000
	if env.Small {
		n = 200_000
	}
	v9 := filepath.Join(env.Dir, fmt.Sprintf("gnutella.softflowd-v9-%d.nfcapd", n))
	for _, c := range []struct{ name, flag string }{{"uncompressed", ""}, {"LZO", "-z"}, {"LZ4", "-y"}} {
		file := v9
		setup := func() error {
			if !exists(v9) {
				return fmt.Errorf("%s missing (run the NetFlow v9 cases first)", v9)
			}
			return nil
		}
		if c.flag != "" {
			file = fmt.Sprintf("%s.%s", v9, c.name)
			setup = func() error {
				if !exists(v9) {
					return fmt.Errorf("%s missing (run the NetFlow v9 cases first)", v9)
				}
				if exists(file) {
					return nil
				}
				return shell(fmt.Sprintf("nfdump -r %s %s -w %s.tmp && mv %s.tmp %s", v9, c.flag, file, file, file))
			}
		}
		cases = append(cases, Case{
			Name:  fmt.Sprintf("nfcapd %s %s -> Parquet", c.name, si(float64(n))),
			Items: float64(n), Unit: "records", Setup: setup, Input: file,
			Ours:     fmt.Sprintf("$SPOT decode flow %s -o $BENCH_DIR/nfcapd-out.parquet", file),
			Peer:     fmt.Sprintf("TZ=UTC nfdump -r %s -o csv | $SPOT decode flow -o $BENCH_DIR/nfcapd-out-csv.parquet", file),
			PeerName: "nfdump|spot",
		})
	}
	return cases
}

// repeatRows writes to out the data lines of from (gunzipped when its name
// ends in .gz) over and over until there are rows, header lines (those
// header says are) once, first. A file already there is kept.
func repeatRows(from, out string, rows int, header func([]byte) bool) error {
	if exists(out) {
		return nil
	}
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(from) == ".gz" {
		if r, err = gzip.NewReader(f); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var head [][]byte
	var body [][]byte
	for _, l := range bytes.SplitAfter(data, []byte{'\n'}) {
		switch {
		case len(bytes.TrimSpace(l)) == 0:
		case header != nil && header(bytes.TrimLeft(l, " \t")):
			if !bytes.HasPrefix(l, []byte("#close")) {
				head = append(head, l)
			}
		default:
			body = append(body, l)
		}
	}
	if len(body) == 0 {
		return fmt.Errorf("%s: no rows", from)
	}
	o, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o, 1<<20)
	for _, l := range head {
		w.Write(l)
	}
	for i := 0; i < rows; i++ {
		w.Write(body[i%len(body)])
	}
	if err := w.Flush(); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}
