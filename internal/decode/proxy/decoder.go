package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Options configure a Decoder.
type Options struct {
	// Format forces a layout; Auto detects it from the first lines.
	Format Format
	// Location is the zone of times written without an offset (W3C, Blue
	// Coat); nil means UTC. A W3C "#GMT-Offset:" header overrides it.
	Location *time.Location
	// OnSkip, if set, is called with a *ioformat.RecordError for every line
	// that cannot be decoded.
	OnSkip func(error)
	// ReuseBatches says the caller passes Read the same few batches over
	// and over, and is done with a batch's records (their strings too) when
	// it passes the batch to Read again: the bytes behind their strings are
	// then reused rather than left to the garbage collector, whose heap
	// grew to 115 MB of fresh arenas between collections: decoding 1M
	// squid lines to Parquet took 33.8k page faults, and 9.4k so.
	ReuseBatches bool
}

// Decoder reads proxy records from one log.
type Decoder struct {
	br      *bufio.Reader
	name    string // as given; "-" is stdin
	source  string // base name, for event ids
	format  Format
	loc     *time.Location
	onSkip  func(error)
	line    int64
	skipped int64
	done    bool

	arena []byte // backing bytes of the strings handed out (see load)
	// With ReuseBatches: the arenas of each batch's records, by the
	// batch's first record, and the arenas free for reuse.
	reuse  bool
	owned  map[*record.Proxy][][]byte
	batch  *record.Proxy // the batch being filled
	spares [][]byte
	clk    clock
	w3c    w3cState
	tok    [maxFields][2]int
	esc    [maxFields]bool
}

// arenaSize is the size of an arena (see load); tests make it small.
var arenaSize = 1 << 20

const (
	bufferSize = 1 << 20 // also the longest line read
	maxFields  = 128     // W3C columns looked at
)

// errHeader marks a W3C directive line: not a record, not an error.
var errHeader = errors.New("header line")

// ErrUnknownFormat is returned by NewDecoder when detection recognised none
// of the first lines.
var ErrUnknownFormat = errors.New("cannot tell the proxy log format from the first lines (force one with -i squid|combined|common|w3c|bluecoat)")

// NewDecoder returns a decoder of the log r, named name ("-" for stdin; its
// base name goes into event ids). With opt.Format Auto the format is
// detected from the first 64 KiB; an empty log decodes to nothing.
func NewDecoder(r io.Reader, name string, opt Options) (*Decoder, error) {
	d := &Decoder{
		br:     bufio.NewReaderSize(r, bufferSize),
		name:   name,
		source: filepath.Base(name),
		format: opt.Format,
		loc:    opt.Location,
		onSkip: opt.OnSkip,
		reuse:  opt.ReuseBatches,
	}
	if d.reuse {
		d.owned = make(map[*record.Proxy][][]byte)
	}
	if name == "" || name == "-" {
		d.source = "-"
	}
	if d.loc == nil {
		d.loc = time.UTC
	}
	if d.format == Auto {
		if err := d.detect(); err != nil {
			return nil, fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
		}
	}
	d.w3c.reset(d.format == BlueCoat)
	return d, nil
}

// detect sets the format from the first lines. It reads no more than it
// needs (a pipe fed line by line is not held up), and at most 64 KiB.
func (d *Decoder) detect() error {
	const most = 64 << 10
	want := 1
	for {
		_, err := d.br.Peek(want) // waits for at least one more byte
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return err
		}
		head, _ := d.br.Peek(d.br.Buffered())
		end := err != nil || len(head) >= most
		complete := head
		if !end {
			complete = head[:bytes.LastIndexByte(head, '\n')+1]
		}
		if f := Detect(complete); f != Auto {
			d.format = f
			return nil
		}
		if end {
			if len(bytes.TrimSpace(head)) == 0 {
				d.done, d.format = true, Squid // an empty log
				return nil
			}
			return ErrUnknownFormat
		}
		want = len(head) + 1
	}
}

// Format is the log's format, detected or forced.
func (d *Decoder) Format() Format { return d.format }

// Skipped is the number of lines that could not be decoded so far.
func (d *Decoder) Skipped() int64 { return d.skipped }

// Lines is the number of lines read so far.
func (d *Decoder) Lines() int64 { return d.line }

// Read decodes up to len(buf) records into buf and returns how many. At the
// end of the log it returns 0, io.EOF. Lines that cannot be decoded are
// counted, reported to OnSkip, and skipped. Records are the caller's: their
// strings share backing memory with no later record (with ReuseBatches,
// until buf is passed to Read again).
func (d *Decoder) Read(buf []record.Proxy) (int, error) {
	if d.reuse && len(buf) > 0 {
		// The records last read into buf are done with: their arenas
		// are free, and this batch's strings go into arenas of its own.
		d.batch = &buf[0]
		old := d.owned[d.batch]
		d.spares = append(d.spares, old...)
		clear(old)
		d.owned[d.batch] = old[:0]
		d.arena = nil
	}
	n := 0
	for n < len(buf) && !d.done {
		line, err := d.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			d.line++
			for err == bufio.ErrBufferFull {
				_, err = d.br.ReadSlice('\n')
			}
			d.skip(fmt.Errorf("line longer than %d bytes", bufferSize))
			if err == io.EOF {
				d.done = true
			} else if err != nil {
				return n, err
			}
			continue
		}
		if err == io.EOF {
			d.done = true
			if len(line) == 0 {
				break
			}
		} else if err != nil {
			return n, fmt.Errorf("%s: %w", ioformat.DisplayName(d.name), err)
		}
		d.line++
		line = trimEOL(line)
		if len(line) == 0 || allSpace(line) {
			continue
		}
		r := &buf[n]
		*r = record.Proxy{}
		if perr := d.parse(line, r); perr != nil {
			if perr != errHeader {
				d.skip(perr)
			}
			continue
		}
		r.EID = record.EID(d.source, d.line, line)
		n++
	}
	if n == 0 && d.done {
		return 0, io.EOF
	}
	return n, nil
}

func (d *Decoder) skip(err error) {
	d.skipped++
	if d.onSkip != nil {
		d.onSkip(&ioformat.RecordError{Name: d.name, Unit: "line", Number: d.line, Err: err})
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// parse decodes one non-blank line into r.
func (d *Decoder) parse(line []byte, r *record.Proxy) error {
	base := d.load(line)
	l := d.arena[base : base+len(line)]
	var err error
	switch d.format {
	case Squid:
		err = d.parseSquid(l, base, r)
	case Combined, Common:
		err = d.parseCLF(l, base, r)
	case W3C, BlueCoat:
		err = d.parseW3C(l, base, r)
	default:
		err = fmt.Errorf("no parser for format %v", d.format)
	}
	if err != nil {
		d.arena = d.arena[:base] // nothing of this line was handed out
	}
	return err
}

// load copies line into the arena and reserves room for the strings derived
// from it (unescaped fields, fulluri), so that every string of the record is
// a slice of arena bytes that are never written again: one allocation per
// ~1 MiB of log instead of one per field.
func (d *Decoder) load(line []byte) int {
	need := 3*len(line) + 256
	if cap(d.arena)-len(d.arena) < need {
		d.newArena(need)
	}
	base := len(d.arena)
	d.arena = append(d.arena, line...)
	return base
}

// newArena starts an arena of at least need bytes.
func (d *Decoder) newArena(need int) {
	if !d.reuse {
		d.arena = make([]byte, 0, max(arenaSize, need))
		return
	}
	if k := len(d.spares) - 1; k >= 0 && cap(d.spares[k]) >= need {
		d.arena = d.spares[k][:0]
		d.spares[k] = nil
		d.spares = d.spares[:k]
	} else {
		d.arena = make([]byte, 0, max(arenaSize, need))
	}
	d.owned[d.batch] = append(d.owned[d.batch], d.arena)
}

// str returns arena bytes [a, b) as a string; "-" when empty.
func (d *Decoder) str(a, b int) string {
	if b <= a {
		return "-"
	}
	return unsafe.String(&d.arena[a], b-a)
}

// derive appends the concatenation of parts to the arena and returns it as
// a string. It falls back to an allocation should the reservation made by
// load not suffice.
func (d *Decoder) derive(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n == 0 {
		return ""
	}
	if cap(d.arena)-len(d.arena) < n {
		b := make([]byte, 0, n)
		for _, p := range parts {
			b = append(b, p...)
		}
		return string(b)
	}
	a := len(d.arena)
	for _, p := range parts {
		d.arena = append(d.arena, p...)
	}
	return unsafe.String(&d.arena[a], n)
}

// finish fills what every format derives the same way: "-" for absent
// strings, fulluri, and the time columns from ts (seconds, nanoseconds).
func (d *Decoder) finish(r *record.Proxy, sec, nsec int64) {
	dashEmpty(r)
	if parts, n := spotURI(r.Host, r.URIPath, r.URIQuery); n == 1 {
		r.FullURI = parts[0]
	} else {
		r.FullURI = d.derive(parts[:n]...)
	}
	d.clk.set(r, sec, nsec)
}
