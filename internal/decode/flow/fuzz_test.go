package flow

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// FuzzCSV: the nfdump CSV reader never panics and ends; every line it
// does not turn into a record and reports is counted (Skipped equals the
// lines warned of, each a line of the input, none twice); records and
// skipped lines together are at most the input's lines; and the records
// do not depend on the read buffer's size.
func FuzzCSV(f *testing.F) {
	m, _ := filepath.Glob("../../../testdata/flow/*.csv")
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if len(m) == 0 {
		f.Fatal("no seed CSV files")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := int64(bytes.Count(b, []byte("\n")))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			lines++
		}
		var first []record.Flow
		for _, size := range []int{7, 1000} {
			r := NewCSVReader(bytes.NewReader(b), "fuzz", time.UTC)
			warned := map[int64]bool{}
			r.Warn = func(e *LineError) {
				if e.Line < 1 || e.Line > lines || warned[e.Line] {
					t.Fatalf("line %d warned of (input has %d lines, warned before: %v)", e.Line, lines, warned[e.Line])
				}
				warned[e.Line] = true
			}
			var recs []record.Flow
			buf := make([]record.Flow, size)
			for i := 0; ; i++ {
				if i == 1e6 {
					t.Fatal("reader did not end")
				}
				n, err := r.Read(buf)
				recs = append(recs, buf[:n]...)
				if err != nil {
					break
				}
			}
			r.Close()
			if int64(len(warned)) != r.Skipped() {
				t.Fatalf("%d lines skipped, %d warned of", r.Skipped(), len(warned))
			}
			if int64(len(recs))+r.Skipped() > lines {
				t.Fatalf("%d records and %d skipped lines from %d lines", len(recs), r.Skipped(), lines)
			}
			if first == nil {
				first = recs
			} else if fmt.Sprintf("%+v", recs) != fmt.Sprintf("%+v", first) {
				t.Fatalf("%d records reading 1000 at a time, %d reading 7", len(recs), len(first))
			}
		}
	})
}

// FuzzCapture: arbitrary bytes given as a capture or datagram file never
// panic the decoder; every record emitted is counted in Result.Records,
// each has an event id of its own, and decoding the same bytes twice gives
// the same records.
func FuzzCapture(f *testing.F) {
	for _, pat := range []string{"flow/*.pcap", "flow/*.dat", "tunnels/*.pcap"} {
		m, _ := filepath.Glob(filepath.Join("../../../testdata", pat))
		for _, p := range m {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > 4096 {
				b = b[:4096]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, from := range []string{"auto", "exports"} {
			var runs [2]string
			for run := range runs {
				var recs []record.Flow
				res, err := Decode(context.Background(), "fuzz", bytes.NewReader(b), Options{From: from, Ports: []int{29995, 29997, 2055}},
					func(batch []record.Flow) error { recs = append(recs, batch...); return nil })
				if err == nil && res.Records != int64(len(recs)) {
					t.Fatalf("%s: %d records emitted, Result counts %d", from, len(recs), res.Records)
				}
				eids := map[int64]bool{}
				for _, r := range recs {
					if eids[r.EID] {
						t.Fatalf("%s: event id %d twice", from, r.EID)
					}
					eids[r.EID] = true
				}
				runs[run] = fmt.Sprintf("%v %+v", err, recs)
			}
			if runs[0] != runs[1] {
				t.Fatalf("%s: two decodes of the same bytes differ", from)
			}
		}
	})
}
