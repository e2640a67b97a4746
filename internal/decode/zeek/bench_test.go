package zeek

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// repeatRows is a log of name's header and its data rows repeated to n rows.
func repeatRows(b *testing.B, name string, n int) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.Testdata(b, "zeek"), name))
	if err != nil {
		b.Fatal(err)
	}
	var head, rows []byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		t := bytes.TrimLeft(l, " \t")
		switch {
		case len(t) == 0 || bytes.HasPrefix(t, []byte("#close")):
		case t[0] == '#':
			head = append(head, l...)
		default:
			rows = append(rows, l...)
		}
	}
	per := bytes.Count(rows, []byte("\n"))
	out := head
	for i := 0; i < n; i += per {
		out = append(out, rows...)
	}
	return out
}

// BenchmarkReadFlowsTSV reads Slips' conn.log (TSV), repeated, into flows.
func BenchmarkReadFlowsTSV(b *testing.B) {
	in := repeatRows(b, "slips_test10-mixed_conn.log", 100_000)
	b.SetBytes(int64(len(in)))
	dst := make([]record.Flow, 0, 1024)
	var rows int64
	for b.Loop() {
		z := NewReader(bytes.NewReader(in), "conn.log")
		for {
			var err error
			dst, err = z.ReadFlows(dst[:0], 1024)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if s := z.Stats(); s.Skipped != 0 || s.Records != s.Rows {
			b.Fatalf("%+v", s)
		}
		rows += z.Stats().Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
