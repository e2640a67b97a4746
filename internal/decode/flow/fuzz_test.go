package flow

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// FuzzCSV: the nfdump CSV reader never panics and counts every line it
// does not turn into a record.
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
		r := NewCSVReader(bytes.NewReader(b), "fuzz", time.UTC)
		buf := make([]record.Flow, 7)
		for i := 0; i < 1e6; i++ {
			_, err := r.Read(buf)
			if err != nil {
				return
			}
		}
		t.Fatal("reader did not end")
	})
}

// FuzzCapture: arbitrary bytes given as a capture or datagram file never
// panic the decoder.
func FuzzCapture(f *testing.F) {
	for _, pat := range []string{"*.pcap", "*.dat"} {
		m, _ := filepath.Glob(filepath.Join("../../../testdata/flow", pat))
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
			Decode(context.Background(), "fuzz", bytes.NewReader(b), Options{From: from, Ports: []int{29995, 29997, 2055}},
				func([]record.Flow) error { return nil })
		}
		io.Discard.Write(b)
	})
}
