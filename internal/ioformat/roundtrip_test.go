package ioformat

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// fill sets every field of v (a pointer to a record) to a random value.
func fill(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(rng, v.Field(i))
		}
	case reflect.String:
		v.SetString(randString(rng))
	case reflect.Int32:
		v.SetInt(int64(int32(rng.Uint32())))
	case reflect.Int64:
		v.SetInt(int64(rng.Uint64()))
	case reflect.Float32:
		v.SetFloat(float64(float32(rng.NormFloat64() * 1e3)))
	case reflect.Float64:
		v.SetFloat(rng.NormFloat64() * 1e-3)
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 1)
	case reflect.Slice:
		n := rng.IntN(4)
		if n == 0 {
			v.SetZero()
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i))
		}
		v.Set(s)
	}
}

// random returns n records of random fields.
func random[T any](rng *rand.Rand, n int) []T {
	recs := make([]T, n)
	for i := range recs {
		fill(rng, reflect.ValueOf(&recs[i]).Elem())
	}
	return recs
}

func randString(rng *rand.Rand) string {
	alphabet := []string{"a", "Z", "0", ".", "-", "_", " ", "\"", "\\", "\n", "\t", "é", "日本", "\x00", "/", "%", ",", "<", ">", "&"}
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestRoundTripEveryRecordType(t *testing.T) {
	counts := record.Meta{Kind: record.KindDNS, Stream: record.StreamCounts}
	t.Run("flow", func(t *testing.T) { roundTrip[record.Flow](t, record.Flow{}.Meta()) })
	t.Run("dns", func(t *testing.T) { roundTrip[record.DNS](t, record.DNS{}.Meta()) })
	t.Run("proxy", func(t *testing.T) { roundTrip[record.Proxy](t, record.Proxy{}.Meta()) })
	t.Run("featurized-flow", func(t *testing.T) { roundTrip[record.FeaturizedFlow](t, record.FeaturizedFlow{}.Meta()) })
	t.Run("featurized-dns", func(t *testing.T) { roundTrip[record.FeaturizedDNS](t, record.FeaturizedDNS{}.Meta()) })
	t.Run("featurized-proxy", func(t *testing.T) { roundTrip[record.FeaturizedProxy](t, record.FeaturizedProxy{}.Meta()) })
	t.Run("counts", func(t *testing.T) { roundTrip[record.Count](t, counts) })
	t.Run("scored-flow", func(t *testing.T) { roundTrip[record.ScoredFlow](t, record.ScoredFlow{}.Meta()) })
	t.Run("scored-dns", func(t *testing.T) { roundTrip[record.ScoredDNS](t, record.ScoredDNS{}.Meta()) })
	t.Run("scored-proxy", func(t *testing.T) { roundTrip[record.ScoredProxy](t, record.ScoredProxy{}.Meta()) })
	t.Run("finding", func(t *testing.T) { roundTrip[record.Finding](t, record.Finding{}.Meta()) })
}

// roundTrip writes random records as Parquet, reads them back, writes
// those as NDJSON, reads those back, and back to Parquet: every step must
// give the records it was given.
func roundTrip[T any](t *testing.T, m record.Meta) {
	rng := rand.New(rand.NewPCG(7, 7))
	want := make([]T, 3000) // spans several batches
	for i := range want {
		fill(rng, reflect.ValueOf(&want[i]).Elem())
	}
	dir := t.TempDir()
	pq := filepath.Join(dir, "a.parquet")
	nd := filepath.Join(dir, "a.ndjson")
	pq2 := filepath.Join(dir, "b.parquet")
	write(t, pq, m, want)
	got := read[T](t, pq, m)
	same(t, "Parquet", want, got)
	write(t, nd, m, got)
	got = read[T](t, nd, m)
	same(t, "NDJSON", want, got)
	write(t, pq2, m, got)
	same(t, "Parquet again", want, read[T](t, pq2, m))
}

func write[T any](t *testing.T, path string, m record.Meta, recs []T) {
	t.Helper()
	w, err := Create[T](Dest{Path: path}, m)
	if err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 { // uneven batches
		n := min(len(recs), 777)
		if err := w.Write(recs[:n]); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func read[T any](t *testing.T, path string, m record.Meta, columns ...string) []T {
	t.Helper()
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Meta != m {
		t.Fatalf("%s: meta %v, want %v", path, in.Meta, m)
	}
	r, err := NewReader[T](in, columns...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return drain(t, r)
}

func same[T any](t *testing.T, step string, want, got []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", step, len(got), len(want))
	}
	for i := range want {
		if !equal(reflect.ValueOf(want[i]), reflect.ValueOf(got[i])) {
			t.Fatalf("%s: record %d:\n got %+v\nwant %+v", step, i, got[i], want[i])
		}
	}
}

// equal is reflect.DeepEqual for records, but for a nil and an empty list,
// which are the same list, and NaN, which equals NaN.
func equal(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float() || math.IsNaN(a.Float()) && math.IsNaN(b.Float())
	case reflect.Struct:
		for i := range a.NumField() {
			if !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

func TestProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := random[record.Flow](rng, 5000)
	path := filepath.Join(t.TempDir(), "f.parquet")
	write(t, path, record.Flow{}.Meta(), want)
	got := read[record.Flow](t, path, record.Flow{}.Meta(), "sip", "dport", "ibyt", "tdur")
	for i := range want {
		w := record.Flow{SIP: want[i].SIP, DPort: want[i].DPort, IByt: want[i].IByt, TDur: want[i].TDur}
		if got[i] != w {
			t.Fatalf("record %d: got %+v, want only %+v", i, got[i], w)
		}
	}
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := NewReader[record.Flow](in, "sip", "nosuch"); err == nil || !strings.Contains(err.Error(), `no column "nosuch"`) {
		t.Errorf("unknown column: err = %v", err)
	}
}

func TestSniff(t *testing.T) {
	dir := t.TempDir()
	recs := []record.Flow{{SIP: "10.0.0.1", DPort: 53, Proto: "UDP"}}
	pq := filepath.Join(dir, "x.parquet")
	write(t, pq, record.Flow{}.Meta(), recs)
	nd := filepath.Join(dir, "x.ndjson")
	write(t, nd, record.Flow{}.Meta(), recs)
	data, _ := os.ReadFile(nd)
	pqData, _ := os.ReadFile(pq)
	for name, c := range map[string]struct {
		data   []byte
		format Format
	}{
		"noext":       {data, NDJSON},
		"parquet.bin": {pqData, Parquet},
		"x.ndjson.gz": {gz(t, data), NDJSON},
		"x.zst":       {zst(t, pqData), Parquet},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, c.data, 0o644)
		in, err := Open(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if in.Format != c.format || in.Meta != (record.Flow{}).Meta() {
			t.Errorf("%s: format %s meta %v", name, in.Format, in.Meta)
		}
		in.Close()
		// The same bytes from stdin: Parquet from a pipe is spooled.
		in, err = Open("-", bytes.NewReader(c.data))
		if err != nil {
			t.Fatalf("%s on stdin: %v", name, err)
		}
		if got := readAll[record.Flow](t, in); len(got) != 1 || got[0] != recs[0] {
			t.Errorf("%s on stdin: got %+v", name, got)
		}
	}
}

func readAll[T any](t *testing.T, in *Input) []T {
	t.Helper()
	r, err := NewReader[T](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return drain(t, r)
}

func TestInvalidJSONNamesLine(t *testing.T) {
	in, err := Open("-", strings.NewReader(`{"kind":"flow","sip":"a"}`+"\n\n"+`{"kind":"flow","sip":`+"\n"+`{"kind":"flow","sip":"b"}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	restore := captureLog(&logged)
	defer restore()
	r, _ := NewReader[record.Flow](in)
	got := drain(t, r)
	if len(got) != 2 || got[0].SIP != "a" || got[1].SIP != "b" {
		t.Fatalf("got %+v", got)
	}
	if n := r.(Skipper).Skipped(); n != 1 {
		t.Errorf("skipped %d, want 1", n)
	}
	if !strings.Contains(logged.String(), "file=<stdin> line=3 ") {
		t.Errorf("warning does not name line 3: %s", logged.String())
	}
}

func TestTruncatedParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	write(t, path, record.Flow{}.Meta(), make([]record.Flow, 100))
	data, _ := os.ReadFile(path)
	for _, n := range []int{0, 3, 4, 100, len(data) / 2, len(data) - 1} {
		cut := filepath.Join(dir, "cut.parquet")
		os.WriteFile(cut, data[:n], 0o644)
		in, err := Open(cut, nil)
		if err == nil {
			if in.Format == Parquet {
				_, err = NewReader[record.Flow](in)
			}
			in.Close()
		}
		if n >= 4 && (err == nil || !strings.Contains(err.Error(), "cut.parquet")) {
			t.Errorf("%d bytes: err = %v, want one naming the file", n, err)
		}
	}
}

func drain[T any](t *testing.T, r Reader[T]) []T {
	t.Helper()
	var all []T
	buf := make([]T, 10)
	for {
		n, err := r.Read(buf)
		all = append(all, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
