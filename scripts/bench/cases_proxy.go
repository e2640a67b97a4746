package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// proxyCases: spot decode proxy on logs of >= 1M lines, built by repeating
// the corpus's real Squid logs (the same 232 requests in each format, copied
// into testdata/proxy) and
// the Blue Coat fixture made from them; Miller (mlr) parses the same files
// as space-separated CSV (W3C, with the #Fields names as header) or NIDX
// (Squid native) into JSON lines, the nearest peer job.
func proxyCases(env *Env) []Case {
	repeat := 4400 // x 232 lines = 1,020,800 lines
	if env.Small {
		repeat = 440
	}
	gen := filepath.Join("testdata", "proxy") // copies of the corpus's proxy/generated logs
	type src struct {
		name, from, format string
		header             bool // W3C: keep the directives once
	}
	srcs := []src{
		{"squid native", filepath.Join(gen, "squid-native.access.log"), "squid", false},
		{"combined", filepath.Join(gen, "squid-combined.access.log"), "combined", false},
		{"W3C/ELFF", filepath.Join(gen, "squid-elff.access.log"), "w3c", true},
		{"Blue Coat", filepath.Join("testdata", "proxy", "bluecoat-from-squid-elff.log"), "bluecoat", false},
	}
	var cases []Case
	for _, s := range srcs {
		log := filepath.Join(env.Dir, fmt.Sprintf("proxy-%s-x%d.log", s.format, repeat))
		csv := filepath.Join(env.Dir, fmt.Sprintf("proxy-%s-x%d.csv", s.format, repeat))
		lines := float64(232 * repeat)
		setup := func() error { return repeatLog(s.from, log, csv, repeat, s.header) }
		size := func() int64 {
			if st, err := os.Stat(log); err == nil {
				return st.Size()
			}
			return 0
		}
		peer := ""
		switch s.format {
		case "squid":
			peer = fmt.Sprintf("mlr --inidx --ifs ' ' --repifs --ojsonl cat %s > $BENCH_DIR/proxy-out-mlr.jsonl", log)
		case "w3c":
			peer = fmt.Sprintf("mlr --icsv --ifs ' ' --ojsonl cat %s > $BENCH_DIR/proxy-out-mlr.jsonl", csv)
		}
		if err := setup(); err != nil {
			cases = append(cases, Case{Name: "proxy " + s.name, Setup: func() error { return err }})
			continue
		}
		for _, out := range []string{"ndjson", "parquet"} {
			c := Case{
				Name:  fmt.Sprintf("proxy %s -> %s %s lines", s.name, out, si(lines)),
				Items: lines, Unit: "lines", Bytes: size(),
				Ours: fmt.Sprintf("$SPOT decode proxy -i %s %s -o $BENCH_DIR/proxy-out.%s", s.format, log, out),
			}
			if out == "ndjson" && peer != "" {
				c.Peer, c.PeerName = peer, "mlr"
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// repeatLog writes from's data lines repeat times to log (W3C directives
// once, first), and to csv the same lines under a header of the #Fields
// names, for Miller. Files already there are kept.
func repeatLog(from, log, csv string, repeat int, header bool) error {
	if _, err := os.Stat(log); err == nil {
		if _, err := os.Stat(csv); err == nil || !header {
			return nil
		}
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var head, body, names []byte
	for _, l := range bytes.SplitAfter(data, []byte{'\n'}) {
		switch {
		case len(l) == 0:
		case l[0] == '#':
			head = append(head, l...)
			if f, ok := bytes.CutPrefix(l, []byte("#Fields: ")); ok {
				names = f
			}
		default:
			body = append(body, l...)
		}
	}
	write := func(path string, first []byte) error {
		f, err := os.Create(path + ".tmp")
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.Write(first)
		for range repeat {
			w.Write(body)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(path+".tmp", path)
	}
	if err := write(log, head); err != nil {
		return err
	}
	if header {
		return write(csv, names)
	}
	return nil
}
