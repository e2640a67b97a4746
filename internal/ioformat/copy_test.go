package ioformat

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spot-hunt/spot/internal/testenv"
)

// TestCopyFrom: RawOutput.CopyFrom writes what io.Copy through Write
// writes (the old path), byte for byte: copied by the kernel into a file of
// the output's own on Linux, or read and written by the writer once the
// kernel refused; it leaves a pipe or a compressed file to the caller.
func TestCopyFrom(t *testing.T) {
	name := filepath.Join(testenv.Corpus(t, "flows"), "ndpi", "1kxun.pcap")
	data := testenv.ReadFile(t, name)
	src, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	type op struct {
		write  string
		off, n int64
	}
	ops := []op{{write: "PAR1"}, {off: 100, n: 300_000}, {write: "mid"}, {off: 5, n: int64(len(data)) - 5},
		{off: 7, n: 1}, {write: string(data[:70_000])}, {off: 0, n: 0}, {off: 1 << 10, n: 600_000}, {write: "end"}}
	var want []byte
	var copied int64
	for _, o := range ops {
		want = append(append(want, o.write...), data[o.off:o.off+o.n]...)
		copied += o.n
	}
	// write sends ops to d, copying chunks by CopyFrom, or by io.Copy
	// through Write when it declines (old: always, the old path); kernel
	// false: as though the kernel had refused. It returns the bytes the
	// kernel copied and whether CopyFrom declined any copy.
	write := func(d Dest, old, kernel bool) (copied int64, declined bool) {
		t.Helper()
		r, err := CreateRaw(d)
		if err != nil {
			t.Fatal(err)
		}
		r.out.async.kernel = kernel
		for _, o := range ops {
			if o.write != "" {
				if _, err := io.WriteString(r, o.write); err != nil {
					t.Fatal(err)
				}
				continue
			}
			done := false
			if !old {
				if done, err = r.CopyFrom(src, o.off, o.n); err != nil {
					t.Fatal(err)
				}
				declined = declined || !done
			}
			if !done {
				if _, err := io.Copy(r, io.NewSectionReader(src, o.off, o.n)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return r.out.async.copied, declined
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		kernel bool
	}{{"file", true}, {"file, kernel refused", false}} {
		path := filepath.Join(dir, "out.parquet")
		got, declined := write(Dest{Path: path}, false, c.kernel)
		if declined {
			t.Errorf("%s: CopyFrom declined", c.name)
		}
		wantCopied := int64(0)
		if c.kernel && runtime.GOOS == "linux" {
			wantCopied = copied
		}
		if got != wantCopied {
			t.Errorf("%s: the kernel copied %d bytes, want %d", c.name, got, wantCopied)
		}
		if b := testenv.ReadFile(t, path); !bytes.Equal(b, want) {
			t.Errorf("%s: wrote %d bytes, want %d; the first differs at %d", c.name, len(b), len(want), firstDiff(b, want))
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v", c.name, st, err)
		}
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr); got <- b }()
	if n, declined := write(Dest{Path: "-", Stdout: pw}, false, true); n != 0 || !declined {
		t.Errorf("pipe: the kernel copied %d bytes, CopyFrom declined: %v", n, declined)
	}
	pw.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("pipe: %d bytes read, want %d; the first differs at %d", len(b), len(want), firstDiff(b, want))
	}

	// a compressor is handed the bytes in the old path's Writes: the
	// same stream
	oldPath, newPath := filepath.Join(dir, "old.parquet.zst"), filepath.Join(dir, "new.parquet.zst")
	write(Dest{Path: oldPath}, true, true)
	if n, declined := write(Dest{Path: newPath}, false, true); n != 0 || !declined {
		t.Errorf("zstd: the kernel copied %d bytes, CopyFrom declined: %v", n, declined)
	}
	if !bytes.Equal(testenv.ReadFile(t, oldPath), testenv.ReadFile(t, newPath)) {
		t.Error("zstd: CopyFrom's stream differs from the old path's")
	}
}

// firstDiff is the offset of the first byte in which a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
