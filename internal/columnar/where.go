package columnar

import (
	"context"
	"reflect"
	"runtime"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
)

// WhereStats are what a Where run did.
type WhereStats struct {
	Rows, Kept int64
	Skipped    int // row groups whose bounds proved that no row matches
}

// WherePlan reports whether Where can filter the inputs with pred into
// records of type T: T holds no lists (DNS answers: parquet-go's reader of
// those seeks too slowly for many runs of rows), each input is Parquet,
// holds more columns than pred reads (else filter.Run reads it in one
// pass, in other batches) and holds pred's columns (or lacks them: they
// read as zero) as values that convert to their fields.
func WherePlan[T any](ins []*ioformat.Input, pred *filter.Pred) bool {
	if !ioformat.Flat[T]() {
		return false
	}
	for _, in := range ins {
		if in.ParquetFile() == nil || len(pred.Columns()) >= len(in.Columns()) {
			return false
		}
		for _, c := range pred.Columns() {
			if !ioformat.Readable(in, c.Name, c.Kind) {
				return false
			}
		}
	}
	return len(ins) > 0
}

// Where writes to w the records of type T of the inputs that pred keeps,
// in input order. Row groups are filtered in parallel: each reads pred's
// columns alone (none when the bounds of its integer columns prove that
// no row can match), evaluates pred over them at once, then reads the rows
// kept, whole, decoding only the pages that hold them. The records are
// written in the batches filter.Run writes them in, so the output is byte
// for byte what filter.Run writes with pred as its --where.
func Where[T any](ctx context.Context, ins []*ioformat.Input, pred *filter.Pred, w ioformat.Writer[T]) (WhereStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		recs    []T
		rows    []int64 // kept rows, in the group
		n       int
		skipped bool
		err     error
	}
	type job struct {
		in   *ioformat.Input
		g    int
		done chan result
	}
	var jobs []job
	for _, in := range ins {
		for g := range in.ParquetFile().RowGroups() {
			jobs = append(jobs, job{in, g, make(chan result, 1)})
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(jobs)))
	next := make(chan job)
	ahead := make(chan struct{}, workers+1) // groups read but not yet written
	go func() {
		defer close(next)
		for _, j := range jobs {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			next <- j
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // before the wait: stop the workers on an early return
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newWhereReader(pred)
			for j := range next {
				if err := ctx.Err(); err != nil {
					j.done <- result{err: err}
					continue
				}
				var res result
				gr := r.reader(j.in)
				res.n, res.rows, res.skipped, res.err = r.keep(gr, j.g)
				if res.err == nil && len(res.rows) > 0 {
					res.recs, res.err = ioformat.RowsOf(gr, j.g, res.rows, make([]T, 0, len(res.rows)))
				}
				j.done <- res
			}
		}()
	}
	var st WhereStats
	for _, j := range jobs {
		res := <-j.done
		<-ahead
		if res.err != nil {
			return st, res.err
		}
		st.Rows += int64(res.n)
		st.Kept += int64(len(res.rows))
		if res.skipped {
			st.Skipped++
		}
		if err := writeAsRun(w, res.recs, res.rows, res.n); err != nil {
			return st, err
		}
	}
	return st, ctx.Err()
}

// writeAsRun writes the records kept of a row group of n rows (at rows)
// in the Write calls filter.Run's two passes make: per batch of
// ioformat.BatchSize rows of the group, the kept rows in one call when
// they are at least a sixteenth of the batch, else one call per run of
// consecutive rows. (A Parquet writer's pages end where the calls put
// them.)
func writeAsRun[T any](w ioformat.Writer[T], recs []T, rows []int64, n int) error {
	k := 0
	for b := 0; b < n && k < len(rows); b += ioformat.BatchSize {
		m := min(ioformat.BatchSize, n-b)
		j := k
		for j < len(rows) && rows[j] < int64(b+m) {
			j++
		}
		switch {
		case j == k:
		case j-k >= m/16:
			if err := w.Write(recs[k:j]); err != nil {
				return err
			}
		default:
			for a := k; a < j; {
				e := a + 1
				for e < j && rows[e] == rows[e-1]+1 {
					e++
				}
				if err := w.Write(recs[a:e]); err != nil {
					return err
				}
				a = e
			}
		}
		k = j
	}
	return nil
}

// whereReader evaluates a Pred over row groups: one per goroutine.
type whereReader struct {
	pred    *filter.Pred
	ev      *filter.PredEval
	vecs    []filter.Vector
	bounds  []filter.Bounds
	i32     []int32
	f32     []float32
	readers map[*ioformat.Input]*ioformat.GroupReader
}

func newWhereReader(pred *filter.Pred) *whereReader {
	return &whereReader{pred: pred, ev: pred.NewEval(), vecs: make([]filter.Vector, len(pred.Columns())),
		bounds: make([]filter.Bounds, len(pred.Columns())), readers: map[*ioformat.Input]*ioformat.GroupReader{}}
}

// reader returns the goroutine's reader of in.
func (r *whereReader) reader(in *ioformat.Input) *ioformat.GroupReader {
	gr, ok := r.readers[in]
	if !ok {
		gr = ioformat.NewGroupReader(in)
		r.readers[in] = gr
	}
	return gr
}

// keep returns the rows of row group g that the predicate keeps; skipped
// is true when the group's bounds proved there are none.
func (r *whereReader) keep(gr *ioformat.GroupReader, g int) (n int, rows []int64, skipped bool, err error) {
	in := gr.Input()
	rg := in.ParquetFile().RowGroups()[g]
	n = int(rg.NumRows())
	for i, c := range r.pred.Columns() {
		r.bounds[i] = groupBounds(in.ParquetFile(), rg, c)
	}
	if !r.pred.MayMatch(r.bounds) {
		return n, nil, true, nil
	}
	for i, c := range r.pred.Columns() {
		v := &r.vecs[i]
		switch c.Kind {
		case reflect.Int32:
			if r.i32, err = ioformat.ColumnOf(gr, g, c.Name, r.i32); err == nil {
				v.Ints = v.Ints[:0]
				for _, x := range r.i32 {
					v.Ints = append(v.Ints, int64(x))
				}
			}
		case reflect.Int64:
			v.Ints, err = ioformat.ColumnOf(gr, g, c.Name, v.Ints)
		case reflect.Float32:
			if r.f32, err = ioformat.ColumnOf(gr, g, c.Name, r.f32); err == nil {
				v.Floats = v.Floats[:0]
				for _, x := range r.f32 {
					v.Floats = append(v.Floats, float64(x))
				}
			}
		case reflect.Float64:
			v.Floats, err = ioformat.ColumnOf(gr, g, c.Name, v.Floats)
		case reflect.String:
			v.Strs, err = ioformat.ColumnOf(gr, g, c.Name, v.Strs)
		case reflect.Bool:
			v.Bools, err = ioformat.ColumnOf(gr, g, c.Name, v.Bools)
		}
		if err != nil {
			return 0, nil, false, err
		}
	}
	for i, k := range r.ev.Eval(r.vecs, n) {
		if k {
			rows = append(rows, int64(i))
		}
	}
	return n, rows, false, nil
}

// groupBounds are the bounds of an integer column of a row group as the
// record field reads it, from the column chunk's statistics: known when
// the values are signed integers the field holds without truncation.
func groupBounds(f *parquet.File, rg parquet.RowGroup, c filter.PredColumn) filter.Bounds {
	if c.Kind != reflect.Int32 && c.Kind != reflect.Int64 {
		return filter.Bounds{}
	}
	leaf, ok := f.Schema().Lookup(c.Name)
	if !ok {
		return filter.Bounds{OK: true} // absent: every value reads as 0
	}
	typ := leaf.Node.Type()
	kind := typ.Kind()
	if kind != parquet.Int32 && !(kind == parquet.Int64 && c.Kind == reflect.Int64) {
		return filter.Bounds{}
	}
	if lt := typ.LogicalType(); lt != nil && lt.Value != nil {
		if i, ok := lt.Value.(*format.IntType); !ok || !i.IsSigned {
			return filter.Bounds{} // unsigned: ordered otherwise
		}
	}
	b, ok := rg.ColumnChunks()[leaf.ColumnIndex].(interface {
		Bounds() (min, max parquet.Value, ok bool)
	})
	if !ok {
		return filter.Bounds{}
	}
	lo, hi, ok := b.Bounds()
	if !ok || lo.IsNull() || hi.IsNull() {
		return filter.Bounds{}
	}
	bd := filter.Bounds{Lo: lo.Int64(), Hi: hi.Int64(), OK: true}
	if kind == parquet.Int32 {
		bd.Lo, bd.Hi = int64(lo.Int32()), int64(hi.Int32())
	}
	if leaf.MaxDefinitionLevel > 0 { // nulls read as 0
		bd.Lo, bd.Hi = min(bd.Lo, 0), max(bd.Hi, 0)
	}
	return bd
}
