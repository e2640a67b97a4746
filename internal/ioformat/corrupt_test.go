package ioformat

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// TestCorruptParquet reads a thousand damaged copies of a flow and a DNS
// file, whole and projected: each must read or fail with an error naming
// the input, never panic. Unguarded, parquet-go panics on some of them (a
// page index offset out of range).
func TestCorruptParquet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	flows := random[record.Flow](rng, 300)
	dns := random[record.DNS](rng, 100)
	dir := t.TempDir()
	fp, dp := filepath.Join(dir, "f.parquet"), filepath.Join(dir, "d.parquet")
	writeT(t, fp, record.Flow{}.Meta(), flows)
	writeT(t, dp, record.DNS{}.Meta(), dns)
	failed := 0
	for _, path := range []string{fp, dp} {
		seed, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 1000; i++ {
			data := bytes.Clone(seed)
			for k := rng.IntN(4) + 1; k > 0; k-- {
				data[rng.IntN(len(data))] = byte(rng.IntN(256))
			}
			bad := filepath.Join(dir, "bad.parquet")
			if err := os.WriteFile(bad, data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cols := range [][]string{nil, {"sip", "dip", "ibyt"}} {
				if path == dp && cols != nil {
					continue
				}
				var err error
				if path == fp {
					err = drainErr[record.Flow](bad, cols)
				} else {
					err = drainErr[record.DNS](bad, cols)
				}
				if err != nil {
					failed++
					if !bytes.Contains([]byte(err.Error()), []byte("bad.parquet")) {
						t.Fatalf("error does not name the file: %v", err)
					}
				}
			}
		}
	}
	if failed < 100 {
		t.Errorf("only %d of the damaged files failed to read", failed)
	}
}

// writeT writes recs to path (the format from its extension).
func writeT[T any](t testing.TB, path string, m record.Meta, recs []T) {
	w, err := Create[T](Dest{Path: path}, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func drainErr[T any](path string, cols []string) error {
	in, err := Open(path, nil)
	if err != nil {
		return err
	}
	r, err := NewReader[T](in, cols...)
	if err != nil {
		in.Close()
		return err
	}
	defer r.Close()
	buf := make([]T, 64)
	for {
		if _, err := r.Read(buf); err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}
