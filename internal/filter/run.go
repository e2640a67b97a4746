package filter

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// Run filters the inputs (records of type In) through plan into w, writing
// records of type Out: lift makes an Out of an In (enrichment); nil means
// In and Out are one type. With top > 0 it keeps the top records (lowest
// score, then eid, then input order: Key) and writes them lowest first;
// else it streams, in input order.
//
// Parquet inputs are read in two passes when the plan reads fewer columns
// than the records have: the plan's columns (and liftCols, what lift reads)
// first, then only the rows kept, in full, through the column index. So
// --where over a wide file decodes little more than the columns it names,
// and --top over shards of millions of records reads their score and eid
// columns and N rows.
//
// Run returns the number of malformed records the inputs skipped. It
// closes the inputs.
func Run[In, Out any](ctx context.Context, ins []*ioformat.Input, w ioformat.Writer[Out], plan *Plan[Out], lift func(*Out, *In), liftCols []string, top int) (skipped int64, err error) {
	r := &runner[In, Out]{ctx: ctx, plan: plan, lift: lift, w: w}
	if top > 0 {
		r.top = uncapped[entry[Out]]{NewTopN[entry[Out]](top)}
		_, _, r.hasEID = ColumnOffset(reflect.TypeFor[Out](), "eid")
		r.eidOff, _, _ = ColumnOffset(reflect.TypeFor[Out](), "eid")
		if per := plan.o.PerSubject; per > 0 {
			r.top = NewCappedTopN[entry[Out]](top, per)
			r.subjectOff, _, r.hasSubject = ColumnOffset(reflect.TypeFor[Out](), "subject")
		}
	}
	cols := append(plan.Columns(), liftCols...)
	if top > 0 {
		cols = append(cols, "score", "eid")
		if r.hasSubject {
			cols = append(cols, "subject")
		}
	}
	slices.Sort(cols)
	cols = slices.Compact(cols)
	defer func() {
		for _, s := range r.open {
			s.close()
			skipped += s.skip
		}
	}()
	for i, in := range ins {
		s := &source[In]{in: in}
		r.open = append(r.open, s)
		var err error
		if in.Format == ioformat.Parquet && narrower(in, cols) {
			err = r.twoPass(s, i, cols)
		} else {
			err = r.onePass(s)
		}
		if err != nil {
			return 0, err
		}
		if top == 0 {
			s.close() // done with it; --top reads kept rows at the end
		}
	}
	if r.top != nil {
		if err := r.writeTop(); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// narrower reports whether reading cols of in reads fewer columns than
// reading it whole.
func narrower(in *ioformat.Input, cols []string) bool {
	return len(cols) < len(in.Columns())
}

type entry[Out any] struct {
	rec   Out
	input int   // for a row left in its file: which input
	row   int64 // and which row; -1 when rec holds the record
}

type runner[In, Out any] struct {
	ctx        context.Context
	plan       *Plan[Out]
	lift       func(*Out, *In)
	w          ioformat.Writer[Out]
	top        subjectTop[entry[Out]]
	hasEID     bool
	eidOff     uintptr
	hasSubject bool // with --per-subject
	subjectOff uintptr
	seq        int64
	open       []*source[In]
}

// subjectTop is a TopN, or with --per-subject a CappedTopN.
type subjectTop[T any] interface {
	MayWant(k Key) bool // whatever the subject: a test before finding it
	Wants(k Key, subject string) bool
	Offer(k Key, subject string, rec T)
	Sorted() []T
}

type uncapped[T any] struct{ *TopN[T] }

func (u uncapped[T]) MayWant(k Key) bool           { return u.TopN.Wants(k) }
func (u uncapped[T]) Wants(k Key, _ string) bool   { return u.TopN.Wants(k) }
func (u uncapped[T]) Offer(k Key, _ string, rec T) { u.TopN.Offer(k, rec) }

// subject is what --per-subject counts a record under: its detector
// subject; one of its own when it has none (it is not capped).
func (r *runner[In, Out]) subject(rec *Out, k Key) string {
	if !r.hasSubject {
		return ""
	}
	if s := *(*string)(unsafe.Add(unsafe.Pointer(rec), r.subjectOff)); s != "" {
		return s
	}
	return "\x00" + strconv.FormatInt(k.Seq, 10)
}

// source is one input and its readers.
type source[In any] struct {
	in     *ioformat.Input
	narrow ioformat.Reader[In] // the plan's columns (two passes)
	full   ioformat.Reader[In]
	stop   func() bool
	skip   int64
	closed bool
}

func (s *source[In]) close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.stop != nil {
		s.stop()
	}
	for _, r := range []ioformat.Reader[In]{s.narrow, s.full} {
		if r == nil {
			continue
		}
		if k, ok := r.(ioformat.Skipper); ok {
			s.skip += k.Skipped()
		}
		r.Close()
	}
	s.in.Close()
}

func (r *runner[In, Out]) make(dst *Out, src *In) {
	if r.lift == nil {
		*dst = *any(src).(*Out)
		return
	}
	r.lift(dst, src)
}

func (r *runner[In, Out]) key(rec *Out) Key {
	r.seq++
	k := Key{Score: r.plan.Score(rec), Seq: r.seq}
	if r.hasEID {
		k.EID = *(*int64)(unsafe.Add(unsafe.Pointer(rec), r.eidOff))
	}
	return k
}

// onePass reads every record whole.
func (r *runner[In, Out]) onePass(s *source[In]) error {
	full, err := ioformat.NewReader[In](s.in)
	if err != nil {
		return err
	}
	s.full = full
	ioformat.FlushWhenIdle(full, r.w) // a live input: what was kept reaches the next stage
	s.stop = context.AfterFunc(r.ctx, func() {
		if i, ok := full.(ioformat.Interrupter); ok {
			i.Interrupt()
		}
	})
	buf := ioformat.Touched(make([]In, ioformat.BatchSize))
	out := ioformat.Touched(make([]Out, ioformat.BatchSize))
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		n, rerr := full.Read(buf)
		if rerr != nil && rerr != io.EOF && r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		kept := out[:0]
		for i := range buf[:n] {
			kept = kept[:len(kept)+1]
			rec := &kept[len(kept)-1]
			r.make(rec, &buf[i])
			ok, err := r.plan.Keep(rec)
			if err != nil {
				return err
			}
			if !ok {
				kept = kept[:len(kept)-1]
				continue
			}
			if r.top != nil {
				if k := r.key(rec); r.top.MayWant(k) {
					if subject := r.subject(rec, k); r.top.Wants(k, subject) {
						r.top.Offer(k, strings.Clone(subject), entry[Out]{rec: CloneStrings(*rec), row: -1})
					}
				}
				kept = kept[:len(kept)-1]
			}
		}
		if len(kept) > 0 {
			if err := r.w.Write(kept); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// twoPass reads the plan's columns, then the kept rows whole: a batch
// with many kept rows is read whole; a few are sought one run at a time.
func (r *runner[In, Out]) twoPass(s *source[In], index int, cols []string) error {
	narrow, err := ioformat.NewReader[In](s.in, cols...)
	if err != nil {
		return r.onePass(s) // e.g. a list column named: read it whole
	}
	s.narrow = narrow
	full, err := ioformat.NewReader[In](s.in)
	if err != nil {
		return err
	}
	s.full = full
	seeker, ok := full.(ioformat.RowSeeker)
	if !ok {
		return fmt.Errorf("%s: its reader cannot seek", ioformat.DisplayName(s.in.Name))
	}
	buf := ioformat.Touched(make([]In, ioformat.BatchSize))
	fbuf := ioformat.Touched(make([]In, ioformat.BatchSize))
	out := ioformat.Touched(make([]Out, ioformat.BatchSize))
	keep := make([]bool, ioformat.BatchSize)
	rec := new(Out)
	var rows []int64 // kept rows of the batch
	var row int64    // rows read so far
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		n, rerr := narrow.Read(buf)
		rows = rows[:0]
		for i := range buf[:n] {
			keep[i] = false
			r.make(rec, &buf[i])
			ok, err := r.plan.Keep(rec)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if r.top != nil {
				if k := r.key(rec); r.top.MayWant(k) {
					if subject := r.subject(rec, k); r.top.Wants(k, subject) {
						r.top.Offer(k, strings.Clone(subject), entry[Out]{input: index, row: row + int64(i)})
					}
				}
				continue
			}
			keep[i] = true
			rows = append(rows, row+int64(i))
		}
		write := func(recs []In, keep []bool) error {
			o := out[:0]
			for i := range recs {
				if keep == nil || keep[i] {
					o = o[:len(o)+1]
					r.make(&o[len(o)-1], &recs[i])
				}
			}
			return r.w.Write(o)
		}
		switch {
		case len(rows) == 0:
		case len(rows) >= n/16: // dense: read the batch whole
			err = eachRun(seeker, full, []int64{row}, fbuf, func(recs []In) error { return write(recs, keep) }, n)
		default:
			err = eachRun(seeker, full, rows, fbuf, func(recs []In) error { return write(recs, nil) }, 0)
		}
		if err != nil {
			return err
		}
		row += int64(n)
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// eachRun reads runs of consecutive rows and hands them to fn. With span
// > 0, rows holds one row and the span rows from it are read as one run.
func eachRun[In any](seeker ioformat.RowSeeker, full ioformat.Reader[In], rows []int64, fbuf []In, fn func([]In) error, span int) error {
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j] == rows[j-1]+1 && j-i < len(fbuf) {
			j++
		}
		want := j - i
		if span > 0 {
			want = span
		}
		if err := seeker.SeekToRow(rows[i]); err != nil {
			return err
		}
		got := 0
		for got < want {
			n, err := full.Read(fbuf[got:want])
			got += n
			if err == io.EOF && got < want {
				return io.ErrUnexpectedEOF
			}
			if err != nil && err != io.EOF {
				return err
			}
		}
		if err := fn(fbuf[:want]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// writeTop reads the kept rows left in their files and writes the top
// records, lowest key first.
func (r *runner[In, Out]) writeTop() error {
	top := r.top.Sorted()
	type ref struct {
		row int64
		at  int
	}
	byInput := map[int][]ref{}
	for i, e := range top {
		if e.row >= 0 {
			byInput[e.input] = append(byInput[e.input], ref{e.row, i})
		}
	}
	fbuf := ioformat.Touched(make([]In, ioformat.BatchSize))
	for input, refs := range byInput {
		slices.SortFunc(refs, func(a, b ref) int { return int(a.row - b.row) })
		rows := make([]int64, len(refs))
		for i, x := range refs {
			rows[i] = x.row
		}
		s := r.open[input]
		seeker, _ := s.full.(ioformat.RowSeeker)
		k := 0
		err := eachRun(seeker, s.full, rows, fbuf, func(recs []In) error {
			for i := range recs {
				r.make(&top[refs[k].at].rec, &recs[i])
				k++
			}
			return nil
		}, 0)
		if err != nil {
			return err
		}
	}
	out := make([]Out, len(top))
	for i := range top {
		out[i] = top[i].rec
	}
	return r.w.Write(out)
}

// CloneStrings copies a record's strings (and lists of strings) out of the
// page buffers a reader shares among records, so a record kept for long
// holds only its own.
func CloneStrings[T any](rec T) T {
	cloneValue(reflect.ValueOf(&rec).Elem())
	return rec
}

func cloneValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() && v.Len() > 0 {
			v.SetString(strings.Clone(v.String()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			cloneValue(v.Field(i))
		}
	case reflect.Slice:
		if v.CanSet() && v.Type().Elem().Kind() == reflect.String && v.Len() > 0 {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				c.Index(i).SetString(strings.Clone(v.Index(i).String()))
			}
			v.Set(c)
		}
	}
}
