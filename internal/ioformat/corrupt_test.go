package ioformat

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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
				if path == fp && cols == nil {
					if perr := drainPairErr(bad); (perr == nil) != (err == nil) {
						t.Fatalf("a pair reader read the damaged file to %v, NewReader to %v", perr, err)
					}
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

// drainPairErr is drainErr for a PairReader of the same columns.
func drainPairErr(path string) error {
	in, err := Open(path, nil)
	if err != nil {
		return err
	}
	type main struct {
		record.Flow
		Times int64 `parquet:"-"`
	}
	type side struct{}
	r, err := NewPairReader[main, side](in)
	if err != nil {
		in.Close()
		return err
	}
	defer r.Close()
	buf, sides := make([]main, 64), make([]side, 64)
	for {
		if _, err := r.Read(buf, sides); err != nil {
			if err == io.EOF {
				return nil
			}
			if !strings.Contains(err.Error(), "bad.parquet") {
				return fmt.Errorf("error does not name the file: %w", err)
			}
			return err
		}
	}
}
