package ioformat

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spot-hunt/spot/internal/record"
)

// Format is the encoding of a record stream.
type Format string

// The formats.
const (
	NDJSON  Format = "ndjson"
	Parquet Format = "parquet"
	CSV     Format = "csv"
)

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case NDJSON, Parquet, CSV:
		return f, nil
	case "json", "jsonl":
		return NDJSON, nil
	}
	return "", fmt.Errorf("unknown format %q (want ndjson, parquet or csv)", s)
}

// FormatFromPath returns the format a file name's extension implies, or ""
// when it implies none. A trailing .gz or .zst is looked through.
func FormatFromPath(path string) Format {
	p := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(path), ".gz"), ".zst")
	switch filepath.Ext(p) {
	case ".parquet", ".parq", ".pq":
		return Parquet
	case ".ndjson", ".jsonl", ".json":
		return NDJSON
	case ".csv":
		return CSV
	}
	return ""
}

// Reader reads a stream of records in batches.
//
// Read fills buf with up to len(buf) records and returns how many it filled.
// At the end of the stream it returns 0 and io.EOF. Records handed out are
// the caller's: a later Read does not overwrite them (unless the caller
// asked for lent strings, LendStrings). Errors name the input and the line
// or record (see RecordError).
type Reader[T any] interface {
	Read(buf []T) (int, error)
	Close() error
}

// Writer writes a stream of records.
//
// Write may keep no reference to recs after it returns. Close flushes the
// stream and, for a file, renames the temporary file into place; Abort
// discards everything written (a file's temporary is removed). After either,
// the Writer is done.
type Writer[T any] interface {
	Write(recs []T) error
	Close() error
	Abort()
}

// JSONAppender is implemented by record types with a hand-written NDJSON
// encoding (the hottest streams): AppendJSONFields appends the object's
// members without braces, exactly as go-json would encode them.
type JSONAppender interface {
	AppendJSONFields(dst []byte) []byte
}

// Interrupter is implemented by readers whose Read can wait for ever on a
// live stream: Interrupt, called from another goroutine, makes it return an
// error. (Readers of files never wait; they need none.)
type Interrupter interface {
	Interrupt()
}

// Flusher is implemented by writers of line formats (NDJSON, CSV): Flush
// sends the records written so far to the destination, so a streaming
// stage's output reaches the next stage while its input is idle (see
// FlushWhenIdle).
type Flusher interface {
	Flush() error
}

// RecordError is an error at one record of one input.
type RecordError struct {
	Name   string // input name; "-" is stdin
	Unit   string // "line", "record", "packet", "row"
	Number int64  // 1-based
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: %s %d: %v", DisplayName(e.Name), e.Unit, e.Number, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// DisplayName is how an input is named in messages.
func DisplayName(name string) string {
	if name == "" || name == "-" {
		return "<stdin>"
	}
	return name
}

// ErrTerminal is returned when binary output would go to a terminal.
var ErrTerminal = errors.New("refusing to write Parquet to a terminal (use -o FILE, a pipe, or --force)")

// Copy reads every record from r and writes it to w, in batches.
func Copy[T any](w Writer[T], r Reader[T]) (int64, error) {
	buf := Touched(make([]T, BatchSize))
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Touched writes zeros over b and returns it. A new batch's pages are
// mapped by the kernel on first touch; if the garbage collector's scan
// reads them first, they map to the shared zero page, and the first record
// written later faults again and flushes that mapping from every CPU (an
// interprocessor interrupt): 5% of a flow assembly's CPU went to that.
// Writing them at once maps them writable in one fault each.
func Touched[T any](b []T) []T {
	clear(b)
	return b
}

// BatchSize is the number of records stages move at a time.
const BatchSize = 1024

// Meta keys in Parquet key-value metadata.
const (
	metaKind   = "spot.kind"
	metaStream = "spot.stream"
)

// checkMeta reports whether a stream's meta is complete.
func checkMeta(m record.Meta) error {
	if m.Kind == "" || m.Stream == "" {
		return fmt.Errorf("record stream of unknown kind (no spot metadata and no known columns)")
	}
	return nil
}
