package ioformat

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/record"
)

// mixedFlow writes flow columns in the encodings and types other writers
// use: dictionaries, plain strings, nullable columns, other widths.
type mixedFlow struct {
	SIP    string  `parquet:"sip,dict"`
	DIP    string  `parquet:"dip"`
	DPort  int64   `parquet:"dport,optional"` // an int32 field
	IByt   int32   `parquet:"ibyt"`           // an int64 field
	TDur   float64 `parquet:"tdur,optional"`  // a float32 field
	Proto  string  `parquet:"proto,optional,dict"`
	EID    int64   `parquet:"eid"`
	Tunnel string  `parquet:"tunnel,optional"`
	TrYear int64   `parquet:"tryear"`   // one value: read from the statistics
	TrDay  int32   `parquet:"trday"`    // one value in some row groups
	Fwd    int32   `parquet:"fwd,dict"` // one value, in a dictionary
}

func writeGroups[T any](t *testing.T, path string, recs []T, m record.Meta) *Input {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, append(ParquetOptions(m), parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(2048))...)
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// readEvery reads in whole through NewReader.
func readEvery[T any](t *testing.T, in *Input) []T {
	t.Helper()
	again, err := in.Rewind()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader[T](again)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []T
	buf := make([]T, 100)
	for {
		n, err := r.Read(buf)
		for _, x := range buf[:n] {
			out = append(out, x)
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// RowsOf and ColumnOf read what NewReader reads: every encoding, nulls,
// conversions, lists; rows sought one by one, in runs and all of a group;
// one GroupReader reused over the groups in any order.
func TestGroupReaderMatchesReader(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	var mixed []mixedFlow
	for i := range 3000 {
		f := mixedFlow{SIP: fmt.Sprint("10.0.0.", r.IntN(30)), DIP: fmt.Sprint("192.168.", r.IntN(200), ".1"), DPort: int64(r.IntN(70000)),
			IByt: int32(r.IntN(1 << 30)), TDur: r.Float64() * 100, Proto: []string{"", "TCP", "UDP"}[r.IntN(3)], EID: int64(i)}
		if i%5 == 0 {
			f.Tunnel = fmt.Sprint("gre ", i)
		}
		f.TrYear, f.TrDay, f.Fwd = 2026, int32(i/1000), -3
		mixed = append(mixed, f)
	}
	var dns []record.DNS
	for i := range 2500 {
		d := record.DNS{QryName: fmt.Sprint("q", r.IntN(400), ".example"), QryType: int32(r.IntN(30)), EID: int64(i)}
		for range r.IntN(3) {
			d.Answers = append(d.Answers, fmt.Sprint("a", r.IntN(9)))
		}
		dns = append(dns, d)
	}
	check := func(name string, in *Input, every any, rowsOf func(g int, rows []int64) (any, error)) {
		t.Helper()
		all := reflect.ValueOf(every)
		var start int64
		groups := in.ParquetFile().RowGroups()
		if len(groups) < 3 {
			t.Fatalf("%s: %d row groups", name, len(groups))
		}
		for _, g := range r.Perm(len(groups)) {
			start = 0
			for _, rg := range groups[:g] {
				start += rg.NumRows()
			}
			n := groups[g].NumRows()
			var rows []int64
			for i := range n {
				if p := []int{1, 2, 50, 100}[g%4]; r.IntN(100) < p {
					rows = append(rows, i)
				}
			}
			got, err := rowsOf(g, rows)
			if err != nil {
				t.Fatalf("%s: group %d: %v", name, g, err)
			}
			gv := reflect.ValueOf(got)
			if gv.Len() != len(rows) {
				t.Fatalf("%s: group %d: %d rows for %d", name, g, gv.Len(), len(rows))
			}
			for j, row := range rows {
				if want := all.Index(int(start + row)).Interface(); !reflect.DeepEqual(gv.Index(j).Interface(), want) {
					t.Fatalf("%s: group %d row %d: %+v, want %+v", name, g, row, gv.Index(j).Interface(), want)
				}
			}
		}
	}
	in := writeGroups(t, filepath.Join(dir, "mixed.parquet"), mixed, record.Flow{}.Meta())
	defer in.Close()
	flows := readEvery[record.Flow](t, in)
	gr := NewGroupReader(in)
	check("flows", in, flows, func(g int, rows []int64) (any, error) { return RowsOf(gr, g, rows, []record.Flow(nil)) })
	for g := range in.ParquetFile().RowGroups() {
		start := int(gr.start[g])
		ports, err := ColumnOf(gr, g, "dport", []int32(nil))
		if err != nil {
			t.Fatal(err)
		}
		durs, err := ColumnOf(gr, g, "tdur", []float32(nil))
		if err != nil {
			t.Fatal(err)
		}
		protos, err := ColumnOf(gr, g, "proto", []string(nil))
		if err != nil {
			t.Fatal(err)
		}
		absent, err := ColumnOf(gr, g, "sas", []int32(nil))
		if err != nil {
			t.Fatal(err)
		}
		for i := range ports {
			f := flows[start+i]
			if ports[i] != f.DPort || durs[i] != f.TDur || protos[i] != f.Proto || absent[i] != 0 {
				t.Fatalf("group %d row %d: ColumnOf read %d %v %q %d, NewReader %+v", g, i, ports[i], durs[i], protos[i], absent[i], f)
			}
		}
	}
	if _, err := ColumnOf(gr, 0, "sip", []int64(nil)); err == nil {
		t.Error("a string column read as integers")
	}
	din := writeGroups(t, filepath.Join(dir, "dns.parquet"), dns, record.DNS{}.Meta())
	defer din.Close()
	dgr := NewGroupReader(din)
	check("dns", din, readEvery[record.DNS](t, din), func(g int, rows []int64) (any, error) {
		return RowsOf(dgr, g, rows, []record.DNS(nil))
	})
}
