// Package flow turns nfdump CSV (stock nfdump's "-o csv" and the 27-column
// layout of Apache Spot's patched nfdump) into flow records.
package flow

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Layout is the column layout of an nfdump CSV file.
type Layout int

// The layouts.
const (
	LayoutUnknown Layout = iota
	// LayoutNfdump is stock nfdump's -o csv (1.6/1.7): a header line naming
	// the columns (ts,te,td,sa,da,...), found by name; then a Summary block.
	// Outputs joined with cat follow one another: a header after a Summary
	// starts a new table.
	LayoutNfdump
	// LayoutSpot is Apache Spot's patched nfdump: 27 columns
	// tr,try,trm,trd,trh,trm,trs,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,
	// opkt,obyt,in,out,sas,das,dtos,dir,ra, with or without that header.
	LayoutSpot
)

// spotColumns are the Spot layout's columns (its header names "trm" twice).
var spotColumns = []string{"tr", "try", "trm", "trd", "trh", "trmin", "trs", "td", "sa", "da", "sp", "dp", "pr",
	"flg", "fwd", "stos", "ipkt", "ibyt", "opkt", "obyt", "in", "out", "sas", "das", "dtos", "dir", "ra"}

// column indexes the reader fills from; -1 when the file lacks the column.
type columns struct {
	ts, te, td, sa, da, sp, dp, pr, flg, fwd, stos, ipkt, ibyt, opkt, obyt int
	in, out, sas, das, dtos, dir, ra                                       int
	max                                                                    int
}

func columnsFor(names []string) (columns, error) {
	idx := map[string]int{}
	for i, n := range names {
		if _, dup := idx[n]; !dup {
			idx[n] = i
		}
	}
	get := func(n string) int {
		if i, ok := idx[n]; ok {
			return i
		}
		return -1
	}
	c := columns{
		ts: get("ts"), te: get("te"), td: get("td"), sa: get("sa"), da: get("da"), sp: get("sp"), dp: get("dp"),
		pr: get("pr"), flg: get("flg"), fwd: get("fwd"), stos: get("stos"), ipkt: get("ipkt"), ibyt: get("ibyt"),
		opkt: get("opkt"), obyt: get("obyt"), in: get("in"), out: get("out"), sas: get("sas"), das: get("das"),
		dtos: get("dtos"), dir: get("dir"), ra: get("ra"),
	}
	if c.ts < 0 {
		c.ts = get("tr") // Spot's layout: the received time is the only time
	}
	for _, need := range []struct {
		i    int
		name string
	}{{c.ts, "ts"}, {c.sa, "sa"}, {c.da, "da"}} {
		if need.i < 0 {
			return c, fmt.Errorf("nfdump CSV header has no %q column", need.name)
		}
	}
	for _, i := range []int{c.ts, c.te, c.td, c.sa, c.da, c.sp, c.dp, c.pr, c.flg, c.fwd, c.stos, c.ipkt, c.ibyt,
		c.opkt, c.obyt, c.in, c.out, c.sas, c.das, c.dtos, c.dir, c.ra} {
		c.max = max(c.max, i)
	}
	return c, nil
}

// split cuts a line at its commas into r.fields, up to the last column
// used. Stock nfdump lines carry ~20 unused columns (MPLS labels, MAC
// addresses, next hops) between "dir" and "ra": once the first line showed
// that lines have the header's column count, the columns after that gap are
// found from the line's end instead of scanned to.
func (r *lineParser) split(line []byte) [][]byte {
	fs := r.fields[:0]
	last := r.cols.max
	fwd := last
	if r.tailFrom > 0 {
		fwd = r.fwdMax
	}
	start := 0
	i := 0
	// Eight bytes at a time: the high bit of each byte of m is set where
	// that byte is a comma (exact, no carries between bytes).
	const ones, low7 = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f
words:
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ (',' * ones)
		m := ^((x&low7 + low7) | x | low7)
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			m &= m - 1
			fs = append(fs, line[start:j])
			start = j + 1
			if len(fs) > fwd {
				break words
			}
		}
	}
	if len(fs) <= fwd {
		for ; i < len(line); i++ {
			if line[i] == ',' {
				fs = append(fs, line[start:i])
				start = i + 1
				if len(fs) > fwd {
					break
				}
			}
		}
	}
	if len(fs) <= fwd {
		fs = append(fs, line[start:])
	}
	if r.tailFrom > 0 && len(fs) > fwd {
		// Columns tailFrom..last, counted back from the end of the line.
		if r.tail == nil {
			r.tail = make([][]byte, last-r.tailFrom+1)
		}
		end := len(line)
		back := r.ncols - 1 // index of the field ending at end
		for cut := end - 1; cut >= start && back >= r.tailFrom; cut-- {
			if line[cut] == ',' {
				if back <= last {
					r.tail[back-r.tailFrom] = line[cut+1 : end]
				}
				end = cut
				back--
			}
		}
		if back >= r.tailFrom {
			fs = fs[:fwd+1] // too few columns: leave the tail out
		} else {
			for len(fs) < r.tailFrom {
				fs = append(fs, nil)
			}
			fs = append(fs, r.tail[:last-r.tailFrom+1]...)
		}
	}
	r.fields = fs
	return fs
}

// planTail decides, from the first data line, whether split may find the
// last columns from the line's end.
func (r *csvFormat) planTail(line []byte) {
	if r.layout != LayoutNfdump || r.ncols == 0 || bytes.Count(line, []byte(",")) != r.ncols-1 {
		return
	}
	c := r.cols
	used := []int{c.ts, c.te, c.td, c.sa, c.da, c.sp, c.dp, c.pr, c.flg, c.fwd, c.stos, c.ipkt, c.ibyt,
		c.opkt, c.obyt, c.in, c.out, c.sas, c.das, c.dtos, c.dir, c.ra}
	slices.Sort(used)
	for i := 1; i < len(used); i++ {
		if used[i-1] >= 0 && used[i]-used[i-1] > 8 {
			r.fwdMax, r.tailFrom = used[i-1], used[i]
			return
		}
	}
}

// LineError is a malformed line.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// csvFormat is what the header and the first data line decide: the layout,
// where the columns are, and how lines are split. It is read-only once
// planned, shared by the parsers of every goroutine.
type csvFormat struct {
	layout   Layout
	cols     columns
	ncols    int // columns of the header
	tailFrom int // first column found from the line's end (0: none)
	fwdMax   int // last column scanned forward when tailFrom > 0
	loc      *time.Location
	eid      *record.EIDer
}

// lineParser turns lines of one format into records; each goroutine has
// its own (the scratch space and caches are not shared).
type lineParser struct {
	*csvFormat
	fields [][]byte
	tail   [][]byte
	times  flowrec.Times
	clock  clock
	strs   flowrec.Interner
}

func newLineParser(f *csvFormat) *lineParser {
	return &lineParser{csvFormat: f, clock: clock{loc: f.loc}}
}

// CSVReader reads nfdump CSV into flow records. After the header and the
// first data line, blocks of lines are parsed on every core, and records
// come out in the file's order. Lines that begin with a letter (a header, a
// Summary trailer) stop the blocks and are read one by one: a header after
// a trailer starts a new table (outputs joined with cat), and any other
// line after a trailer is skipped, counted and warned about.
type CSVReader struct {
	// Warn, when set, is called for every malformed line skipped.
	Warn func(*LineError)

	br       *bufio.Reader // what is read: base, or the lines read ahead when the blocks stopped, then base
	base     *bufio.Reader // the input
	replay   *replay       // under br, when the blocks stopped
	format   *csvFormat    // the current table's; a new table gets a new one
	first    *lineParser   // parses the lines read one by one
	firstRec [1]record.Flow
	line     int64
	skipped  int64
	err      error // io.EOF at the end
	started  bool  // the first line was read
	planned  bool  // a data line planned how the current table's lines split
	seq      bool  // read lines one by one (the first ones, and after a stop)
	seqBytes int   // of data lines read one by one since the blocks stopped
	trailer  int   // lines of a Summary block still to come (its header and totals)
	after    bool  // after a trailer, before a new header: no flows here

	pipe    *csvPipe
	cur     *csvChunk     // the chunk Next returned last
	pending []record.Flow // what Read has not yet copied out
	pos     int
}

// NewCSVReader reads nfdump CSV from r; name names the input (its base
// name goes into event ids); times in the file are read in loc (nfdump
// prints local time).
func NewCSVReader(r io.Reader, name string, loc *time.Location) *CSVReader {
	if loc == nil {
		loc = time.UTC
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	c := &CSVReader{br: br, base: br, format: &csvFormat{loc: loc, eid: record.NewEIDer(filepath.Base(name))}, seq: true}
	c.first = newLineParser(c.format)
	return c
}

// Layout is the layout found (after the first Read).
func (r *CSVReader) Layout() Layout { return r.format.layout }

// Skipped is the number of malformed lines skipped.
func (r *CSVReader) Skipped() int64 { return r.skipped }

// Lines is the number of lines read.
func (r *CSVReader) Lines() int64 { return r.line }

// Close stops the goroutines of a reader left before its end.
func (r *CSVReader) Close() {
	if r.pipe != nil {
		r.pipe.stop()
	}
}

// ErrNotCSV is returned when the input is not nfdump CSV.
var ErrNotCSV = errors.New("not nfdump CSV (no ts/te/sa/da header and not Spot's 27-column layout)")

// Read fills buf with up to len(buf) records; at the end it returns 0, io.EOF.
func (r *CSVReader) Read(buf []record.Flow) (int, error) {
	n := 0
	for n < len(buf) {
		if r.pos == len(r.pending) {
			recs, err := r.Next()
			if err != nil {
				if n > 0 {
					return n, nil // the error again on the next call
				}
				return 0, err
			}
			r.pending, r.pos = recs, 0
		}
		k := copy(buf[n:], r.pending[r.pos:])
		n += k
		r.pos += k
	}
	return n, nil
}

// Next returns the next records, valid until the following call (no copy
// is made); at the end it returns nil, io.EOF, and an error once returned
// is returned again.
func (r *CSVReader) Next() ([]record.Flow, error) {
	if r.cur != nil {
		if r.pipe != nil {
			r.pipe.put(r.cur)
		}
		r.cur = nil
	}
	for r.err == nil {
		if r.seq {
			if rec, ok := r.readLine(); ok {
				return rec, nil
			}
			continue
		}
		if r.pipe == nil {
			r.pipe = startCSVPipe(r.br, r.format, r.line+1)
		}
		c, ok := <-r.pipe.order
		if !ok {
			r.err = io.EOF
			break
		}
		<-c.ready
		for _, e := range c.errs {
			r.skip(e)
		}
		r.line = c.first + c.lines - 1
		r.cur = c
		switch {
		case c.stop:
			r.stopBlocks(c)
		case c.err != nil:
			r.err = c.err
		}
		if len(c.recs) > 0 {
			return c.recs, nil
		}
	}
	return nil, r.err
}

// stopBlocks ends the blocks at a line for readLine: reading goes on one
// line at a time from that line, through what the blocks read ahead.
func (r *CSVReader) stopBlocks(c *csvChunk) {
	r.pipe.stop()
	r.pipe, r.seq, r.seqBytes = nil, true, 0
	ahead := [][]byte{c.rest}
	if n := r.br.Buffered(); n > 0 {
		b, _ := r.br.Peek(n)
		ahead = append(ahead, bytes.Clone(b))
		r.br.Discard(n)
	}
	var src io.Reader = r.base
	if r.replay != nil {
		ahead = append(ahead, r.replay.ahead...)
	}
	if c.err != nil {
		src = errReader{c.err}
	}
	r.replay = &replay{ahead: ahead, src: src}
	r.br = bufio.NewReaderSize(r.replay, 256<<10)
}

// replay reads bytes read ahead, then the rest of src.
type replay struct {
	ahead [][]byte
	src   io.Reader
}

func (p *replay) Read(b []byte) (int, error) {
	for len(p.ahead) > 0 {
		if len(p.ahead[0]) == 0 {
			p.ahead = p.ahead[1:]
			continue
		}
		n := copy(b, p.ahead[0])
		p.ahead[0] = p.ahead[0][n:]
		return n, nil
	}
	return p.src.Read(b)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// readLine reads one line by itself: the header, the first data line of a
// table (which shows how its lines split), a Summary trailer and what
// follows it. It returns the record of a data line.
func (r *CSVReader) readLine() ([]record.Flow, bool) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer: gather it.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if len(line) == 0 && err != nil {
		r.err = err
		return nil, false
	}
	r.line++
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return nil, false
	}
	if !r.started {
		r.started = true
		if err := r.header(line); err != nil {
			r.err = err
			return nil, false
		}
		if r.format.layout == LayoutNfdump || bytes.HasPrefix(line, []byte("tr,")) {
			return nil, false // a header line
		}
	}
	switch {
	case isTrailer(line):
		r.after = true
		if bytes.HasPrefix(line, []byte("Summary")) {
			r.trailer = 2 // its header and its totals
		}
		return nil, false
	case r.trailer > 0:
		r.trailer--
		if isSummaryLine(line) {
			return nil, false
		}
		r.trailer = 0
	}
	if isLetter(line[0]) {
		if f, err := r.newTable(line); err == nil {
			r.format, r.first = f, newLineParser(f)
			r.planned, r.after = false, false
			return nil, false
		}
	}
	if r.after {
		r.skip(&LineError{Line: r.line, Err: errAfterTrailer})
		return nil, false
	}
	if !r.planned {
		r.planned = true
		r.format.planTail(line)
	}
	rec := r.firstRec[:]
	if perr := r.first.parse(line, r.line, &rec[0]); perr != nil {
		r.skip(&LineError{Line: r.line, Err: perr})
		return nil, false
	}
	// The lines after it go in blocks: at once after the first line, or
	// when a quarter block was read alone after a stop (so that lines
	// stopping the blocks often cost no more than reading them alone).
	r.seqBytes += len(line)
	if r.replay == nil || r.seqBytes >= csvChunkSize/4 {
		r.seq = false
	}
	return rec, true
}

var errAfterTrailer = errors.New("after nfdump's Summary trailer and before a new header: not a flow")

func (r *CSVReader) skip(e *LineError) {
	r.skipped++
	if r.Warn != nil {
		r.Warn(e)
	}
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// isSummaryLine tells the lines of nfdump's Summary block after "Summary":
// its header (flows,bytes,...) and its totals (numbers).
func isSummaryLine(line []byte) bool {
	if bytes.HasPrefix(line, []byte("flows,")) {
		return true
	}
	for _, b := range line {
		if (b < '0' || b > '9') && b != ',' && b != '.' && b != ' ' {
			return false
		}
	}
	return true
}

// stopsBlocks tells a line the blocks leave to readLine: a trailer or a
// header (both begin with a letter; flows begin with their time).
func stopsBlocks(line []byte) bool {
	if len(line) == 0 || !isLetter(line[0]) {
		return false
	}
	if isTrailer(line) {
		return true
	}
	_, err := parseHeader(line)
	return err == nil
}

// isTrailer tells nfdump's trailer ("Summary", its header and totals, or
// "No matched flows"): nothing after it is a flow.
func isTrailer(line []byte) bool {
	return (line[0] < '0' || line[0] > '9') &&
		(bytes.HasPrefix(line, []byte("Summary")) || bytes.HasPrefix(line, []byte("No match")))
}

func (r *CSVReader) header(line []byte) error {
	f, err := parseHeader(line)
	if err != nil {
		return err
	}
	r.format.layout, r.format.cols, r.format.ncols = f.layout, f.cols, f.ncols
	return nil
}

// newTable returns the format of a table whose header is line.
func (r *CSVReader) newTable(line []byte) (*csvFormat, error) {
	f, err := parseHeader(line)
	if err != nil {
		return nil, err
	}
	f.loc, f.eid = r.format.loc, r.format.eid
	return f, nil
}

// parseHeader reads a header line, or the first line of Spot's headerless
// layout.
func parseHeader(line []byte) (*csvFormat, error) {
	names := bytes.Split(line, []byte(","))
	if bytes.HasPrefix(line, []byte("tr,try,")) || (len(names) == 27 && len(line) > 0 && line[0] >= '0' && line[0] <= '9') {
		c, err := columnsFor(spotColumns)
		return &csvFormat{layout: LayoutSpot, cols: c}, err
	}
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(bytes.TrimSpace(n))
	}
	c, err := columnsFor(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCSV, err)
	}
	return &csvFormat{layout: LayoutNfdump, cols: c, ncols: len(names)}, nil
}

// csvChunkSize is how many bytes of whole lines a worker parses at a time
// (a variable for the tests).
var csvChunkSize = 1 << 20

// csvChunk is a block of whole lines and, once ready is closed, its records.
type csvChunk struct {
	data  []byte
	first int64 // number of the block's first line
	lines int64
	ends  []int // where each line of data ends: its '\n', or len(data)
	recs  []record.Flow
	errs  []*LineError
	stop  bool   // a line for readLine follows data: the blocks end here
	rest  []byte // with stop: the input from that line on, read ahead
	err   error  // a read error after data (or after rest)
	ready chan struct{}
}

// csvPipe cuts the input into chunks, parses them on every core and hands
// them on in order.
type csvPipe struct {
	order    chan *csvChunk
	free     chan *csvChunk // chunks handed back, their buffers reused
	quit     chan struct{}
	stopOnce sync.Once
}

func (p *csvPipe) stop() { p.stopOnce.Do(func() { close(p.quit) }) }

// get returns a chunk to fill: a used one when there is one.
func (p *csvPipe) get() *csvChunk {
	select {
	case c := <-p.free:
		*c = csvChunk{data: c.data[:0], recs: c.recs[:0], ends: c.ends[:0], ready: make(chan struct{})}
		return c
	default:
		return &csvChunk{ready: make(chan struct{})}
	}
}

// put hands back a chunk whose records have been taken.
func (p *csvPipe) put(c *csvChunk) {
	select {
	case p.free <- c:
	default:
	}
}

func startCSVPipe(br *bufio.Reader, f *csvFormat, line int64) *csvPipe {
	workers := runtime.GOMAXPROCS(0)
	p := &csvPipe{order: make(chan *csvChunk, 2*workers), free: make(chan *csvChunk, 4*workers), quit: make(chan struct{})}
	todo := make(chan *csvChunk, workers)
	for range workers {
		go func() {
			lp := newLineParser(f)
			for c := range todo {
				lp.chunk(c)
				close(c.ready)
			}
		}()
	}
	go func() {
		defer close(p.order)
		defer close(todo)
		var carry []byte
		for {
			c := p.get()
			c.first = line
			// A block's buffer has room for a carried part line (up to
			// 64 kB) beside the block's size: made to fit the carry of
			// the moment, it was made again for every longer one, half
			// the blocks, and the heap grew by fresh pages.
			buf := c.data[:cap(c.data)]
			if len(buf) < csvChunkSize+len(carry) {
				buf = make([]byte, csvChunkSize+max(len(carry), csvChunkSize/16))
			}
			n := copy(buf, carry)
			// Read what there is (a whole block from a file, less from a
			// slow pipe, whose lines then go on without waiting for more),
			// up to a line's end.
			var err error
			for {
				var k int
				k, err = br.Read(buf[n:])
				n += k
				if err != nil || k > 0 && bytes.LastIndexByte(buf[:n], '\n') >= 0 {
					break
				}
				if n == len(buf) {
					buf = append(buf, make([]byte, len(buf))...) // a line longer than the block
				}
			}
			if err != nil { // the end (or a read error): the rest is the last block
				c.data, carry = buf[:n], nil
			} else {
				i := bytes.LastIndexByte(buf[:n], '\n')
				c.data, carry = buf[:i+1], append([]byte(nil), buf[i+1:n]...)
			}
			var at int
			if c.ends, at = lineEnds(c.data, c.ends); at >= 0 {
				// The blocks end before it: readLine takes over there
				// (this buffer is not reused: the pipe ends).
				c.rest, c.data, c.stop = buf[at:n], buf[:at], true
			}
			c.lines = int64(len(c.ends))
			line += c.lines
			if err != nil && err != io.EOF {
				c.err = err
			}
			select {
			case p.order <- c:
			case <-p.quit:
				return
			}
			select {
			case todo <- c:
			case <-p.quit:
				close(c.ready)
				return
			}
			if err != nil || c.stop {
				return
			}
		}
	}()
	return p
}

// lineEnds appends where each line of data ends (its '\n', or len(data)
// for a last line without one) up to the first line that stopsBlocks, and
// returns where that line begins, or -1. The workers parse the lines it
// found rather than look for them again.
func lineEnds(data []byte, ends []int) ([]int, int) {
	for at := 0; at < len(data); {
		end := bytes.IndexByte(data[at:], '\n')
		if end < 0 {
			end = len(data) - at
		}
		if isLetter(data[at]) && stopsBlocks(bytes.TrimRight(data[at:at+end], "\r")) {
			return ends, at
		}
		ends = append(ends, at+end)
		at += end + 1
	}
	return ends, -1
}

// chunk parses the lines of c into c.recs, noting the malformed ones.
func (p *lineParser) chunk(c *csvChunk) {
	// Room for a record a line (nfdump's are ~350 bytes), made once and
	// touched at once (see ioformat.Touched); a record per 128 bytes of
	// the block was 2.6 times what a block of nfdump's lines holds, every
	// page of it faulted in.
	if want := min(len(c.ends)+len(c.ends)/8, len(c.data)/128); cap(c.recs) < want {
		c.recs = ioformat.Touched(make([]record.Flow, want))[:0]
	}
	start := 0
	for i, end := range c.ends {
		line := bytes.TrimRight(c.data[start:end], "\r")
		start = end + 1
		lineNo := c.first + int64(i)
		if len(line) == 0 {
			continue
		}
		c.recs = append(c.recs, record.Flow{})
		if err := p.parse(line, lineNo, &c.recs[len(c.recs)-1]); err != nil {
			c.recs = c.recs[:len(c.recs)-1]
			c.errs = append(c.errs, &LineError{Line: lineNo, Err: err})
		}
	}
}

var errFields = errors.New("too few columns")

// maxDurMs bounds a believable duration (about 30 years).
const maxDurMs = 1e12

func (r *lineParser) parse(line []byte, lineNo int64, f *record.Flow) error {
	fs := r.split(line)
	c := &r.cols
	if len(fs) <= c.da || len(fs) <= c.ts {
		return errFields
	}
	col := func(i int) []byte {
		if i < 0 || i >= len(fs) {
			return nil
		}
		b := fs[i]
		if len(b) > 0 && (b[0] == ' ' || b[len(b)-1] == ' ') {
			b = bytes.TrimSpace(b)
		}
		return b
	}
	var err error
	num := func(i int) int64 {
		b := col(i)
		if len(b) == 0 {
			return 0
		}
		v, ok := atoi(b)
		if !ok && err == nil {
			err = fmt.Errorf("column %d: %q is not a number", i+1, b)
		}
		return v
	}
	*f = record.Flow{}
	startNs, ok := r.clock.parse(col(c.ts))
	if !ok {
		return fmt.Errorf("bad time %q", col(c.ts))
	}
	durMs, haveDur := int64(0), false
	if b := col(c.td); len(b) > 0 {
		d, ok := parseMs(b)
		if !ok {
			return fmt.Errorf("bad duration %q", b)
		}
		durMs, haveDur = d, d < maxDurMs
	}
	endNs := startNs + durMs*1e6
	if b := col(c.te); len(b) > 0 {
		e, ok := r.clock.parse(b)
		if !ok {
			return fmt.Errorf("bad time %q", b)
		}
		endNs = e
		if !haveDur {
			// nfdump prints a negative duration (last seen before first
			// seen, as some exporters send) as a huge unsigned number.
			durMs = (endNs - startNs) / 1e6
		}
	}
	r.times.Set(f, startNs, endNs)
	f.TDur = float32(float64(durMs) / 1e3)
	f.SIP = r.strs.Get(col(c.sa))
	f.DIP = r.strs.Get(col(c.da))
	if len(f.SIP) == 0 || len(f.DIP) == 0 {
		return errors.New("empty address")
	}
	f.SPort = int32(num(c.sp))
	f.DPort = int32(num(c.dp))
	if p := col(c.pr); len(p) > 0 {
		if p[0] >= '0' && p[0] <= '9' {
			if v, ok := atoi(p); ok && v < 256 {
				f.Proto = flowrec.ProtoName(uint8(v))
			} else {
				return fmt.Errorf("bad protocol %q", p)
			}
		} else {
			f.Proto = r.strs.Get(p)
		}
	}
	f.Flag = r.strs.Get(col(c.flg))
	f.Fwd = int32(num(c.fwd))
	f.STos = int32(num(c.stos))
	f.IPkt = num(c.ipkt)
	f.IByt = num(c.ibyt)
	f.OPkt = num(c.opkt)
	f.OByt = num(c.obyt)
	f.Input = int32(num(c.in))
	f.Output = int32(num(c.out))
	f.SAS = int32(num(c.sas))
	f.DAS = int32(num(c.das))
	f.DTos = int32(num(c.dtos))
	f.Dir = int32(num(c.dir))
	f.RIP = r.strs.Get(col(c.ra))
	if err != nil {
		return err
	}
	if r.layout == LayoutSpot {
		f.Source = "spot-csv"
	} else {
		f.Source = "nfdump-csv"
	}
	// The event id hashes the line up to the last column scanned forward
	// (times, addresses, ports, protocol, flags, counters): that identifies
	// the flow; the rest would only cost time.
	content := line
	if r.tailFrom > 0 && len(fs) > r.fwdMax {
		f := fs[r.fwdMax]
		content = line[:cap(line)-cap(f)+len(f)]
	}
	f.EID = r.eid.EID(lineNo, content)
	return nil
}

func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			// nfdump may print large counters with a unit ("1.2 M") only
			// in other formats; in CSV a non-digit is an error.
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseMs reads a duration in seconds with up to 3 decimals.
func parseMs(b []byte) (int64, bool) {
	dot := bytes.IndexByte(b, '.')
	if dot < 0 {
		s, ok := atoi(b)
		return s * 1000, ok
	}
	if dot > 15 {
		return 1 << 62, true // out of range: the caller decides
	}
	s, ok := atoi(b[:dot])
	if dot == 0 {
		s, ok = 0, true
	}
	if !ok || s < 0 {
		return 0, false
	}
	frac := b[dot+1:]
	ms := int64(0)
	for i := 0; i < 3; i++ {
		ms *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			ms += int64(c - '0')
		}
	}
	return s*1000 + ms, true
}

// clock parses "YYYY-MM-DD HH:MM:SS[.mmm]" in a location, caching the
// hour's start (zone offsets change on hour boundaries at most).
type clock struct {
	loc     *time.Location
	hourKey [13]byte
	hourNs  int64
	valid   bool
}

func (c *clock) parse(b []byte) (int64, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	if !c.valid || !bytes.Equal(c.hourKey[:], b[:13]) {
		y, ok1 := atoi(b[0:4])
		mo, ok2 := atoi(b[5:7])
		d, ok3 := atoi(b[8:10])
		h, ok4 := atoi(b[11:13])
		if !(ok1 && ok2 && ok3 && ok4) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 {
			return 0, false
		}
		c.hourNs = time.Date(int(y), time.Month(mo), int(d), int(h), 0, 0, 0, c.loc).UnixNano()
		copy(c.hourKey[:], b[:13])
		c.valid = true
	}
	mi, ok1 := atoi(b[14:16])
	s, ok2 := atoi(b[17:19])
	if !ok1 || !ok2 || mi > 59 || s > 60 {
		return 0, false
	}
	ns := c.hourNs + (mi*60+s)*1e9
	if len(b) > 19 {
		if b[19] != '.' {
			return 0, false
		}
		ms, ok := parseMs(append([]byte("0"), b[19:]...))
		if !ok {
			return 0, false
		}
		ns += ms * 1e6
	}
	return ns, true
}
