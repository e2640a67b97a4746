package ioformat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Corrupt Parquet and NDJSON give errors, never a panic; records read
// whole (to EOF) write to Parquet and NDJSON and read back the same; a
// reader lending its strings reads what one giving them reads.
func FuzzReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	dir := f.TempDir()
	flows := random[record.Flow](rng, 50)
	dns := random[record.DNS](rng, 20)
	for name, w := range map[string]func(string){
		"f.parquet": func(p string) { writeT(f, p, record.Flow{}.Meta(), flows) },
		"d.parquet": func(p string) { writeT(f, p, record.DNS{}.Meta(), dns) },
		"f.ndjson":  func(p string) { writeT(f, p, record.Flow{}.Meta(), flows[:5]) },
	} {
		p := filepath.Join(dir, name)
		w(p)
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Open("-", bytes.NewReader(data))
		if err != nil {
			return
		}
		defer in.Close()
		switch in.Meta {
		case record.Flow{}.Meta():
			lentSame[record.Flow](t, in)
			fuzzRoundTrip[record.Flow](t, in)
		case record.DNS{}.Meta():
			lentSame[record.DNS](t, in)
			fuzzRoundTrip[record.DNS](t, in)
		}
	})
}

// fuzzRoundTrip reads in to its end; when that succeeds the records go
// through each format and must come back as they were.
func fuzzRoundTrip[T record.Record](t *testing.T, in *Input) {
	recs, ok := drainQuiet[T](in)
	if !ok {
		return
	}
	want := fmt.Sprintf("%+v", recs) // NaN prints as NaN: equal to itself
	var meta T
	for _, name := range []string{"r.parquet", "r.ndjson"} {
		path := filepath.Join(t.TempDir(), name)
		writeT(t, path, meta.Meta(), recs)
		back, err := Open(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, ok := drainQuiet[T](back)
		back.Close()
		if !ok || len(got) != len(recs) || fmt.Sprintf("%+v", got) != want {
			t.Fatalf("%d records through %s came back as %d (read to the end: %v)", len(recs), name, len(got), ok)
		}
	}
}

// lentSame reads in from the start twice, giving strings and lending them
// (LendStrings), and fails unless both read the same records to the same
// end. A lent batch is printed before the next Read. Parquet only.
func lentSame[T any](t *testing.T, in *Input) {
	if in.Format != Parquet {
		return // only Parquet lends
	}
	again, err := in.Rewind()
	if err != nil {
		t.Fatal(err)
	}
	recs, ok := drainQuiet[T](again)
	again.Close()
	want := make([]string, len(recs))
	for i := range recs {
		want[i] = fmt.Sprintf("%+v", recs[i])
	}
	if again, err = in.Rewind(); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	r, err := NewReader[T](again)
	if err != nil {
		if ok {
			t.Fatalf("read in full giving strings, but lending: %v", err)
		}
		return
	}
	defer r.Close()
	LendStrings(r, 1)
	buf := make([]T, 16)
	var got []string
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			got = append(got, fmt.Sprintf("%+v", buf[i]))
		}
		if err != nil {
			if errors.Is(err, io.EOF) != ok || !slices.Equal(got, want) {
				t.Fatalf("giving strings read %d records (to the end: %v), lending them %d (%v)", len(want), ok, len(got), err)
			}
			return
		}
	}
}

// drainQuiet reads every record of in; ok is false when reading failed
// before EOF.
func drainQuiet[T any](in *Input) (recs []T, ok bool) {
	r, err := NewReader[T](in)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	buf := make([]T, 16)
	for {
		n, err := r.Read(buf)
		recs = append(recs, buf[:n]...)
		if errors.Is(err, io.EOF) {
			if s, skips := r.(Skipper); skips && s.Skipped() > 0 {
				return recs, false
			}
			return recs, true
		}
		if err != nil {
			return recs, false
		}
	}
}
