package ioformat

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// pipeReader hands out its bytes at most 64 KiB a Read, as a pipe does.
type pipeReader struct{ r io.Reader }

func (p pipeReader) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), 64<<10)]) }

// repeatReader is n bytes of one byte, made up as they are read.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return k, nil
}

func readFlows(t *testing.T, src io.Reader) ([]record.Flow, int64, error) {
	t.Helper()
	in, err := Open("-", src)
	if err != nil {
		return nil, 0, err
	}
	r, err := NewReader[record.Flow](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var all []record.Flow
	buf := make([]record.Flow, 16)
	for {
		n, err := r.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all, r.(Skipper).Skipped(), nil
		}
		if err != nil {
			return all, 0, err
		}
	}
}

// allocated runs f and returns the bytes it allocated (the garbage
// included): a bound on the copying a reader does, which timing cannot
// give on a shared machine.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A valid first line longer than the sniffing buffer (a 2 MB record, then
// a normal one) is known by its leading keys and decoded whole.
func TestLongFirstLine(t *testing.T) {
	long := `{"kind":"flow","sip":"10.0.0.1","source":"` + strings.Repeat("x", 2<<20) + `"}` + "\n"
	next := `{"kind":"flow","sip":"10.0.0.2"}` + "\n"
	for _, src := range []io.Reader{strings.NewReader(long + next), pipeReader{strings.NewReader(long + next)}} {
		recs, skipped, err := readFlows(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || skipped != 0 || len(recs[0].Source) != 2<<20 || recs[1].SIP != "10.0.0.2" {
			t.Fatalf("%d records, %d skipped", len(recs), skipped)
		}
	}
	// Not JSON at all is still an error naming line 1, however long.
	if _, _, err := readFlows(t, strings.NewReader(`{"kind":"flow",]`+strings.Repeat(" ", 2<<20)+"\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a first line that is not JSON: %v", err)
	}
}

// A long line from a pipe costs linear work: each byte is copied a bounded
// number of times, not once per 64 KiB read after it (which made 16 MB take
// 5 s and 64 MB over 100 s).
func TestLongLineFromPipeIsLinear(t *testing.T) {
	const size = 8 << 20
	head := `{"kind":"flow","sip":"10.0.0.1"}` + "\n" + `{"kind":"flow","sip":"`
	var recs []record.Flow
	var err error
	n := allocated(func() {
		src := io.MultiReader(strings.NewReader(head), &repeatReader{'a', size}, strings.NewReader("\"}\n"))
		recs, _, err = readFlows(t, pipeReader{src})
	})
	if err != nil || len(recs) != 2 || len(recs[1].SIP) != size {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if n > 12*size {
		t.Errorf("reading an %d MiB line from a pipe allocated %d MiB: more than linear", size>>20, n>>20)
	}
}

// A line longer than MaxRecordSize is read past in constant memory,
// skipped and counted with its number; the lines around it are read.
func TestLineOverLimit(t *testing.T) {
	defer func(old int) { MaxRecordSize = old }(MaxRecordSize)
	MaxRecordSize = 1 << 20
	const size = 64 << 20
	for _, last := range []string{"\"}\n" + `{"kind":"flow","sip":"10.0.0.3"}` + "\n", ""} { // then a line, or the end
		var recs []record.Flow
		var skipped int64
		var err error
		var log bytes.Buffer
		restore := captureLog(&log)
		n := allocated(func() {
			src := io.MultiReader(strings.NewReader(`{"kind":"flow","sip":"10.0.0.1"}`+"\n"+`{"kind":"flow","sip":"`),
				&repeatReader{'a', size}, strings.NewReader(last))
			recs, skipped, err = readFlows(t, pipeReader{src})
		})
		restore()
		want := 1
		if last != "" {
			want = 2
		}
		if err != nil || len(recs) != want || skipped != 1 {
			t.Fatalf("%d records (want %d), %d skipped, err %v", len(recs), want, skipped, err)
		}
		if !strings.Contains(log.String(), "line=2 ") || !strings.Contains(log.String(), "max-record-size") {
			t.Errorf("the warning does not name line 2 and the limit: %s", log.String())
		}
		if n > 16*uint64(MaxRecordSize) {
			t.Errorf("skipping a %d MiB line allocated %d MiB: not constant", size>>20, n>>20)
		}
	}
}
