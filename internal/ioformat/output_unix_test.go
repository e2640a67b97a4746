//go:build unix

package ioformat

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// TestOutputToPipe: -o naming a named pipe (or a device: /dev/null) writes
// to it in place. Renaming a finished file onto it, as for a regular file,
// would replace the pipe its reader waits on (and, as root, /dev/null).
func TestOutputToPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testenv.Unavailable(t, "no named pipes here: "+err.Error())
	}
	got := make(chan []byte, 1)
	read := func() { // what the pipe's reader gets
		f, err := os.Open(fifo) // blocks until a writer opens it
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}
	flows := random[record.Flow](rand.New(rand.NewPCG(1, 1)), 2000)
	for _, format := range []Format{NDJSON, Parquet} {
		go read()
		w, err := Create[record.Flow](Dest{Path: fifo, Format: format}, record.Flow{}.Meta())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(flows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("%s: after writing, %s is no longer a named pipe (%v)", format, fifo, err)
		}
		b := <-got
		if len(b) < 2000*100 {
			t.Fatalf("%s: the pipe's reader got %d bytes", format, len(b))
		}
	}
}
