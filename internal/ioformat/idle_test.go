package ioformat

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// TestFlushWhenIdle: an NDJSON reader of a pipe calls OnIdle's function
// before it waits for lines that have not come; a reader of a file never
// does.
func TestFlushWhenIdle(t *testing.T) {
	line := `{"kind":"flow","sip":"10.0.0.1"}` + "\n"
	pr, pw := io.Pipe()
	go pw.Write([]byte(line + line))
	in, err := Open("-", pr)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Live {
		t.Fatal("a pipe is not live")
	}
	r, err := NewReader[record.Flow](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idle := make(chan bool, 10)
	r.(Idler).OnIdle(func() error { idle <- true; return nil })
	buf := make([]record.Flow, 8)
	n := 0
	for n < 2 {
		k, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	for len(idle) > 0 { // while the first lines were on their way
		<-idle
	}
	got := make(chan int)
	go func() { k, _ := r.Read(buf); got <- k }()
	<-idle // before it waits for the third line
	pw.Write([]byte(line))
	if k := <-got; k != 1 {
		t.Errorf("read %d records after idle, want 1", k)
	}
	pw.Close()

	path := filepath.Join(t.TempDir(), "f.ndjson")
	os.WriteFile(path, []byte(line), 0o644)
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Live {
		t.Error("a file is live")
	}
	fr, _ := NewReader[record.Flow](f)
	defer fr.Close()
	fr.(Idler).OnIdle(func() error { t.Error("idle on a file"); return nil })
	for {
		if _, err := fr.Read(buf); err != nil {
			break
		}
	}
}

// TestCSVFlush: records written to CSV reach the destination on Flush.
func TestCSVFlush(t *testing.T) {
	pr, pw := io.Pipe()
	w, err := Create[record.Flow](Dest{Stdout: pw, Format: CSV}, record.Flow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b := make([]byte, 64<<10)
		n, _ := io.ReadAtLeast(pr, b, 1)
		got <- b[:n]
		io.Copy(io.Discard, pr)
	}()
	if err := w.Write([]record.Flow{{SIP: "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.(Flusher).Flush(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; len(b) == 0 {
		t.Error("nothing written by Flush")
	}
	w.Close()
	pw.Close()
}

// TestCompressedOutput: a path ending .gz or .zst is written compressed
// (and read back); its format is the one before that extension.
func TestCompressedOutput(t *testing.T) {
	dir := t.TempDir()
	recs := []record.Flow{{SIP: "10.0.0.1", DIP: "10.0.0.2", Proto: "TCP"}, {SIP: "10.0.0.3", Proto: "UDP"}}
	for _, tc := range []struct {
		name  string
		magic []byte
	}{
		{"out.csv.gz", []byte{0x1f, 0x8b}},
		{"out.ndjson.gz", []byte{0x1f, 0x8b}},
		{"out.ndjson.zst", []byte{0x28, 0xb5, 0x2f, 0xfd}},
		{"out.parquet.zst", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	} {
		path := filepath.Join(dir, tc.name)
		w, err := Create[record.Flow](Dest{Path: path}, record.Flow{}.Meta())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
		if f, ok := w.(Flusher); ok { // a live flush keeps the stream whole
			if err := f.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, tc.magic) {
			t.Errorf("%s starts % x, not compressed", tc.name, data[:min(len(data), 4)])
			continue
		}
		rc, err := OpenRaw(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if FormatFromPath(tc.name) == CSV {
			if !bytes.HasPrefix(plain, []byte("treceived,")) || bytes.Count(plain, []byte("\n")) != 3 {
				t.Errorf("%s: %q", tc.name, plain)
			}
			continue
		}
		in, err := Open(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		r, _ := NewReader[record.Flow](in)
		got := make([]record.Flow, 4)
		n, _ := r.Read(got)
		r.Close()
		if n != 2 || got[0].SIP != "10.0.0.1" || got[1].Proto != "UDP" {
			t.Errorf("%s: read back %d records %+v", tc.name, n, got[:n])
		}
	}
}
