package zeek

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spot-hunt/spot/internal/decode/jsonscan"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Kind is the kind of log a row belongs to.
type Kind int

// The logs the decoders read; Other is any other log (ssl, files, ...).
const (
	Other Kind = iota
	Conn
	DNS
	HTTP
)

func (k Kind) String() string {
	switch k {
	case Conn:
		return "conn"
	case DNS:
		return "dns"
	case HTTP:
		return "http"
	}
	return "other"
}

// The columns read, by their names in Zeek's logs.
const (
	cTs = iota
	cOrigH
	cOrigP
	cRespH
	cRespP
	cProto
	cDuration
	cOrigPkts
	cOrigIPBytes
	cRespPkts
	cRespIPBytes
	cHistory
	cIPProto
	cConnState
	cTransID
	cQuery
	cQClass
	cQType
	cRcode
	cAnswers
	cTTLs
	cTransDepth
	cMethod
	cHost
	cURI
	cReferrer
	cUserAgent
	cReqBodyLen
	cRespBodyLen
	cStatusCode
	cRespMIME
	cUsername
	cPath // _path, in JSON logs that several logs share
	nCols
)

var colNames = [nCols]string{
	cTs: "ts", cOrigH: "id.orig_h", cOrigP: "id.orig_p", cRespH: "id.resp_h", cRespP: "id.resp_p",
	cProto: "proto", cDuration: "duration", cOrigPkts: "orig_pkts", cOrigIPBytes: "orig_ip_bytes",
	cRespPkts: "resp_pkts", cRespIPBytes: "resp_ip_bytes", cHistory: "history", cIPProto: "ip_proto",
	cConnState: "conn_state", cTransID: "trans_id", cQuery: "query", cQClass: "qclass", cQType: "qtype",
	cRcode: "rcode", cAnswers: "answers", cTTLs: "TTLs", cTransDepth: "trans_depth", cMethod: "method",
	cHost: "host", cURI: "uri", cReferrer: "referrer", cUserAgent: "user_agent",
	cReqBodyLen: "request_body_len", cRespBodyLen: "response_body_len", cStatusCode: "status_code",
	cRespMIME: "resp_mime_types", cUsername: "username", cPath: "_path",
}

var colByName = func() map[string]int {
	m := make(map[string]int, nCols)
	for i, n := range colNames {
		m[n] = i
	}
	return m
}()

// kindOf tells a log's kind from its path (#path, or _path in JSON) or,
// failing that, from columns only its kind has.
func kindOf(path string, has func(col int) bool) Kind {
	switch {
	case path == "conn" || strings.HasPrefix(path, "conn_") || strings.HasPrefix(path, "conn-"):
		return Conn
	case path == "dns" || strings.HasPrefix(path, "dns_") || strings.HasPrefix(path, "dns-"):
		return DNS
	case path == "http" || strings.HasPrefix(path, "http_") || strings.HasPrefix(path, "http-"):
		return HTTP
	case path != "":
		return Other
	case has(cConnState) || has(cHistory) || has(cOrigPkts):
		return Conn
	case has(cTransID) || has(cQType) || has(cQuery):
		return DNS
	case has(cTransDepth) || has(cMethod) || has(cStatusCode):
		return HTTP
	}
	return Other
}

// Stats counts what a Reader read.
type Stats struct {
	Rows    int64 // data rows (TSV lines and JSON objects) read
	Records int64 // records made
	Skipped int64 // malformed rows skipped
	// Passed counts rows of other kinds of logs, passed over, and (dns)
	// rows of queries that had no response, left out without Queries.
	Passed       map[Kind]int64
	QueriesLeft  int64
	HeaderErrors int64
}

// RowError is a row (or header line) that could not be decoded.
type RowError struct {
	Line int64
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// Reader reads the rows of Zeek logs, in either of Zeek's writers' formats
// (TSV with its # headers, or JSON lines), concatenated logs included.
type Reader struct {
	// Warn, when set, is told about each malformed row or header line.
	Warn func(*RowError)
	// Queries keeps dns rows that saw no response, as query records.
	Queries bool

	lines  *ioformat.Lines
	line   int64
	eid    *record.EIDer
	stats  Stats
	tsv    tsvFormat
	row    row
	scan   []byte // unescaped text of JSON values and TSV fields
	m      mapper
	passed map[Kind]int64
}

const maxLine = 1 << 20 // a longer line is skipped

// NewReader reads Zeek logs from r, named name in event ids (its base name).
func NewReader(r io.Reader, name string) *Reader {
	z := &Reader{lines: ioformat.NewLines(r, maxLine), eid: record.NewEIDer(filepath.Base(name)), passed: map[Kind]int64{}}
	z.tsv.reset()
	z.m.init()
	return z
}

// Stats counts what was read so far.
func (z *Reader) Stats() Stats {
	s := z.stats
	s.Passed = z.passed
	return s
}

// Sniff reports whether head, the first bytes of an input, begins a Zeek
// log: a TSV header line (#separator) among its first lines, or a JSON
// object with the keys of Zeek's connection id (id.orig_h) and a uid.
func Sniff(head []byte) bool {
	for i := 0; i < 8 && len(head) > 0; i++ {
		line := head
		if j := bytes.IndexByte(head, '\n'); j >= 0 {
			line, head = head[:j], head[j+1:]
		} else {
			head = nil
		}
		line = bytes.TrimLeft(line, " \t")
		switch {
		case bytes.HasPrefix(line, []byte("#separator")):
			return true
		case len(line) > 0 && line[0] == '{':
			uid, orig := false, false
			jsonscan.Object(line, func(k, v []byte) error {
				switch string(k) {
				case "uid":
					uid = true
				case "id.orig_h":
					orig = true
				case "id":
					jsonscan.Object(v, func(k, _ []byte) error {
						orig = orig || string(k) == "orig_h"
						return nil
					})
				}
				return nil
			})
			return uid && orig
		case len(line) == 0 || line[0] == '#':
			continue // btest's comment line, blank lines
		default:
			return false
		}
	}
	return false
}

// next reads lines up to the next data row, following the TSV headers on
// the way; the row's text is valid until the following call.
func (z *Reader) next() (*row, []byte, error) {
	for {
		line, long, err := z.lines.Next()
		if err != nil {
			return nil, nil, err
		}
		z.line = z.lines.Number()
		if long {
			z.stats.Rows++
			z.skip(fmt.Errorf("line longer than %d bytes", z.lines.Size()))
			continue
		}
		trimmed := bytes.TrimLeft(line, " \t")
		switch {
		case len(trimmed) == 0:
			continue
		case trimmed[0] == '#':
			if err := z.tsv.header(trimmed); err != nil {
				z.stats.HeaderErrors++
				z.skip(err)
			}
			continue
		case trimmed[0] == '{':
			z.stats.Rows++
			if err := z.row.fromJSON(trimmed, &z.scan); err != nil {
				z.skip(err)
				continue
			}
			return &z.row, trimmed, nil
		}
		z.stats.Rows++
		if err := z.row.fromTSV(line, &z.tsv, &z.scan); err != nil {
			z.skip(err)
			continue
		}
		return &z.row, line, nil
	}
}

func (z *Reader) skip(err error) {
	z.stats.Skipped++
	if z.Warn != nil {
		z.Warn(&RowError{Line: z.line, Err: err})
	}
}

// errNoHeader is a TSV row with no #fields header before it.
var errNoHeader = errors.New("a TSV row before any #fields header: its columns are unknown")

// ReadFlows appends the records of up to max conn rows to dst, passing
// over rows of other logs. At the end it returns dst, io.EOF.
func (z *Reader) ReadFlows(dst []record.Flow, max int) ([]record.Flow, error) {
	for want := len(dst) + max; len(dst) < want; {
		r, line, err := z.next()
		if err != nil {
			return dst, err
		}
		if k := r.kind(); k != Conn {
			z.passed[k]++
			continue
		}
		dst = append(dst, record.Flow{})
		if err := z.m.conn(r, &dst[len(dst)-1]); err != nil {
			dst = dst[:len(dst)-1]
			z.skip(err)
			continue
		}
		dst[len(dst)-1].EID = z.eid.EID(z.line, line)
		z.stats.Records++
	}
	return dst, nil
}

// ReadDNS appends the records of up to max dns rows to dst: a response
// record for each row that saw a response, and, with Queries, a query
// record for each that did not.
func (z *Reader) ReadDNS(dst []record.DNS, max int) ([]record.DNS, error) {
	for want := len(dst) + max; len(dst) < want; {
		r, line, err := z.next()
		if err != nil {
			return dst, err
		}
		if k := r.kind(); k != DNS {
			z.passed[k]++
			continue
		}
		if !r.has[cRcode] && !r.has[cAnswers] && !z.Queries {
			if _, err := r.time(cTs); err != nil {
				z.skip(err)
			} else {
				z.stats.QueriesLeft++
			}
			continue
		}
		dst = append(dst, record.DNS{})
		if err := z.m.dns(r, &dst[len(dst)-1]); err != nil {
			dst = dst[:len(dst)-1]
			z.skip(err)
			continue
		}
		dst[len(dst)-1].EID = z.eid.EID(z.line, line)
		z.stats.Records++
	}
	return dst, nil
}

// ReadProxy appends the records of up to max http rows to dst.
func (z *Reader) ReadProxy(dst []record.Proxy, max int) ([]record.Proxy, error) {
	for want := len(dst) + max; len(dst) < want; {
		r, line, err := z.next()
		if err != nil {
			return dst, err
		}
		if k := r.kind(); k != HTTP {
			z.passed[k]++
			continue
		}
		dst = append(dst, record.Proxy{})
		if err := z.m.http(r, &dst[len(dst)-1]); err != nil {
			dst = dst[:len(dst)-1]
			z.skip(err)
			continue
		}
		dst[len(dst)-1].EID = z.eid.EID(z.line, line)
		z.stats.Records++
	}
	return dst, nil
}
