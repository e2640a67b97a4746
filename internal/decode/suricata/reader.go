package suricata

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spot-hunt/spot/internal/decode/jsonscan"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Stats counts what a Reader read.
type Stats struct {
	Events  int64 // lines holding an event
	Records int64 // records made
	Skipped int64 // malformed lines and events skipped
	// Passed counts the events of other types, by event_type, passed
	// over (the flow decoder passes over dns events, and so on).
	Passed map[string]int64
	// QueriesLeft counts DNS queries left out (without Queries).
	QueriesLeft int64
	// Merged counts version 1 answer events folded into the record of
	// their response's first.
	Merged int64
}

// LineError is a line that could not be decoded.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads Suricata EVE JSON lines.
type Reader struct {
	// Warn, when set, is told about each malformed line.
	Warn func(*LineError)
	// Queries keeps DNS queries as query records.
	Queries bool

	lines  *ioformat.Lines
	line   int64
	eid    *record.EIDer
	stats  Stats
	ev     event
	dns    dnsEvent
	dnsBuf []byte
	m      mapper
	// v1 answers of one response come one event each: pend holds the
	// record they build until an event of another response comes.
	pend    record.DNS
	pendKey v1Key
	pending bool
	queries [256]v1Query // recent v1 queries, for their answers' name and type
}

// v1Key tells the answer events of one response apart from the next's.
type v1Key struct {
	flow             string
	id               int64
	srcPort, dstPort int64
}

type v1Query struct {
	key       v1Key
	name, typ string
}

const maxLine = 1 << 20 // a longer line is skipped

// maxPassed bounds the event types counted apart; the rest count as "other".
const maxPassed = 64

// NewReader reads EVE lines from r, named name in event ids (its base name).
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{lines: ioformat.NewLines(r, maxLine), eid: record.NewEIDer(filepath.Base(name)), stats: Stats{Passed: map[string]int64{}}}
}

// Stats counts what was read so far.
func (z *Reader) Stats() Stats { return z.stats }

// Sniff reports whether head, the first bytes of an input, begins an EVE
// log: its first line is a JSON object with event_type and timestamp.
func Sniff(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	typ, ts := false, false
	jsonscan.Object(head, func(k, _ []byte) error {
		switch string(k) {
		case "event_type":
			typ = true
		case "timestamp":
			ts = true
		}
		return nil
	})
	return typ && ts
}

// next reads the next event of a type wants takes, passing over (and
// counting) the others; its fields are valid until the following call.
func (z *Reader) next(wants func(typ []byte) bool) ([]byte, error) {
	for {
		line, long, err := z.lines.Next()
		if err != nil {
			return nil, err
		}
		z.line = z.lines.Number()
		if long {
			z.stats.Events++
			z.skip(fmt.Errorf("line longer than %d bytes", z.lines.Size()))
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		z.stats.Events++
		other, err := z.ev.parse(line, wants)
		if err != nil {
			z.skip(err)
			continue
		}
		if other {
			z.pass(z.ev.typ)
			continue
		}
		return line, nil
	}
}

func (z *Reader) skip(err error) {
	z.stats.Skipped++
	if z.Warn != nil {
		z.Warn(&LineError{Line: z.line, Err: err})
	}
}

func (z *Reader) pass(typ []byte) {
	if _, ok := z.stats.Passed[string(typ)]; ok || len(z.stats.Passed) < maxPassed {
		z.stats.Passed[string(typ)]++
		return
	}
	z.stats.Passed["other"]++
}

// ReadFlows appends the records of up to max flow and netflow events to
// dst, passing over events of other types. At the end it returns dst, io.EOF.
func (z *Reader) ReadFlows(dst []record.Flow, max int) ([]record.Flow, error) {
	return readEvents(z, dst, max, isFlow, z.m.flow)
}

// ReadProxy appends the records of up to max http events to dst.
func (z *Reader) ReadProxy(dst []record.Proxy, max int) ([]record.Proxy, error) {
	return readEvents(z, dst, max, isHTTP, z.m.http)
}

func isFlow(typ []byte) bool { return string(typ) == "flow" || string(typ) == "netflow" }
func isHTTP(typ []byte) bool { return string(typ) == "http" }
func isDNS(typ []byte) bool  { return string(typ) == "dns" }

// readEvents appends to dst the records fill makes of up to max events of the
// types wants takes.
func readEvents[T any](z *Reader, dst []T, max int, wants func([]byte) bool, fill func(*event, *T) error) ([]T, error) {
	for want := len(dst) + max; len(dst) < want; {
		line, err := z.next(wants)
		if err != nil {
			return dst, err
		}
		var zero T
		dst = append(dst, zero)
		if err := fill(&z.ev, &dst[len(dst)-1]); err != nil {
			dst = dst[:len(dst)-1]
			z.skip(err)
			continue
		}
		setEID(&dst[len(dst)-1], z.eid.EID(z.line, line))
		z.stats.Records++
	}
	return dst, nil
}

func setEID(r any, eid int64) {
	switch r := r.(type) {
	case *record.Flow:
		r.EID = eid
	case *record.Proxy:
		r.EID = eid
	}
}

// ReadDNS appends the records of up to max dns events to dst: one per
// response (version 1's answer events of one response make one record),
// and, with Queries, one per query.
func (z *Reader) ReadDNS(dst []record.DNS, max int) ([]record.DNS, error) {
	for want := len(dst) + max; len(dst) < want; {
		line, err := z.next(isDNS)
		if err == io.EOF && z.pending {
			dst = append(dst, z.pend)
			z.pending = false
			z.stats.Records++
		}
		if err != nil {
			return dst, err
		}
		d := &z.dns
		if err := d.read(z.ev.dns, &z.dnsBuf); err != nil {
			z.skip(err)
			continue
		}
		resp, err := d.response()
		if err != nil {
			z.skip(err)
			continue
		}
		key := v1Key{flow: string(z.ev.flowID), id: d.id, srcPort: z.ev.srcPort, dstPort: z.ev.destPort}
		v1 := d.version < 2 && len(d.answers) == 0 && len(d.grouped) == 0
		if !resp && v1 {
			z.queries[uint8(d.id)] = v1Query{key: key, name: string(d.rrname), typ: string(d.rrtype)}
		}
		if v1 && resp && z.pending && key == z.pendKey {
			// another answer record of the pending response
			z.m.addAnswer(&z.pend, d.rrtype, d.rdata, d.ttl, d.hasTTL)
			z.stats.Merged++
			continue
		}
		var r record.DNS
		if err := z.m.dns(&z.ev, d, &r); err != nil {
			z.skip(err)
			continue
		}
		r.EID = z.eid.EID(z.line, line)
		if z.pending {
			dst = append(dst, z.pend)
			z.pending = false
			z.stats.Records++
		}
		switch {
		case !resp && !z.Queries:
			z.stats.QueriesLeft++
		case v1 && resp:
			// the query this answers, when it was seen, names it
			if q := z.queries[uint8(d.id)]; q.key.flow == key.flow && q.key.id == key.id &&
				(q.key.srcPort == key.srcPort && q.key.dstPort == key.dstPort || q.key.srcPort == key.dstPort && q.key.dstPort == key.srcPort) {
				r.QryName = q.name
				if t, ok := code(rrtypes, []byte(q.typ)); ok {
					r.QryType = t
				}
			}
			z.pend, z.pendKey, z.pending = r, key, true
		default:
			dst = append(dst, r)
			z.stats.Records++
		}
	}
	return dst, nil
}
