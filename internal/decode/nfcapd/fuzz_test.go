package nfcapd_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/nfcapd"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// FuzzReader: no file makes the reader panic, loop or hold more than its
// bounded buffers; every record it returns has its columns filled.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "nfcapd/*.nfcapd"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if !strings.Contains(file, "bzip2") { // bzip2 makes each run 10-50 times slower
			f.Add(b)
		}
		f.Add(b[:min(len(b), 2048)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := nfcapd.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		defer r.Close()
		var recs []record.Flow
		total := int64(0)
		for i := 0; ; i++ {
			recs, err = r.Next(recs[:0], 256)
			total += int64(len(recs))
			for _, f := range recs {
				if f.SIP == "" || f.DIP == "" || f.Proto == "" || f.Source != "nfcapd" {
					t.Fatalf("record with empty columns: %+v", f)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err) // a bytes.Reader has no read errors
			}
			if i > len(data) {
				t.Fatal("no progress")
			}
		}
		// A record takes 4 bytes at least of a block of at most 5 MiB.
		st := r.Stats()
		if st.Records != total || st.Skipped > (st.Blocks+1)*(5<<20)/4 {
			t.Fatalf("counts %+v, %d records returned", st, total)
		}
	})
}
