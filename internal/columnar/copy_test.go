package columnar

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// countingCopier counts the bytes an output was asked to copy from files.
type countingCopier struct {
	*ioformat.RawOutput
	n int64
}

func (c *countingCopier) CopyFrom(src *os.File, off, n int64) (bool, error) {
	done, err := c.RawOutput.CopyFrom(src, off, n)
	if done {
		c.n += n
	}
	return done, err
}

// TestRunCopiesFromFiles: given the inputs' files, a run copies the
// passed-through chunks by the output's CopyFrom (by the kernel, into a
// file) and writes the bytes it writes through Write alone; into a
// compressed file, through Write, the same stream.
func TestRunCopiesFromFiles(t *testing.T) {
	flows := testFlows(3000, 5) // rejected rows: re-encoded row groups
	clean := testFlows(2500, 6) // copied chunks
	for i := range clean {
		clean[i].TrMinute, clean[i].DIP = 1, "192.168.9.9"
		if clean[i].SPort < 0 {
			clean[i].SPort = 7
		}
	}
	sc, err := lda.NewScorer(testModel(t, flows), lda.Spot, lda.UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []*parquet.File
	var srcs []*os.File
	for i, rows := range [][]record.Flow{flows, clean} {
		name := filepath.Join(dir, "in"+string(rune('0'+i))+".parquet")
		b := writeParquet(t, rows, 1000, parquet.Compression(&parquet.Snappy))
		data := make([]byte, b.Size())
		if _, err := b.ReadAt(data, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pf, err := parquet.OpenFile(f, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		files, srcs = append(files, pf), append(srcs, f)
	}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows(files, full)
	if !ok {
		t.Fatal("no columnar plan")
	}
	run := func(srcs []*os.File, out io.Writer) Stats {
		t.Helper()
		r := &Runner{Scorer: sc, Method: "spot", Workers: 2, Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta()), Files: srcs}
		st, err := r.Run(context.Background(), files, p, full, ExtraSchema(full), out)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// create writes a run (given srcs or not) to a file named name.
	create := func(name string, srcs []*os.File) (path string, copied int64) {
		t.Helper()
		path = filepath.Join(dir, name)
		raw, err := ioformat.CreateRaw(ioformat.Dest{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		w := &countingCopier{RawOutput: raw}
		if st := run(srcs, w); st.Copied == 0 {
			t.Fatalf("%s: no row group copied", name)
		}
		if err := raw.Close(); err != nil {
			t.Fatal(err)
		}
		return path, w.n
	}
	for _, c := range []struct {
		name   string
		kernel bool
	}{{"out.parquet", true}, {"out.parquet.zst", false}} {
		oldPath, _ := create("old-"+c.name, nil)
		path, n := create(c.name, srcs)
		if (n > 0) != c.kernel {
			t.Errorf("%s: %d bytes copied by CopyFrom", c.name, n)
		}
		old, err := os.ReadFile(oldPath)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, old) {
			t.Errorf("%s: wrote %d bytes, %d through Write alone", c.name, len(got), len(old))
		}
	}
}
