package columnar

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Top keeps what the row path (filter.TopN over every record) keeps, in
// order, whatever the ties: scores drawn from few values, eids repeated.
func TestTopMatchesRowPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	score := func() float64 { return []float64{0, 1e-9, 1e-6, 0.5, 1}[rng.IntN(5)] * float64(1+rng.IntN(3)) }
	eid := func() int64 { return int64(rng.IntN(50)) }
	flows := func(n int) []record.ScoredFlow {
		out := make([]record.ScoredFlow, n)
		for i := range out {
			out[i].SIP, out[i].DIP, out[i].SrcWord = fmt.Sprint("10.0.0.", i%256), "10.1.1.1", fmt.Sprint("w", i)
			out[i].Score, out[i].EID, out[i].TopTopic = score(), eid(), int32(i%7)
		}
		return out
	}
	dnss := func(n int) []record.ScoredDNS {
		out := make([]record.ScoredDNS, n)
		for i := range out {
			out[i].QryName, out[i].Answers = fmt.Sprint("q", i, ".example"), []string{fmt.Sprint("a", i)}
			out[i].Score, out[i].EID = score(), eid()
		}
		return out
	}
	proxies := func(n int) []record.ScoredProxy {
		out := make([]record.ScoredProxy, n)
		for i := range out {
			out[i].FullURI, out[i].Score, out[i].EID = fmt.Sprint("http://x/", i), score(), eid()
		}
		return out
	}
	for _, top := range []int{1, 7, 400} { // few rows: seeks; many: read through
		checkTop(t, top, nil, flows(1200), flows(3000), flows(1))
		checkTop(t, top, func(s float64) bool { return s <= 1e-6 }, dnss(900), dnss(2500))
		checkTop(t, top, nil, proxies(2000))
	}
	checkTop(t, 5000, nil, flows(1200), flows(3000))
}

func checkTop[T any](t *testing.T, n int, keep func(float64) bool, shards ...[]T) {
	t.Helper()
	dir := t.TempDir()
	var files []*parquet.File
	var ins []*ioformat.Input
	want := filter.NewTopN[T](n)
	var seq int64
	for i, recs := range shards {
		// Row groups of 500 rows, pages of a few KB: several of each.
		path := filepath.Join(dir, fmt.Sprint(i, ".parquet"))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(500), parquet.PageBufferSize(4096))
		if _, err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		in, err := ioformat.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		ins = append(ins, in)
		pf := in.ParquetFile()
		if want := (len(recs) + 499) / 500; len(pf.RowGroups()) != want {
			t.Fatalf("%d row groups, want %d", len(pf.RowGroups()), want)
		}
		files = append(files, pf)
		for j := range recs {
			seq++
			v := reflect.ValueOf(&recs[j]).Elem()
			k := filter.Key{Score: v.FieldByName("Score").Float(), EID: v.FieldByName("EID").Int(), Seq: seq}
			if keep == nil || keep(k.Score) {
				want.Offer(k, recs[j])
			}
		}
	}
	if !TopPlan[T](files) {
		t.Fatalf("%T: no plan", *new(T))
	}
	got, err := Top[T](context.Background(), ins, n, keep)
	if err != nil {
		t.Fatal(err)
	}
	if w := want.Sorted(); !reflect.DeepEqual(got, w) {
		t.Fatalf("%T top %d: %d records differ from the row path's %d", *new(T), n, len(got), len(w))
	}
}
