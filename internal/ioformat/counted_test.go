package ioformat

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestOpenRawCounted: the callback is told of every byte of the file
// itself, compressed or not, so that a decoder's progress can be its
// share of the file's size (#20 item 5).
func TestOpenRawCounted(t *testing.T) {
	var plain bytes.Buffer
	for i := 0; plain.Len() < 3<<20; i++ {
		fmt.Fprintf(&plain, "line %d of a log that compresses %x\n", i, i*i)
	}
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	ze, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	ze.Write(plain.Bytes())
	ze.Close()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"log": plain.Bytes(), "log.gz": gz.Bytes(), "log.zst": zs.Bytes()} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		read := 0
		rc, err := OpenRawCounted(path, nil, func(n int) { read += n })
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain.Bytes()) {
			t.Errorf("%s: read %d bytes, not the log's %d", name, len(got), plain.Len())
		}
		if read != len(data) {
			t.Errorf("%s: told of %d bytes read, want the file's %d", name, read, len(data))
		}
	}
}
