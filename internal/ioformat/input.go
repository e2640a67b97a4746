package ioformat

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/atomicfile"
	"github.com/spot-hunt/spot/internal/record"
)

// Input is one opened record stream: its name, sniffed format and meta.
type Input struct {
	Name   string
	Format Format
	Meta   record.Meta
	// Live is true when the input may wait for data (a pipe, a terminal),
	// false for a regular file.
	Live bool

	br      *bufio.Reader     // NDJSON: the decompressed bytes
	pf      *parquet.File     // Parquet
	src     *os.File          // Parquet: the file pf reads
	spool   *io.SectionReader // a pipe's stream, spooled by Rewind
	closers []io.Closer
}

const readBufferSize = 1 << 20

// Open opens a record stream, name "" or "-" being stdin, and sniffs its
// format and meta. Empty input gives an Input of format NDJSON with an empty
// Meta, from which readers read nothing.
func Open(name string, stdin io.Reader) (*Input, error) {
	raw, seekable, closers, err := openRaw(name, stdin, nil)
	if err != nil {
		return nil, err
	}
	in := &Input{Name: name, closers: closers, Live: isLive(name, stdin)}
	fail := func(err error) (*Input, error) {
		in.Close()
		var re *RecordError
		if errors.As(err, &re) {
			return nil, err // names the input already
		}
		return nil, fmt.Errorf("%s: %w", DisplayName(name), err)
	}
	in.br = raw
	head, err := raw.Peek(4)
	if err != nil && err != io.EOF {
		return fail(err)
	}
	switch {
	case bytes.Equal(head, []byte("PAR1")):
		in.Format = Parquet
		var ra io.ReaderAt
		var size int64
		if seekable != nil {
			ra, size, in.src = seekable, fileSize(seekable), seekable
		} else {
			f, n, err := spoolToFile(raw)
			if err != nil {
				return fail(fmt.Errorf("spooling Parquet to a temporary file: %w", err))
			}
			in.closers = append(in.closers, f)
			ra, size, in.src = f, n, f
		}
		pf, err := openParquet(name, ra, size)
		if err != nil {
			return fail(fmt.Errorf("not a readable Parquet file: %w", err))
		}
		in.pf = pf
		in.Meta = parquetMeta(pf)
		if err := checkMeta(in.Meta); err != nil {
			return fail(err)
		}
	default:
		first, err := firstLine(raw)
		if err != nil {
			return fail(err)
		}
		if len(first) == 0 {
			in.Format = NDJSON
			return in, nil
		}
		if first[0] != '{' {
			if m, ok := csvMeta(first); ok {
				in.Format = CSV
				in.Meta = m
				return in, nil
			}
			return fail(errors.New("not a record stream: neither Parquet (no PAR1 magic), NDJSON (does not start with '{') nor CSV with a header of spot's columns"))
		}
		in.Format = NDJSON
		m, err := ndjsonMeta(first)
		if err != nil && longerThanBuffer(raw) {
			// A first line longer than the buffer is judged by its
			// leading keys; the reader decodes it whole.
			m, err = leadingMeta(first)
		}
		if err != nil {
			return fail(&RecordError{Name: name, Unit: "line", Number: 1, Err: err})
		}
		in.Meta = m
	}
	return in, nil
}

// Close releases the input (a spool of stdin, which has no name, goes with
// it).
func (in *Input) Close() error {
	var errs []error
	for i := len(in.closers) - 1; i >= 0; i-- {
		errs = append(errs, in.closers[i].Close())
	}
	in.closers = nil
	return errors.Join(errs...)
}

// Rewind returns a new Input that reads the same records from the start,
// so that a stage can read its input twice (score's detectors do). Call it
// before reading from in. A file is opened again by name; Parquet from a
// pipe is already in a scratch file, read again; any other stream from a
// pipe is first spooled to a scratch file without a name (decompressed, as
// it came), which both read and which goes with in's Close.
func (in *Input) Rewind() (*Input, error) {
	if in.Name != "" && in.Name != "-" {
		r, err := Open(in.Name, nil)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	if in.pf != nil {
		return &Input{Name: in.Name, Format: in.Format, Meta: in.Meta, pf: in.pf}, nil
	}
	if in.spool == nil {
		f, n, err := spoolToFile(in.br)
		if err != nil {
			return nil, fmt.Errorf("%s: spooling to a temporary file: %w", DisplayName(in.Name), err)
		}
		closeAll(in.closers)
		in.closers = []io.Closer{f}
		in.spool = io.NewSectionReader(f, 0, n)
		in.br = bufio.NewReaderSize(io.NewSectionReader(f, 0, n), readBufferSize)
	}
	r, err := Open(in.Name, io.NewSectionReader(in.spool, 0, in.spool.Size()))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Columns returns the input's column names: the Parquet schema's, or the
// keys of the first NDJSON object.
func (in *Input) Columns() []string {
	if in.pf != nil {
		var cols []string
		for _, f := range in.pf.Schema().Fields() {
			cols = append(cols, f.Name())
		}
		return cols
	}
	first, _ := firstLine(in.br)
	if in.Format == CSV {
		h, _ := csvHeader(first)
		return h
	}
	keys, err := objectKeys(first)
	if err != nil && longerThanBuffer(in.br) {
		keys, _, _, _ = leadingKeys(first)
	}
	return keys
}

// OpenRaw opens a file of any kind, name "" or "-" being stdin, and unwraps
// gzip or zstd compression. Decoders read captures and logs through it.
func OpenRaw(name string, stdin io.Reader) (io.ReadCloser, error) {
	return OpenRawCounted(name, stdin, nil)
}

// OpenRawCounted is OpenRaw that tells read, when not nil, how many more
// bytes of the file itself (compressed, when it is) were read: the share
// of its size read so far.
func OpenRawCounted(name string, stdin io.Reader, read func(n int)) (io.ReadCloser, error) {
	br, _, closers, err := openRaw(name, stdin, read)
	if err != nil {
		return nil, err
	}
	return readCloser{br, closers}, nil
}

type readCloser struct {
	io.Reader
	closers []io.Closer
}

func (rc readCloser) Close() error {
	var errs []error
	for i := len(rc.closers) - 1; i >= 0; i-- {
		errs = append(errs, rc.closers[i].Close())
	}
	return errors.Join(errs...)
}

// openRaw opens name and unwraps compression. seekable is the file itself
// when it is a regular uncompressed file (Parquet then needs no spooling).
// read, when not nil, is told of the bytes read from the file.
func openRaw(name string, stdin io.Reader, read func(int)) (br *bufio.Reader, seekable *os.File, closers []io.Closer, err error) {
	var src io.Reader
	if name == "" || name == "-" {
		src = stdin
		if f, ok := stdin.(*os.File); ok && isRegular(f) {
			seekable = f
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, nil, err
		}
		closers = append(closers, f)
		src = f
		if isRegular(f) {
			seekable = f
		}
	}
	if read != nil {
		src = countedReader{src, read}
	}
	br = bufio.NewReaderSize(src, readBufferSize)
	head, _ := br.Peek(4)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeAll(closers)
			return nil, nil, nil, fmt.Errorf("%s: gzip: %w", DisplayName(name), err)
		}
		closers = append(closers, zr)
		br, seekable = bufio.NewReaderSize(zr, readBufferSize), nil
	case bytes.Equal(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			closeAll(closers)
			return nil, nil, nil, fmt.Errorf("%s: zstd: %w", DisplayName(name), err)
		}
		closers = append(closers, zstdCloser{zr})
		br, seekable = bufio.NewReaderSize(zr, readBufferSize), nil
	}
	return br, seekable, closers, nil
}

// countedReader tells read how many bytes each Read returned.
type countedReader struct {
	r    io.Reader
	read func(int)
}

func (c countedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read(n)
	return n, err
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

func closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
}

// isLive reports whether the input named may wait for data: anything but
// a regular file (stdin that is not a file counts as live).
func isLive(name string, stdin io.Reader) bool {
	if name == "" || name == "-" {
		f, ok := stdin.(*os.File)
		return !ok || !isRegular(f)
	}
	st, err := os.Stat(name)
	return err == nil && !st.Mode().IsRegular()
}

func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

// spoolToFile copies r to a scratch file in $TMPDIR, unlinked at once, so
// that no end of the process leaves it behind.
func spoolToFile(r io.Reader) (*os.File, int64, error) {
	f, err := atomicfile.Scratch("spot-spool-*.parquet")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}

// firstLine returns the first non-blank line without consuming it. It waits
// for no more input than that line: the stage before, in a live pipe, may
// have written only one.
func firstLine(br *bufio.Reader) ([]byte, error) {
	n := max(1, br.Buffered())
	for {
		buf, err := br.Peek(min(n, br.Size()))
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line := bytes.TrimSpace(buf[:i])
			if len(line) == 0 { // skip leading blank lines
				br.Discard(i + 1)
				n = max(1, br.Buffered())
				continue
			}
			return line, nil
		}
		switch {
		case err == io.EOF || len(buf) == br.Size():
			return bytes.TrimSpace(buf), nil // the last line, or one longer than the buffer: judged by its start
		case err != nil && err != bufio.ErrBufferFull:
			return nil, err
		}
		n = max(len(buf)+1, br.Buffered()) // what has come, and at least one byte more
	}
}

func objectKeys(line []byte) ([]string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	return keys, nil
}

// longerThanBuffer reports whether br's buffer is full without a line's
// end: the first line goes on beyond it.
func longerThanBuffer(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Size())
	return len(b) == br.Size() && bytes.IndexByte(b, '\n') < 0
}

// leadingKeys reads the keys of the JSON object that prefix begins, as far
// as prefix goes, and the values of "kind" and "stream" among them. It
// fails only on what is not JSON; an object cut short is not an error.
func leadingKeys(prefix []byte) (keys []string, kind, stream string, err error) {
	d := stdjson.NewDecoder(bytes.NewReader(prefix))
	cut := func(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }
	if t, err := d.Token(); err != nil || t != stdjson.Delim('{') {
		return nil, "", "", fmt.Errorf("invalid JSON: not an object")
	}
	for d.More() {
		t, err := d.Token()
		if cut(err) {
			break
		}
		if err != nil {
			return keys, kind, stream, fmt.Errorf("invalid JSON: %w", err)
		}
		key, _ := t.(string)
		keys = append(keys, key)
		var v stdjson.RawMessage // a value, skipped: it may be long
		if err := d.Decode(&v); cut(err) {
			break
		} else if err != nil {
			return keys, kind, stream, fmt.Errorf("invalid JSON: %w", err)
		}
		switch key {
		case "kind":
			stdjson.Unmarshal(v, &kind)
		case "stream":
			stdjson.Unmarshal(v, &stream)
		}
	}
	if _, err := d.Token(); err != nil && !cut(err) { // '}', or what is not JSON
		return keys, kind, stream, fmt.Errorf("invalid JSON: %w", err)
	}
	return keys, kind, stream, nil
}

// leadingMeta is ndjsonMeta for a first line known only by its start.
func leadingMeta(prefix []byte) (record.Meta, error) {
	keys, kind, stream, err := leadingKeys(prefix)
	if err != nil {
		return record.Meta{}, err
	}
	return metaOf(keys, kind, stream)
}

func ndjsonMeta(line []byte) (record.Meta, error) {
	var head struct {
		Kind   string `json:"kind"`
		Stream string `json:"stream"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return record.Meta{}, fmt.Errorf("invalid JSON: %w", err)
	}
	keys, _ := objectKeys(line)
	return metaOf(keys, head.Kind, head.Stream)
}

// metaOf is the meta of an NDJSON stream whose first object has keys and
// the given "kind" and "stream" values ("" when absent).
func metaOf(keys []string, kind, stream string) (record.Meta, error) {
	m, _ := record.Infer(keys)
	if kind != "" {
		k, err := record.ParseKind(kind)
		if err != nil {
			return m, err
		}
		m.Kind = k
	}
	switch {
	case stream != "":
		m.Stream = record.Stream(stream)
	case m.Stream == "":
		m.Stream = record.StreamEvents
	}
	return m, checkMeta(m)
}

func parquetMeta(pf *parquet.File) record.Meta {
	var cols []string
	for _, f := range pf.Schema().Fields() {
		cols = append(cols, f.Name())
	}
	m, _ := record.Infer(cols)
	if k, ok := pf.Lookup(metaKind); ok {
		m.Kind = record.Kind(k)
	}
	if s, ok := pf.Lookup(metaStream); ok {
		m.Stream = record.Stream(s)
	}
	return m
}
