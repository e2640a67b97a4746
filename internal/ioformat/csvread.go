package ioformat

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-json"

	"github.com/spot-hunt/spot/internal/record"
)

// CSV is read where a person edits records in a spreadsheet: a feedback
// file (spot report -f feedback) comes back with its severity filled in.
// A CSV stream is recognised by a header of spot's column names (its kind
// and shape are inferred from them, as for Parquet without metadata);
// columns are matched by name, unknown ones ignored, missing ones left
// zero. Cells are forgiving of what spreadsheets do: a UTF-8 byte-order
// mark, CRLF line ends, integers written as 3.0 or 1.2E+3, booleans as
// TRUE/FALSE, empty cells (zero).

// csvHeader parses a header line.
func csvHeader(line []byte) ([]string, error) {
	line = bytes.TrimPrefix(line, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(line))
	h, err := r.Read()
	for i := range h {
		h[i] = strings.TrimSpace(h[i])
	}
	return h, err
}

// csvMeta reports whether line is the header of a CSV record stream.
func csvMeta(line []byte) (record.Meta, bool) {
	h, err := csvHeader(line)
	if err != nil || len(h) < 2 {
		return record.Meta{}, false
	}
	return record.Infer(h)
}

// csvReader reads CSV records into T by column name.
type csvReader[T any] struct {
	in      *Input
	r       *csv.Reader
	set     []func(v reflect.Value, cell string) error // per CSV column; nil: ignored
	names   []string
	line    int64
	skipped SkipLog
}

func newCSVReader[T any](in *Input) (*csvReader[T], error) {
	r := csv.NewReader(in.br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: CSV header: %w", DisplayName(in.Name), err)
	}
	c := &csvReader[T]{in: in, r: r, line: 1}
	t := reflect.TypeFor[T]()
	for i, name := range header {
		name = strings.TrimSpace(name)
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		c.names = append(c.names, name)
		idx, ok := fieldByColumn(t, name)
		if !ok {
			c.set = append(c.set, nil)
			continue
		}
		c.set = append(c.set, setter(idx, t.FieldByIndex(idx).Type))
	}
	return c, nil
}

func setter(idx []int, typ reflect.Type) func(reflect.Value, string) error {
	return func(v reflect.Value, cell string) error {
		f := v.FieldByIndex(idx)
		cell = strings.TrimSpace(cell)
		switch typ.Kind() {
		case reflect.String:
			f.SetString(cell)
		case reflect.Int32, reflect.Int64:
			if cell == "" {
				return nil
			}
			n, err := strconv.ParseInt(cell, 10, 64)
			if err != nil {
				x, ferr := strconv.ParseFloat(cell, 64)
				if ferr != nil || x != math.Trunc(x) || math.Abs(x) > 1<<62 {
					return fmt.Errorf("%q is not an integer", cell)
				}
				n = int64(x)
			}
			if f.OverflowInt(n) {
				return fmt.Errorf("%d is out of range", n)
			}
			f.SetInt(n)
		case reflect.Float32, reflect.Float64:
			if cell == "" {
				return nil
			}
			x, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", cell)
			}
			f.SetFloat(x)
		case reflect.Bool:
			if cell == "" {
				return nil
			}
			b, err := strconv.ParseBool(strings.ToLower(cell))
			if err != nil {
				return fmt.Errorf("%q is not true or false", cell)
			}
			f.SetBool(b)
		case reflect.Slice:
			if cell == "" || cell == "null" {
				return nil
			}
			var list []string
			if err := json.Unmarshal([]byte(cell), &list); err != nil {
				return fmt.Errorf("%q is not a JSON list of strings", cell)
			}
			f.Set(reflect.ValueOf(list))
		}
		return nil
	}
}

func (c *csvReader[T]) Read(buf []T) (int, error) {
	clear(buf)
	n := 0
	for n < len(buf) {
		rec, err := c.r.Read()
		if err == io.EOF {
			break
		}
		c.line++
		if err != nil {
			if _, ok := err.(*csv.ParseError); ok {
				c.skip(err)
				continue
			}
			return n, &RecordError{Name: c.in.Name, Unit: "line", Number: c.line, Err: err}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		v := reflect.ValueOf(&buf[n]).Elem()
		bad := false
		for i, cell := range rec {
			if i >= len(c.set) || c.set[i] == nil {
				continue
			}
			if err := c.set[i](v, cell); err != nil {
				c.skip(fmt.Errorf("column %s: %v", c.names[i], err))
				var zero T
				buf[n] = zero
				bad = true
				break
			}
		}
		if !bad {
			n++
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *csvReader[T]) skip(err error) {
	c.skipped.Skip("skipped malformed record", c.in.Name, "line", c.line, err)
}

// Skipped implements Skipper.
func (c *csvReader[T]) Skipped() int64 { return c.skipped.Count() }

func (c *csvReader[T]) Close() error { return c.in.Close() }
