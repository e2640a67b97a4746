package ioformat

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/atomicfile"
	"github.com/spot-hunt/spot/internal/record"
)

// Dest says where a stage writes its records and in which format.
type Dest struct {
	Path      string    // "" or "-": Stdout
	Format    Format    // "": from Path's extension, else NDJSON
	Stdout    io.Writer // standard output
	StdoutTTY bool      // standard output is a terminal
	Force     bool      // write Parquet to a terminal anyway
}

// ResolvedFormat is the format records will be written in.
func (d Dest) ResolvedFormat() Format {
	if d.Format != "" {
		return d.Format
	}
	if f := FormatFromPath(d.Path); f != "" {
		return f
	}
	return NDJSON
}

func (d Dest) toStdout() bool { return d.Path == "" || d.Path == "-" }

// RowGroupRows is the number of rows in each Parquet row group: large enough
// for column scans to be fast, small enough that memory stays bounded.
const RowGroupRows = 128 << 10

// Create returns a writer of records of type T, whose stream is described by
// m, to d.
func Create[T any](d Dest, m record.Meta) (Writer[T], error) {
	f := d.ResolvedFormat()
	if f == Parquet && d.toStdout() && d.StdoutTTY && !d.Force {
		return nil, ErrTerminal
	}
	out, err := openOutput(d)
	if err != nil {
		return nil, err
	}
	switch f {
	case NDJSON:
		w := &ndjsonWriter[T]{out: out, prefix: ndjsonPrefix(m), own: ownAppender[T]()}
		if !w.own {
			w.flat, _ = newFlatEncoder(reflect.TypeFor[T]())
		}
		return w, nil
	case Parquet:
		if w, ok := newFlatWriter[T](out, ParquetOptions(m)); ok {
			return w, nil
		}
		w := parquet.NewGenericWriter[T](out.w, ParquetOptions(m)...)
		return &parquetWriter[T]{out: out, w: w}, nil
	case CSV:
		return newCSVWriter[T](out)
	}
	out.abort()
	return nil, fmt.Errorf("cannot write format %q", f)
}

// output is a buffered destination: standard output, a temporary file
// renamed into place on commit, or a device or pipe written in place.
type output struct {
	w     *bufio.Writer
	comp  compressor // gzip or zstd, for a path ending .gz or .zst; nil: none
	async *asyncWriter
	file  *atomicfile.File // nil for stdout, a device or a pipe
	dev   *os.File         // a device or pipe, closed on commit
}

// compressor is a gzip or zstd stream writer.
type compressor interface {
	io.WriteCloser
	Flush() error
}

// newOutput returns an output to w, compressed as path's extension says
// (.gz: gzip, .zst: zstd).
func newOutput(w io.Writer, path string) *output {
	a := newAsyncWriter(w)
	o := &output{async: a}
	var dst io.Writer = a
	switch p := strings.ToLower(path); {
	case strings.HasSuffix(p, ".gz"):
		o.comp = gzip.NewWriter(a)
	case strings.HasSuffix(p, ".zst"):
		zw, _ := zstd.NewWriter(a) // fails only on bad options
		o.comp = zw
	}
	if o.comp != nil {
		dst = o.comp
	}
	o.w = bufio.NewWriterSize(dst, asyncBuffer)
	return o
}

func openOutput(d Dest) (*output, error) {
	if d.toStdout() {
		return newOutput(d.Stdout, ""), nil
	}
	// -o /dev/null or a named pipe: renaming a file onto it would replace
	// the device (as root) or the pipe its reader waits on.
	if st, err := os.Stat(d.Path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		f, err := os.OpenFile(d.Path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		o := newOutput(f, d.Path)
		o.dev = f
		return o, nil
	}
	if err := CheckPath(d.Path); err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(d.Path)
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", d.Path, cause(err))
	}
	o := newOutput(f, d.Path)
	o.file = f
	o.async.file = f.File
	return o, nil
}

// copyFrom appends n bytes of src from off, copied by the kernel (see
// kernelCopy) after what was buffered, into a file of the output's own,
// uncompressed; it reports false, and does nothing, for any other output.
func (o *output) copyFrom(src *os.File, off, n int64) (bool, error) {
	if o.async.file == nil || o.comp != nil {
		return false, nil
	}
	if err := o.w.Flush(); err != nil {
		return true, err
	}
	return true, o.async.copyFrom(src, off, n)
}

// flushLive sends what was written on, without waiting for it to be
// written: a compressed stream is flushed, not ended (see Flusher).
func (o *output) flushLive() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	if o.comp != nil {
		return o.comp.Flush()
	}
	return nil
}

// end hands everything written to the system, ending a compressed stream.
func (o *output) end() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	if o.comp != nil {
		err := o.comp.Close()
		o.comp = nil
		if err != nil {
			return err
		}
	}
	return o.async.sync()
}

func (o *output) commit() error {
	err := o.end()
	o.async.stop()
	if err != nil {
		o.abort()
		return err
	}
	if o.file == nil {
		if o.dev != nil {
			return o.dev.Close()
		}
		return nil
	}
	if err := o.file.Commit(); err != nil {
		return fmt.Errorf("cannot write %s: %w", o.file.Path, cause(err))
	}
	return nil
}

// CheckPath says, before any work is done, why no file could be written at
// path: it names a directory, or a directory that does not exist.
func CheckPath(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory: name a file in it", path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write %s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("cannot write %s: %w", path, cause(err))
	case !st.IsDir():
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	return nil
}

// cause is what went wrong with a file operation, without the name of the
// temporary file it was done on.
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

func (o *output) abort() {
	if o.file == nil {
		o.end() // what reached stdout or a pipe is the reader's already
		o.async.stop()
		if o.dev != nil {
			o.dev.Close()
		}
		return
	}
	if o.comp != nil {
		o.comp.Close() // its goroutines end
	}
	o.async.stop()
	o.file.Abort()
}

func ndjsonPrefix(m record.Meta) []byte {
	p := `{"kind":"` + string(m.Kind) + `",`
	if m.Stream != record.StreamEvents {
		p += `"stream":"` + string(m.Stream) + `",`
	}
	return []byte(p)
}

type ndjsonWriter[T any] struct {
	out    *output
	prefix []byte
	buf    []byte
	own    bool         // T has its own JSONAppender
	flat   *flatEncoder // for flat record types without their own encoder
}

func (w *ndjsonWriter[T]) Write(recs []T) error {
	if len(recs) > 0 {
		if w.own {
			b := w.buf[:0]
			for i := range recs {
				b = append(b, w.prefix...)
				b = any(&recs[i]).(JSONAppender).AppendJSONFields(b)
				b = append(b, '}', '\n')
			}
			return w.write(b)
		}
	}
	if w.flat != nil {
		b := w.buf[:0]
		for i := range recs {
			b = append(b, w.prefix...)
			var ok bool
			if b, ok = w.flat.appendFields(b, unsafe.Pointer(&recs[i])); !ok {
				if _, err := json.MarshalWithOption(&recs[i], json.DisableHTMLEscape()); err != nil {
					return err
				}
			}
			b = append(b, '}', '\n')
		}
		return w.write(b)
	}
	for i := range recs {
		b, err := json.MarshalWithOption(&recs[i], json.DisableHTMLEscape())
		if err != nil {
			return err
		}
		w.out.w.Write(w.prefix)
		w.out.w.Write(b[1:])
		if err := w.out.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// write writes b, a batch encoded in w.buf, which stays w.buf: the
// next batch is encoded into the same buffer, warm in the cache, and the
// output's writer goroutine gets a copy. Handing b itself over in exchange
// for an idle buffer (d98dc85) saved that copy but encoded every batch into
// one of five buffers in turn, cold in the cache: decode proxy to NDJSON
// spent ~15% more time.
func (w *ndjsonWriter[T]) write(b []byte) error {
	w.buf = b
	_, err := w.out.w.Write(b)
	return err
}

func (w *ndjsonWriter[T]) Close() error { return w.out.commit() }
func (w *ndjsonWriter[T]) Flush() error { return w.out.flushLive() }
func (w *ndjsonWriter[T]) Abort()       { w.out.abort() }

type parquetWriter[T any] struct {
	out *output
	w   *parquet.GenericWriter[T]
}

func (w *parquetWriter[T]) Write(recs []T) error {
	_, err := w.w.Write(recs)
	return err
}

func (w *parquetWriter[T]) Close() error {
	if err := w.w.Close(); err != nil {
		w.out.abort()
		return err
	}
	return w.out.commit()
}

func (w *parquetWriter[T]) Abort() { w.out.abort() }

// csvWriter writes a header of column names, then one line per record. A
// feedback row's severity 0 (not judged yet) is an empty cell.
type csvWriter[T any] struct {
	out      *output
	cw       *csv.Writer
	fields   [][]int // struct field index paths, in column order
	row      []string
	severity int // index of the severity column; -1 when none
}

func newCSVWriter[T any](out *output) (*csvWriter[T], error) {
	var zero T
	t := reflect.TypeOf(zero)
	w := &csvWriter[T]{out: out, cw: csv.NewWriter(out.w), severity: -1}
	var header []string
	for _, c := range record.Columns(zero) {
		if c.Name == "severity" {
			w.severity = len(header)
		}
		header = append(header, c.Name)
		f, ok := fieldByColumn(t, c.Name)
		if !ok {
			return nil, errors.New("csv: column " + c.Name + " not found")
		}
		w.fields = append(w.fields, f)
	}
	w.row = make([]string, len(header))
	return w, w.cw.Write(header)
}

func fieldByColumn(t reflect.Type, name string) ([]int, bool) {
	f, ok := t.FieldByNameFunc(func(n string) bool {
		sf, _ := t.FieldByName(n)
		tag, _, _ := cutComma(sf.Tag.Get("parquet"))
		return tag == name
	})
	return f.Index, ok
}

func cutComma(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (w *csvWriter[T]) Write(recs []T) error {
	for i := range recs {
		v := reflect.ValueOf(&recs[i]).Elem()
		for j, idx := range w.fields {
			w.row[j] = formatValue(v.FieldByIndex(idx))
			if j == w.severity && w.row[j] == "0" {
				w.row[j] = "" // not judged yet: a cell for the analyst to fill in
			}
		}
		if err := w.cw.Write(w.row); err != nil {
			return err
		}
	}
	return nil
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		b, _ := json.Marshal(v.Interface())
		return string(b)
	}
	return fmt.Sprint(v.Interface())
}

func (w *csvWriter[T]) Close() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		w.out.abort()
		return err
	}
	return w.out.commit()
}

// Flush sends the lines written so far on (see FlushWhenIdle).
func (w *csvWriter[T]) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	return w.out.flushLive()
}

func (w *csvWriter[T]) Abort() { w.out.abort() }

// dictMaxBytes bounds a column's dictionary in a row group: columns of few
// distinct values (protocols, flags, exporters, hosts) are dictionary
// encoded, and a column that turns out to have many falls back to plain.
const dictMaxBytes = 1 << 20

// asyncWriter writes to w in a goroutine, so that encoding the next records
// and the system's copying of the last ones run side by side. Errors come
// back from a later Write or from sync.
type asyncWriter struct {
	w    io.Writer
	todo chan asyncItem
	free chan []byte
	done chan error // after each sync request: the first error so far
	err  error
	fail atomic.Pointer[error] // the first error, as soon as it happens
	once sync.Once
	// file is w when it is a regular file of the output's own (an
	// atomicfile), which copyFrom can copy into in the kernel; kernel is
	// false once the kernel could not.
	file   *os.File
	kernel bool
	copied int64 // bytes the kernel copied (tests)
}

// asyncItem is what the goroutine does next: write b, or (src set) copy n
// bytes of src from off, or (neither) answer a sync request.
type asyncItem struct {
	b      []byte
	src    *os.File
	off, n int64
}

// asyncBuffer is the size of an asyncWriter's buffers: an output's
// bufio.Writer's.
const asyncBuffer = 256 << 10

func newAsyncWriter(w io.Writer) *asyncWriter {
	const depth = 4
	a := &asyncWriter{w: w, todo: make(chan asyncItem, depth), free: make(chan []byte, depth+1), done: make(chan error), kernel: true}
	for range depth + 1 {
		a.free <- nil
	}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	var err error
	for it := range a.todo {
		switch {
		case it.src != nil:
			if err == nil {
				if err = a.copyRange(it.src, it.off, it.n); err != nil {
					a.fail.Store(&err)
				}
			}
		case it.b == nil: // a sync request
			a.done <- err
		default:
			if err == nil {
				if _, err = a.w.Write(it.b); err != nil {
					a.fail.Store(&err)
				}
			}
			a.free <- it.b[:0]
		}
	}
}

// copyFrom queues a copy of n bytes of src from off, after what was
// written before; src must stay open until sync.
func (a *asyncWriter) copyFrom(src *os.File, off, n int64) error {
	if err := a.failed(); err != nil {
		return err
	}
	a.todo <- asyncItem{src: src, off: off, n: n}
	return nil
}

// copyRange appends n bytes of src from off to a.file: in the kernel while
// it can, the rest (all, once the kernel could not) read and written here.
func (a *asyncWriter) copyRange(src *os.File, off, n int64) error {
	if a.kernel {
		k, ok := kernelCopy(a.file, src, off, n)
		off, n, a.kernel, a.copied = off+k, n-k, ok, a.copied+k
	}
	if n == 0 {
		return nil
	}
	k, err := io.Copy(a.w, io.NewSectionReader(src, off, n))
	if err == nil && k < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Write queues a copy of p in buffers of asyncBuffer bytes, each made once:
// a buffer grown to the largest write (a Parquet column chunk, a few MB)
// was grown again in fresh memory, a page fault per 4 kB, whenever a
// larger one came.
func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := a.failed(); err != nil {
			return n - len(p), err
		}
		b := <-a.free
		if b == nil {
			b = make([]byte, 0, asyncBuffer)
		}
		k := min(len(p), asyncBuffer)
		a.todo <- asyncItem{b: append(b, p[:k]...)}
		p = p[k:]
	}
	return n, nil
}

// failed returns the first error writing, if any.
func (a *asyncWriter) failed() error {
	if a.err == nil {
		if e := a.fail.Load(); e != nil {
			a.err = *e
		}
	}
	return a.err
}

// stop waits for everything written and ends the goroutine.
func (a *asyncWriter) stop() {
	a.once.Do(func() {
		a.sync()
		close(a.todo)
	})
}

// sync waits until everything written has reached w and returns the first
// error, if any.
func (a *asyncWriter) sync() error {
	if a.err == nil {
		a.todo <- asyncItem{}
		a.err = <-a.done
	}
	return a.err
}

// ownAppender reports whether *T has a JSONAppender of its own, not one
// promoted from an embedded record (which would encode only that record's
// fields).
func ownAppender[T any]() bool {
	t := reflect.TypeFor[T]()
	if !reflect.PointerTo(t).Implements(reflect.TypeFor[JSONAppender]()) {
		return false
	}
	if t.Kind() == reflect.Struct {
		for f := range t.Fields() {
			if f.Anonymous && reflect.PointerTo(f.Type).Implements(reflect.TypeFor[JSONAppender]()) {
				return false
			}
		}
	}
	return true
}
