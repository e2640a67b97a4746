package ioformat

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/goccy/go-json"
	"github.com/parquet-go/parquet-go"

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
		return &ndjsonWriter[T]{out: out, prefix: ndjsonPrefix(m)}, nil
	case Parquet:
		w := parquet.NewGenericWriter[T](out.w,
			parquet.Compression(&parquet.Snappy),
			parquet.MaxRowsPerRowGroup(RowGroupRows),
			parquet.KeyValueMetadata(metaKind, string(m.Kind)),
			parquet.KeyValueMetadata(metaStream, string(m.Stream)),
			parquet.CreatedBy("spot", "", ""),
		)
		return &parquetWriter[T]{out: out, w: w}, nil
	case CSV:
		return newCSVWriter[T](out)
	}
	out.abort()
	return nil, fmt.Errorf("cannot write format %q", f)
}

// output is a buffered destination: standard output, or a temporary file
// renamed into place on commit.
type output struct {
	w    *bufio.Writer
	file *os.File // nil for stdout
	path string
}

func openOutput(d Dest) (*output, error) {
	if d.toStdout() {
		return &output{w: bufio.NewWriterSize(d.Stdout, 256<<10)}, nil
	}
	dir, base := filepath.Split(d.Path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &output{w: bufio.NewWriterSize(f, 256<<10), file: f, path: d.Path}, nil
}

func (o *output) commit() error {
	if err := o.w.Flush(); err != nil {
		o.abort()
		return err
	}
	if o.file == nil {
		return nil
	}
	tmp := o.file.Name()
	if err := o.file.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func (o *output) abort() {
	if o.file == nil {
		o.w.Flush() // what reached stdout is the reader's already
		return
	}
	o.file.Close()
	os.Remove(o.file.Name())
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
}

func (w *ndjsonWriter[T]) Write(recs []T) error {
	for i := range recs {
		b, err := json.MarshalNoEscape(&recs[i])
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

func (w *ndjsonWriter[T]) Close() error { return w.out.commit() }
func (w *ndjsonWriter[T]) Flush() error { return w.out.w.Flush() }
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

// csvWriter writes a header of column names, then one line per record.
type csvWriter[T any] struct {
	out    *output
	cw     *csv.Writer
	fields [][]int // struct field index paths, in column order
	row    []string
}

func newCSVWriter[T any](out *output) (*csvWriter[T], error) {
	var zero T
	t := reflect.TypeOf(zero)
	w := &csvWriter[T]{out: out, cw: csv.NewWriter(out.w)}
	var header []string
	for _, c := range record.Columns(zero) {
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

func (w *csvWriter[T]) Abort() { w.out.abort() }
