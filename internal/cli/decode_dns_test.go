package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// signalWriter collects output and signals each write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A capture streamed on stdin (tcpdump -w - | spot decode dns): each record
// is written while the input is still open, not at its end.
func TestDecodeDNSStreamsRecords(t *testing.T) {
	capture, err := os.ReadFile(testenv.Testdata(t, "dns") + "/ndpi_dns.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	out := &signalWriter{wrote: make(chan struct{}, 1)}
	var errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Run(context.Background(), []string{"decode", "dns", "-"}, &IO{In: pr, Out: out, Err: &errb})
	}()
	// the whole capture, but the pipe stays open
	if _, err := pw.Write(capture); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for strings.Count(out.String(), "\n") < 3 {
		select {
		case <-out.wrote:
		case <-deadline:
			t.Fatalf("records not written while stdin is open; got %q", out.String())
		}
	}
	pw.Close()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), `"kind":"dns"`); n != 3 {
		t.Fatalf("%d records", n)
	}
}

// The strings of decode dns's records live in arenas that are reused once
// their batch is written: a capture given 12 times (10,152 records, ten
// batches, arenas reused) writes 12 copies of its records as the dns
// package makes them without an arena, as NDJSON and as Parquet.
func TestDecodeDNSBatchesKeepTheirText(t *testing.T) {
	capture := filepath.Join(testenv.Testdata(t, "dns"), "spot_label-bytes.pcap")
	dir := t.TempDir()
	// the reference: every string allocated on its own
	src, err := pcap.Open(capture, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.SetUnwrapper(tunnel.New())
	dec := dns.NewDecoder(dns.Options{Queries: true, Answers: true}, filepath.Base(capture))
	var ref []record.DNS
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == pcap.OK {
			ref, _ = dec.Packet(p, ref, nil)
		}
	}
	if len(ref) < ioformat.BatchSize/2 {
		t.Fatalf("%d records of the capture: too few to fill batches", len(ref))
	}
	read := func(path string) []record.DNS {
		t.Helper()
		in, err := ioformat.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		r, err := ioformat.NewReader[record.DNS](in)
		if err != nil {
			t.Fatal(err)
		}
		var recs []record.DNS
		buf := make([]record.DNS, 100)
		for {
			n, err := r.Read(buf)
			recs = append(recs, buf[:n]...)
			if err == io.EOF {
				return recs
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ext := range []string{"ndjson", "parquet"} {
		// the reference as the format reads it back (NDJSON's null answers)
		refPath := filepath.Join(dir, "ref."+ext)
		w, err := ioformat.Create[record.DNS](ioformat.Dest{Path: refPath}, record.Meta{Kind: record.KindDNS, Stream: record.StreamEvents})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ref); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		want := read(refPath)
		out := filepath.Join(dir, "many."+ext)
		args := []string{"decode", "dns", "--queries", "-o", out}
		for range 12 {
			args = append(args, capture)
		}
		st, _, errb := Test("")
		if code := Run(context.Background(), args, st); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		got := read(out)
		if len(got) != 12*len(want) {
			t.Fatalf("%s: %d records, want 12 x %d", ext, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i%len(want)]) {
				t.Fatalf("%s: record %d\n%+v\nwant\n%+v", ext, i, got[i], want[i%len(want)])
			}
		}
	}
}
