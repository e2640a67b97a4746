package columnar

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
)

// TopPlan reports whether Top can rank the records of files: each file's
// schema is T's (as spot writes scored records), so the rows it picks read
// back as the row path reads them.
func TopPlan[T any](files []*parquet.File) bool {
	want := parquet.SchemaOf(new(T))
	for _, f := range files {
		if !parquet.EqualNodes(f.Schema(), want) {
			return false
		}
		for _, name := range []string{"score", "eid"} {
			if _, ok := f.Schema().Lookup(name); !ok {
				return false
			}
		}
	}
	return len(files) > 0
}

// Pick is a row of Parquet inputs: its input, its row group there and its
// row in the group.
type Pick struct {
	File, Group int
	Row         int64
}

// Top returns the n records of ins (Parquet inputs) with the lowest keys
// (score, then eid, then position in the inputs read one after the other:
// filter.Key), lowest first, among those whose score keep accepts (nil:
// all). It reads the score and eid columns only, row groups in parallel,
// then the rows it picked, decoding only the pages that hold them
// (ioformat.RowsOf): the records filter --top keeps from the same files, as
// the row path reads them, at the speed of two columns.
func Top[T any](ctx context.Context, ins []*ioformat.Input, n int, keep func(score float64) bool) ([]T, error) {
	type group struct {
		file, index int
		rg          parquet.RowGroup
		seq         int64 // records before it
	}
	files := make([]*parquet.File, len(ins))
	names := make([]string, len(ins))
	for i, in := range ins {
		files[i], names[i] = in.ParquetFile(), ioformat.DisplayName(in.Name)
	}
	var groups []group
	var seq int64
	for fi, f := range files {
		for gi, rg := range f.RowGroups() {
			groups = append(groups, group{fi, gi, rg, seq})
			seq += rg.NumRows()
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(groups)))
	tops := make([]*filter.TopN[Pick], workers)
	errs := make([]error, workers)
	next := make(chan group)
	var wg sync.WaitGroup
	for w := range workers {
		top := filter.NewTopN[Pick](n)
		tops[w] = top
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scores []float64
			var eids []int64
			for g := range next {
				if errs[w] != nil || ctx.Err() != nil {
					continue
				}
				var err error
				if scores, eids, err = readKeys(g.rg, scores[:0], eids[:0]); err != nil {
					errs[w] = fmt.Errorf("%s: row group %d: %w", fileName(names, g.file), g.index, err)
					continue
				}
				for i, s := range scores {
					if keep != nil && !keep(s) {
						continue
					}
					k := filter.Key{Score: s, EID: eids[i], Seq: g.seq + int64(i) + 1}
					if top.Wants(k) {
						top.Offer(k, Pick{g.file, g.index, int64(i)})
					}
				}
			}
		}()
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		next <- g
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// The n lowest of the workers' n lowest: the n lowest of all.
	all := filter.NewTopN[Pick](n)
	for _, t := range tops {
		for _, e := range t.Entries() {
			all.Offer(e.Key, e.Rec)
		}
	}
	return ReadPicks[T](ctx, ins, all.Sorted())
}

// ReadPicks returns the records of type T at picks (rows of ins, Parquet
// inputs of T's schema), in picks' order, read whole: row groups in
// parallel, decoding only the pages that hold them (ioformat.RowsOf).
func ReadPicks[T any](ctx context.Context, ins []*ioformat.Input, picks []Pick) ([]T, error) {
	out := make([]T, len(picks))
	byGroup := map[[2]int][]int{} // file, group -> indexes into picks
	for i, p := range picks {
		k := [2]int{p.File, p.Group}
		byGroup[k] = append(byGroup[k], i)
	}
	jobs := make(chan [2]int, len(byGroup))
	for k := range byGroup {
		jobs <- k
	}
	close(jobs)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(byGroup)))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readers := map[int]*ioformat.GroupReader{} // a worker's own, per input
			var recs []T
			for k := range jobs {
				if errs[w] != nil || ctx.Err() != nil {
					continue
				}
				idx := byGroup[k]
				slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(picks[a].Row, picks[b].Row) })
				rows := make([]int64, len(idx))
				for j, i := range idx {
					rows[j] = picks[i].Row
				}
				gr, ok := readers[k[0]]
				if !ok {
					gr = ioformat.NewGroupReader(ins[k[0]])
					readers[k[0]] = gr
				}
				var err error
				if recs, err = ioformat.RowsOf(gr, k[1], rows, recs[:0]); err != nil {
					errs[w] = fmt.Errorf("%s: row group %d: %w", ioformat.DisplayName(ins[k[0]].Name), k[1], err)
					continue
				}
				for j, i := range idx {
					out[i] = recs[j] // each index is one group's
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readKeys reads a row group's score and eid columns.
func readKeys(rg parquet.RowGroup, scores []float64, eids []int64) (_ []float64, _ []int64, err error) {
	defer ioformat.RecoverCorrupt("", &err)
	schema := rg.Schema()
	sc, _ := schema.Lookup("score")
	ec, _ := schema.Lookup("eid")
	chunks := rg.ColumnChunks()
	err = eachPage(chunks[sc.ColumnIndex], func(pg parquet.Page) error {
		if pg.Dictionary() == nil && pg.Type().Kind() == parquet.Double {
			d := pg.Data()
			scores = append(scores, d.Double()...)
			return nil
		}
		return readValues(pg, make([]parquet.Value, 1024), func(v parquet.Value) { scores = append(scores, v.Double()) })
	})
	if err != nil {
		return nil, nil, err
	}
	err = eachPage(chunks[ec.ColumnIndex], func(pg parquet.Page) error {
		if pg.Dictionary() == nil && pg.Type().Kind() == parquet.Int64 {
			d := pg.Data()
			eids = append(eids, d.Int64()...)
			return nil
		}
		return readValues(pg, make([]parquet.Value, 1024), func(v parquet.Value) { eids = append(eids, v.Int64()) })
	})
	if err != nil {
		return nil, nil, err
	}
	if int64(len(scores)) != rg.NumRows() || int64(len(eids)) != rg.NumRows() {
		return nil, nil, fmt.Errorf("%d scores and %d eids for %d rows", len(scores), len(eids), rg.NumRows())
	}
	return scores, eids, nil
}
