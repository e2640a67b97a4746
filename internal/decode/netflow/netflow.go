// Package netflow decodes NetFlow v5, NetFlow v9 and IPFIX export packets
// into flow records.
//
// Templates are cached per session: exporter address, version and
// observation domain (v9: source id). Data sets that arrive before their
// template are held, bounded in count and bytes, and decoded when the
// template comes; what is still held at the end is counted as dropped. Set
// padding (softflowd fills it with stray bytes) is ignored: a data set is
// read record by record while a whole record fits. Options data is read only
// for the sampling interval and the exporter's boot time; options, variable
// length and enterprise fields are otherwise skipped.
//
// The decoder is written here rather than taken from goflow2's decoders: its
// data path boxes every field value in an interface (an allocation per field),
// reads the v9 header count as a count of flow sets, and loops forever on a
// data set whose template has no fields. See DESIGN.md.
package netflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

// Limits bound what an exporter can make the decoder hold.
type Limits struct {
	Sessions            int // exporter/version/domain triples with templates
	TemplatesPerSession int
	PendingSets         int // data sets held for a template, in all
	PendingBytes        int
	TemplateBytes       int // memory of all templates held (a flood of large templates is refused)
}

// DefaultLimits are generous for real exporters and small enough that a
// flood of templates or unknown data cannot exhaust memory.
var DefaultLimits = Limits{Sessions: 4096, TemplatesPerSession: 1024, PendingSets: 4096, PendingBytes: 16 << 20, TemplateBytes: 64 << 20}

// Stats counts what the decoder saw.
type Stats struct {
	Packets         int64 // export packets decoded (whole or in part)
	Malformed       int64 // packets with a malformed header or set (their good part is kept)
	Records         int64 // flow records produced
	OptionRecords   int64 // options data records read (not flows)
	Templates       int64 // template records accepted
	TemplatesCapped int64 // template records refused by Limits
	Pending         int64 // data sets held for a template that had not come
	DroppedSets     int64 // held data sets dropped (limits, or never got a template)
	Unsupported     int64 // packets of other versions
}

// Decoder decodes export packets. It is not safe for concurrent use.
type Decoder struct {
	Limits Limits
	Stats  Stats
	// Source names the input in event ids (the file's base name).
	Source string

	sessions     map[sessionKey]*session
	pending      []pendingSet
	pendingBytes int
	tmplBytes    int
	times        flowrec.Times
	addrs        flowrec.Addrs
	position     int64
	eid          *record.EIDer
	rip          string
	ripAddr      netip.Addr
	generic      bool // tests: read every template field by field
}

type sessionKey struct {
	exporter netip.Addr
	version  uint16
	domain   uint32
}

type session struct {
	templates map[uint16]*template
	sampling  uint32 // last sampling interval an options record stated
	sysInitMs int64  // IPFIX systemInitTimeMilliseconds, when stated
}

type pendingSet struct {
	key  sessionKey
	id   uint16
	hdr  header
	data []byte
}

// header is what a data set's decoding needs from its packet's header.
type header struct {
	version   uint16
	unixSecs  uint32 // v9 unix_secs; IPFIX export time
	sysUptime uint32 // v9
}

// New returns a decoder with the default limits.
func New(source string) *Decoder {
	return &Decoder{Limits: DefaultLimits, Source: source, sessions: map[sessionKey]*session{}}
}

// Errors.
var (
	ErrShort   = errors.New("packet too short")
	ErrVersion = errors.New("not a NetFlow v5/v9 or IPFIX packet")
)

// Decode decodes one export packet sent by exporter (invalid if unknown),
// appending its flow records to out. A malformed packet returns an error
// together with the records of its well-formed part.
func (d *Decoder) Decode(exporter netip.Addr, pkt []byte, out []record.Flow) ([]record.Flow, error) {
	if len(pkt) < 4 {
		d.Stats.Malformed++
		return out, ErrShort
	}
	if exporter != d.ripAddr { // rip is ripAddr's text ("" for the zero Addr)
		d.ripAddr = exporter
		d.rip = d.addrs.Addr(exporter)
	}
	var err error
	switch v := binary.BigEndian.Uint16(pkt); v {
	case 5:
		out, err = d.decodeV5(pkt, out)
	case 9:
		out, err = d.decodeV9(exporter, pkt, out)
	case 10:
		out, err = d.decodeIPFIX(exporter, pkt, out)
	default:
		d.Stats.Unsupported++
		return out, fmt.Errorf("%w (version %d)", ErrVersion, v)
	}
	d.Stats.Packets++
	if err != nil {
		d.Stats.Malformed++
	}
	return out, err
}

// StartInput names the next input (for event ids) and restarts the record
// numbering; templates and held data carry over.
func (d *Decoder) StartInput(source string) {
	d.Source = source
	d.position = 0
	d.eid = nil
}

// Flush gives up on data held for templates that never came and returns how
// many sets that was (also counted in Stats.DroppedSets).
func (d *Decoder) Flush() int {
	n := len(d.pending)
	d.Stats.DroppedSets += int64(n)
	d.pending = d.pending[:0]
	d.pendingBytes = 0
	return n
}

// PacketLen returns the length of the export packet at the start of b, for
// files that hold several datagrams back to back: v5 from its count, IPFIX
// from its length, v9 by walking its sets to the next v9 header or the end.
func PacketLen(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, ErrShort
	}
	switch binary.BigEndian.Uint16(b) {
	case 5:
		n := 24 + 48*int(binary.BigEndian.Uint16(b[2:]))
		if n > len(b) {
			return len(b), ErrShort
		}
		return n, nil
	case 10:
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 16 || n > len(b) {
			return len(b), ErrShort
		}
		return n, nil
	case 9:
		off := 20
		for off+4 <= len(b) {
			id := binary.BigEndian.Uint16(b[off:])
			l := int(binary.BigEndian.Uint16(b[off+2:]))
			if id == 9 { // set ids 2-255 are reserved: a new packet starts here
				return off, nil
			}
			if l < 4 {
				return len(b), nil
			}
			off += l // (a set past the end ends the loop: the rest is this packet)
		}
		return len(b), nil
	}
	return len(b), ErrVersion
}

func (d *Decoder) session(k sessionKey, create bool) *session {
	s := d.sessions[k]
	if s == nil && create {
		if len(d.sessions) >= d.Limits.Sessions {
			return nil
		}
		s = &session{templates: map[uint16]*template{}}
		d.sessions[k] = s
	}
	return s
}

func (d *Decoder) hold(k sessionKey, id uint16, h header, data []byte) {
	if len(data) == 0 {
		return
	}
	d.Stats.Pending++
	for len(d.pending) > 0 && (len(d.pending) >= d.Limits.PendingSets || d.pendingBytes+len(data) > d.Limits.PendingBytes) {
		d.pendingBytes -= len(d.pending[0].data)
		d.pending = d.pending[1:]
		d.Stats.DroppedSets++
	}
	if len(data) > d.Limits.PendingBytes {
		d.Stats.DroppedSets++
		return
	}
	d.pending = append(d.pending, pendingSet{key: k, id: id, hdr: h, data: append([]byte(nil), data...)})
	d.pendingBytes += len(data)
}

// release decodes the held sets that template t of session k was missing.
func (d *Decoder) release(k sessionKey, s *session, t *template, out []record.Flow) []record.Flow {
	if len(d.pending) == 0 {
		return out
	}
	kept := d.pending[:0]
	for _, p := range d.pending {
		if p.key == k && p.id == t.id {
			d.pendingBytes -= len(p.data)
			out = d.dataSet(s, t, p.hdr, p.data, out)
			continue
		}
		kept = append(kept, p)
	}
	clear(d.pending[len(kept):])
	d.pending = kept
	return out
}

// decodeV5 decodes a NetFlow v5 packet: a 24-byte header and count 48-byte
// records; times are milliseconds of the exporter's uptime.
func (d *Decoder) decodeV5(p []byte, out []record.Flow) ([]record.Flow, error) {
	if len(p) < 24 {
		return out, ErrShort
	}
	count := int(binary.BigEndian.Uint16(p[2:]))
	uptime := int64(binary.BigEndian.Uint32(p[4:]))
	secs := int64(binary.BigEndian.Uint32(p[8:]))
	nsecs := int64(binary.BigEndian.Uint32(p[12:]))
	sampling := binary.BigEndian.Uint16(p[22:]) & 0x3fff
	boot := secs*1000 + nsecs/1e6 - uptime // ms, as nfdump computes it
	if count == 0 || count > 30 || 24+48*count > len(p) {
		// As nfdump: a count the packet cannot hold (or more than v5's 30
		// records) means the header is not to be trusted, nor its records.
		return out, fmt.Errorf("v5: count %d needs %d bytes, packet has %d", count, 24+48*count, len(p))
	}
	var err error
	for i := 0; i < count; i++ {
		r := p[24+48*i : 24+48*(i+1)]
		d.position++
		out = append(out, record.Flow{})
		f := &out[len(out)-1]
		f.SIP = d.addrs.V4(binary.BigEndian.Uint32(r[0:]))
		f.DIP = d.addrs.V4(binary.BigEndian.Uint32(r[4:]))
		f.Input = int32(binary.BigEndian.Uint16(r[12:]))
		f.Output = int32(binary.BigEndian.Uint16(r[14:]))
		f.IPkt = int64(binary.BigEndian.Uint32(r[16:]))
		f.IByt = int64(binary.BigEndian.Uint32(r[20:]))
		first := int64(binary.BigEndian.Uint32(r[24:]))
		last := int64(binary.BigEndian.Uint32(r[28:]))
		f.SPort = int32(binary.BigEndian.Uint16(r[32:]))
		f.DPort = int32(binary.BigEndian.Uint16(r[34:]))
		f.Flag = flowrec.Flags(r[37])
		f.Proto = flowrec.ProtoName(r[38])
		f.STos = int32(r[39])
		f.SAS = int32(binary.BigEndian.Uint16(r[40:]))
		f.DAS = int32(binary.BigEndian.Uint16(r[42:]))
		start := boot + first
		if first > last { // uptime wrapped between first and last
			start -= 1 << 32
		}
		d.times.Set(f, start*1e6, (boot+last)*1e6)
		f.Sampling = int32(sampling)
		d.finish(f, "netflow5", r)
	}
	return out, err
}

func (d *Decoder) finish(f *record.Flow, source string, raw []byte) {
	f.RIP = d.rip
	f.Source = source
	if d.eid == nil {
		d.eid = record.NewEIDer(d.Source)
	}
	f.EID = d.eid.EID(d.position, raw)
	d.Stats.Records++
}

func (d *Decoder) decodeV9(exporter netip.Addr, p []byte, out []record.Flow) ([]record.Flow, error) {
	if len(p) < 20 {
		return out, ErrShort
	}
	h := header{version: 9, sysUptime: binary.BigEndian.Uint32(p[4:]), unixSecs: binary.BigEndian.Uint32(p[8:])}
	k := sessionKey{exporter, 9, binary.BigEndian.Uint32(p[16:])}
	return d.sets(k, h, p[20:], out)
}

func (d *Decoder) decodeIPFIX(exporter netip.Addr, p []byte, out []record.Flow) ([]record.Flow, error) {
	if len(p) < 16 {
		return out, ErrShort
	}
	var err error
	switch n := int(binary.BigEndian.Uint16(p[2:])); {
	case n < 16:
		return out, fmt.Errorf("ipfix: message length %d", n)
	case n > len(p):
		err = fmt.Errorf("ipfix: message length %d, datagram %d", n, len(p))
	default:
		p = p[:n] // bytes past the message are not its
	}
	h := header{version: 10, unixSecs: binary.BigEndian.Uint32(p[4:])}
	k := sessionKey{exporter, 10, binary.BigEndian.Uint32(p[12:])}
	out, serr := d.sets(k, h, p[16:], out)
	if serr != nil {
		err = serr
	}
	return out, err
}

// sets walks the flow sets of a v9 or IPFIX packet body. The v9 header's
// count is not trusted (exporters disagree on what it counts): the body is
// read to its end. Trailing bytes that cannot hold a set, or are all zero,
// are padding.
func (d *Decoder) sets(k sessionKey, h header, b []byte, out []record.Flow) ([]record.Flow, error) {
	tmplID, optID := uint16(0), uint16(1)
	if h.version == 10 {
		tmplID, optID = 2, 3
	}
	for len(b) >= 4 {
		id := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 4 || l > len(b) {
			if allZero(b) {
				return out, nil
			}
			return out, fmt.Errorf("v%d: set %d length %d, %d bytes left", h.version, id, l, len(b))
		}
		body := b[4:l]
		b = b[l:]
		switch {
		case id == tmplID:
			var err error
			out, err = d.templateSet(k, body, false, out)
			if err != nil {
				return out, err
			}
		case id == optID:
			var err error
			out, err = d.templateSet(k, body, true, out)
			if err != nil {
				return out, err
			}
		case id >= 256:
			s := d.session(k, false)
			var t *template
			if s != nil {
				t = s.templates[id]
			}
			if t == nil {
				d.hold(k, id, h, body)
				continue
			}
			out = d.dataSet(s, t, h, body, out)
		default:
			return out, fmt.Errorf("v%d: reserved set id %d", h.version, id)
		}
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
