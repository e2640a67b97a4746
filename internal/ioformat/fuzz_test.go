package ioformat

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Corrupt Parquet and NDJSON give errors, never a panic.
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
			drainQuiet[record.Flow](in)
		case record.DNS{}.Meta():
			drainQuiet[record.DNS](in)
		}
	})
}

func drainQuiet[T any](in *Input) {
	r, err := NewReader[T](in)
	if err != nil {
		return
	}
	buf := make([]T, 16)
	for {
		if _, err := r.Read(buf); err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}
