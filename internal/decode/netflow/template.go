package netflow

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

const varLen = 0xffff

// action says what a field fills.
type action uint8

const (
	aSkip action = iota
	aInBytes
	aInPkts
	aOutBytes
	aOutPkts
	aTotBytes
	aTotPkts
	aProto
	aTos
	aDTos
	aFlags
	aSPort
	aDPort
	aSrc4
	aDst4
	aSrc6
	aDst6
	aInput
	aOutput
	aSAS
	aDAS
	aFirstUp // ms of sysUpTime
	aLastUp
	aStartSec
	aEndSec
	aStartMs
	aEndMs
	aStartNTP // dateTimeMicroseconds / dateTimeNanoseconds: NTP format
	aEndNTP
	aStartDeltaUs // µs before the export time
	aEndDeltaUs
	aICMPTypeCode
	aICMPType
	aICMPCode
	aDir
	aFwd
	aSampling
	aSysInit
	aInitBytes // initiatorOctets (Cisco ASA's fwd_flow_delta_bytes)
	aRespBytes
	aInitPkts
	aRespPkts
)

// ieAction maps IANA information element ids (the same numbers as NetFlow
// v9's field types up to 127) to actions.
var ieAction = map[uint16]action{
	1: aInBytes, 2: aInPkts, 23: aOutBytes, 24: aOutPkts, 85: aTotBytes, 86: aTotPkts,
	4: aProto, 5: aTos, 55: aDTos, 6: aFlags, 7: aSPort, 11: aDPort,
	8: aSrc4, 12: aDst4, 27: aSrc6, 28: aDst6, 10: aInput, 14: aOutput,
	16: aSAS, 17: aDAS, 22: aFirstUp, 21: aLastUp,
	150: aStartSec, 151: aEndSec, 152: aStartMs, 153: aEndMs,
	154: aStartNTP, 155: aEndNTP, 156: aStartNTP, 157: aEndNTP,
	158: aStartDeltaUs, 159: aEndDeltaUs,
	32: aICMPTypeCode, 139: aICMPTypeCode, 176: aICMPType, 177: aICMPCode, 178: aICMPType, 179: aICMPCode,
	61: aDir, 89: aFwd, 34: aSampling, 50: aSampling, 305: aSampling, 160: aSysInit,
	231: aInitBytes, 232: aRespBytes, 298: aInitPkts, 299: aRespPkts,
}

// penReverse is RFC 5103's enterprise number for reverse (biflow) elements.
const penReverse = 29305

type field struct {
	length uint16 // varLen: variable
	act    action
}

type template struct {
	id      uint16
	fields  []field
	fixed   []fixedField // the fields that fill something, when fixedLayout allows
	plain   fixedPlain   // fixed's plain numbers of 1, 2, 4 and 8 bytes, by length
	minSize int          // bytes of a record with every variable field empty
	options bool
	raw     []byte
	size    int // bytes held, for Limits.TemplateBytes
}

// templateSet reads a (v9 or IPFIX) template or options template set and
// releases data held for the templates it defines.
func (d *Decoder) templateSet(k sessionKey, b []byte, options bool, out []record.Flow) ([]record.Flow, error) {
	ipfix := k.version == 10
	for len(b) >= 4 {
		start := b
		id := binary.BigEndian.Uint16(b)
		var nScope, nFields int
		var hdr int
		switch {
		case !options:
			nFields = int(binary.BigEndian.Uint16(b[2:]))
			hdr = 4
		case ipfix:
			if len(b) < 6 {
				return out, nil // padding
			}
			nFields = int(binary.BigEndian.Uint16(b[2:]))
			nScope = int(binary.BigEndian.Uint16(b[4:]))
			hdr = 6
		default: // v9 options: byte lengths of the scope and option fields
			if len(b) < 6 {
				return out, nil
			}
			sl, ol := int(binary.BigEndian.Uint16(b[2:])), int(binary.BigEndian.Uint16(b[4:]))
			nScope, nFields = sl/4, sl/4+ol/4
			hdr = 6
		}
		if id < 256 {
			if ipfix && !options && nFields == 0 && id == 2 { // withdraw all
				if s := d.session(k, false); s != nil {
					for _, t := range s.templates {
						d.tmplBytes -= t.size
					}
					clear(s.templates)
				}
				b = b[4:]
				continue
			}
			return out, nil // padding (or junk in it)
		}
		if s := d.session(k, false); s != nil {
			if old := s.templates[id]; old != nil && old.options == options && bytes.HasPrefix(start, old.raw) {
				b = start[len(old.raw):]
				continue // the periodic resend of a template we have: its bytes tell the same
			}
		}
		b = b[hdr:]
		if nScope > nFields {
			return out, fmt.Errorf("template %d: %d scope fields of %d", id, nScope, nFields)
		}
		if nFields == 0 {
			if s := d.session(k, false); s != nil { // IPFIX template withdrawal
				if t := s.templates[id]; t != nil {
					d.tmplBytes -= t.size
					delete(s.templates, id)
				}
			}
			continue
		}
		fields := make([]field, 0, nFields)
		minSize := 0
		for i := 0; i < nFields; i++ {
			if len(b) < 4 {
				return out, fmt.Errorf("template %d: field %d of %d runs past its set", id, i+1, nFields)
			}
			typ := binary.BigEndian.Uint16(b)
			length := binary.BigEndian.Uint16(b[2:])
			b = b[4:]
			var pen uint32
			if ipfix && typ&0x8000 != 0 {
				if len(b) < 4 {
					return out, fmt.Errorf("template %d: enterprise field %d runs past its set", id, i+1)
				}
				typ &^= 0x8000
				pen = binary.BigEndian.Uint32(b)
				b = b[4:]
			}
			f := field{length: length}
			switch {
			case pen == 0:
				f.act = ieAction[typ]
			case pen == penReverse && (typ == 1 || typ == 2):
				f.act = aOutBytes
				if typ == 2 {
					f.act = aOutPkts
				}
			}
			if options && f.act != aSampling && f.act != aSysInit {
				f.act = aSkip
			}
			if length == varLen {
				minSize++
			} else {
				minSize += int(length)
			}
			if !fitsAction(f.act, length) {
				f.act = aSkip
			}
			fields = append(fields, f)
		}
		raw := start[:len(start)-len(b)]
		s := d.session(k, true)
		if s == nil {
			d.Stats.TemplatesCapped++
			continue
		}
		size := len(raw) + len(fields)*4 + 64
		held := d.tmplBytes
		old := s.templates[id]
		if old != nil {
			held -= old.size // a redefinition replaces it
		}
		if old == nil && len(s.templates) >= d.Limits.TemplatesPerSession ||
			d.Limits.TemplateBytes > 0 && held+size > d.Limits.TemplateBytes {
			d.Stats.TemplatesCapped++
			if old != nil { // its data no longer fits the old layout: hold it
				d.tmplBytes = held
				delete(s.templates, id)
			}
			continue
		}
		d.tmplBytes = held
		t := &template{id: id, fields: fields, minSize: minSize, options: options, raw: append([]byte(nil), raw...), size: size}
		if !d.generic {
			t.fixed = fixedLayout(fields)
			t.plain = plainByLength(t.fixed)
		}
		d.tmplBytes += size
		s.templates[id] = t
		d.Stats.Templates++
		out = d.release(k, s, t, out)
	}
	return out, nil
}

// fitsAction reports whether a field of this length can carry the action's
// value (reduced-size encoding is allowed for numbers).
func fitsAction(a action, length uint16) bool {
	switch a {
	case aSkip:
		return true
	case aSrc4, aDst4:
		return length == 4
	case aSrc6, aDst6:
		return length == 16
	case aStartNTP, aEndNTP:
		return length == 8
	}
	return length >= 1 && length <= 8
}

// be reads a big-endian unsigned number of 1 to 8 bytes.
func be(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// ntpEpoch is the NTP era's start, 1900-01-01, in seconds before the Unix epoch.
const ntpEpoch = 2208988800

// values are what a data record's fields say: plain numbers by action,
// and the values whose fields combine.
type values struct {
	num              [aRespPkts + 1]uint64 // plain numbers (see plain)
	given            uint64                // bit a: action a's number was given
	src, dst         string
	startMs, endMs   int64
	haveAbs, haveEnd bool
	icmp             uint16
	haveICMP         bool
}

// plain reports whether action a stores its field's number as it is, in
// values.num: all but addresses, ICMP type and code, and absolute times.
func plain(a action) bool {
	switch a {
	case aSkip, aSrc4, aDst4, aSrc6, aDst6, aICMPTypeCode, aICMPType, aICMPCode,
		aStartSec, aEndSec, aStartMs, aEndMs, aStartNTP, aEndNTP, aStartDeltaUs, aEndDeltaUs:
		return false
	}
	return true
}

func (x *values) has(a action) bool { return x.given&(1<<a) != 0 }

// values.given is a bit set of actions: there must be fewer than 64.
var _ [64 - aRespPkts - 1]struct{}

// set stores one field's value v.
func (d *Decoder) set(x *values, a action, v []byte, h header) {
	switch a {
	case aSkip:
	// A template may carry both IPv4 and IPv6 addresses, the unused
	// ones zero: a zero address does not replace one already set.
	case aSrc4:
		if a := binary.BigEndian.Uint32(v); a != 0 || x.src == "" {
			x.src = d.addrs.V4(a)
		}
	case aDst4:
		if a := binary.BigEndian.Uint32(v); a != 0 || x.dst == "" {
			x.dst = d.addrs.V4(a)
		}
	case aSrc6:
		if x.src == "" || !allZero(v) {
			x.src = d.addrs.V6(v)
		}
	case aDst6:
		if x.dst == "" || !allZero(v) {
			x.dst = d.addrs.V6(v)
		}
	case aStartSec:
		x.startMs, x.haveAbs = int64(be(v))*1000, true
	case aEndSec:
		x.endMs, x.haveEnd = int64(be(v))*1000, true
	case aStartMs:
		x.startMs, x.haveAbs = int64(be(v)), true
	case aEndMs:
		x.endMs, x.haveEnd = int64(be(v)), true
	case aStartNTP:
		x.startMs, x.haveAbs = ntpMs(v), true
	case aEndNTP:
		x.endMs, x.haveEnd = ntpMs(v), true
	case aStartDeltaUs:
		x.startMs, x.haveAbs = int64(h.unixSecs)*1000-int64(be(v))/1000, true
	case aEndDeltaUs:
		x.endMs, x.haveEnd = int64(h.unixSecs)*1000-int64(be(v))/1000, true
	case aICMPTypeCode:
		x.icmp, x.haveICMP = uint16(be(v)), true
	case aICMPType:
		x.icmp, x.haveICMP = x.icmp&0xff|uint16(be(v))<<8, true
	case aICMPCode:
		x.icmp, x.haveICMP = x.icmp&0xff00|uint16(be(v))&0xff, true
	default:
		x.num[a], x.given = be(v), x.given|1<<a
	}
}

// fixedField is a field at a fixed offset of every record of its template.
type fixedField struct {
	act action
	how uint8 // howPlain (plain(act)), one of the other hows, or howSet
	off uint16
	n   uint16
}

// How the fixed path stores a field.
const (
	howSet uint8 = iota
	howPlain
	howSrc4
	howDst4
	howStartMs
	howEndMs
)

// fixedLayout lists, for a template of fixed-length fields where the order
// of the fields cannot change the result, the fields that fill something,
// in the order of set's cases: a record is read with no per-field dispatch
// on lengths (nil: the template does not qualify).
func fixedLayout(fields []field) []fixedField {
	var at [aRespPkts + 1]int
	for i := range at {
		at[i] = -1
	}
	off := 0
	var out []fixedField
	for _, f := range fields {
		if f.length == varLen {
			return nil
		}
		if f.act != aSkip {
			if at[f.act] >= 0 {
				return nil // a value given twice: the last wins, in template order
			}
			at[f.act] = len(out)
			how := howSet
			switch {
			case plain(f.act):
				how = howPlain
			case f.act == aSrc4: // 4 bytes (fitsAction)
				how = howSrc4
			case f.act == aDst4:
				how = howDst4
			case f.act == aStartMs:
				how = howStartMs
			case f.act == aEndMs:
				how = howEndMs
			}
			out = append(out, fixedField{f.act, how, uint16(off), f.length})
		}
		off += int(f.length)
	}
	has := func(as ...action) int {
		n := 0
		for _, a := range as {
			if at[a] >= 0 {
				n++
			}
		}
		return n
	}
	if has(aSrc4, aSrc6) > 1 || has(aDst4, aDst6) > 1 ||
		has(aStartSec, aStartMs, aStartNTP, aStartDeltaUs) > 1 || has(aEndSec, aEndMs, aEndNTP, aEndDeltaUs) > 1 ||
		has(aICMPTypeCode) > 0 && has(aICMPType, aICMPCode) > 0 {
		return nil // values that depend on which field comes first
	}
	return out
}

// fixedPlain holds a fixed layout's plain numbers of 1, 2, 4 and 8 bytes
// by length, each then read with one load and no branch on its length (a
// branch per field mispredicted often); the other fields are in rest.
type fixedPlain struct {
	n1, n2, n4, n8 []fixedField
	rest           []fixedField
	given          uint64 // the bits of the numbers read by length
}

func plainByLength(fixed []fixedField) fixedPlain {
	var p fixedPlain
	for _, f := range fixed {
		if f.how != howPlain {
			p.rest = append(p.rest, f)
			continue
		}
		switch f.n {
		case 1:
			p.n1 = append(p.n1, f)
		case 2:
			p.n2 = append(p.n2, f)
		case 4:
			p.n4 = append(p.n4, f)
		case 8:
			p.n8 = append(p.n8, f)
		default:
			p.rest = append(p.rest, f)
			continue
		}
		p.given |= 1 << f.act
	}
	return p
}

// fixedValues reads the values of a record of a fixed layout.
func (d *Decoder) fixedValues(t *template, h header, rec []byte, x *values) {
	p := &t.plain
	x.given = p.given
	for _, f := range p.n8 {
		x.num[f.act] = binary.BigEndian.Uint64(rec[f.off:])
	}
	for _, f := range p.n4 {
		x.num[f.act] = uint64(binary.BigEndian.Uint32(rec[f.off:]))
	}
	for _, f := range p.n2 {
		x.num[f.act] = uint64(binary.BigEndian.Uint16(rec[f.off:]))
	}
	for _, f := range p.n1 {
		x.num[f.act] = uint64(rec[f.off])
	}
	for _, f := range p.rest {
		v := rec[f.off : f.off+f.n]
		// The commonest fields, without set's dispatch: in a fixed layout
		// nothing was set before them.
		switch f.how {
		case howPlain:
			x.num[f.act], x.given = be(v), x.given|1<<f.act
		case howSrc4:
			x.src = d.addrs.V4(binary.BigEndian.Uint32(v))
		case howDst4:
			x.dst = d.addrs.V4(binary.BigEndian.Uint32(v))
		case howStartMs:
			x.startMs, x.haveAbs = int64(be(v)), true
		case howEndMs:
			x.endMs, x.haveEnd = int64(be(v)), true
		default:
			d.set(x, f.act, v, h)
		}
	}
}

// dataSet decodes the records of a data set whose template is t. It stops,
// without error, when the rest cannot hold a record: that is padding.
func (d *Decoder) dataSet(s *session, t *template, h header, b []byte, out []record.Flow) []record.Flow {
	if t.minSize == 0 {
		return out // a record of nothing: nothing to read, and no end to reading it
	}
	source := "netflow9"
	if h.version == 10 {
		source = "ipfix"
	}
	if t.fixed != nil {
		for len(b) >= t.minSize {
			rec := b[:t.minSize]
			b = b[t.minSize:]
			var x values
			d.fixedValues(t, h, rec, &x)
			out = d.record(s, t, h, &x, source, rec, out)
		}
		return out
	}
	for len(b) >= t.minSize {
		var x values
		rec := b
		ok := true
		for i := range t.fields {
			f := &t.fields[i]
			n := int(f.length)
			if f.length == varLen {
				if len(b) < 1 {
					ok = false
					break
				}
				n = int(b[0])
				b = b[1:]
				if n == 255 {
					if len(b) < 2 {
						ok = false
						break
					}
					n = int(binary.BigEndian.Uint16(b))
					b = b[2:]
				}
			}
			if n > len(b) {
				ok = false
				break
			}
			d.set(&x, f.act, b[:n], h)
			b = b[n:]
		}
		if !ok {
			break // a variable-length field ran past the set: padding
		}
		out = d.record(s, t, h, &x, source, rec[:len(rec)-len(b)], out)
	}
	return out
}

// record appends the flow record of one data record's values (an options
// record updates the session instead).
func (d *Decoder) record(s *session, t *template, h header, x *values, source string, raw []byte, out []record.Flow) []record.Flow {
	if t.options {
		d.Stats.OptionRecords++
		if x.has(aSampling) {
			s.sampling = uint32(x.num[aSampling])
		}
		if x.has(aSysInit) {
			s.sysInitMs = int64(x.num[aSysInit])
		}
		return out
	}
	sampling := s.sampling
	if x.has(aSampling) {
		sampling = uint32(x.num[aSampling])
	}
	d.position++
	out = append(out, record.Flow{})
	r := &out[len(out)-1]
	src, dst := x.src, x.dst
	if src == "" {
		src = "0.0.0.0" // a template without addresses: nfdump prints these
	}
	if dst == "" {
		dst = "0.0.0.0"
	}
	r.SIP, r.DIP = src, dst
	n := &x.num
	inB, inP, outB, outP := n[aInBytes], n[aInPkts], n[aOutBytes], n[aOutPkts]
	if !x.has(aInBytes) {
		inB = n[aTotBytes]
		if x.has(aInitBytes) || x.has(aRespBytes) { // biflow counters (initiator/responder)
			inB, outB = n[aInitBytes], n[aRespBytes]
		}
	}
	if !x.has(aInPkts) {
		inP = n[aTotPkts]
		if x.has(aInitPkts) || x.has(aRespPkts) {
			inP, outP = n[aInitPkts], n[aRespPkts]
		}
	}
	r.IByt, r.IPkt, r.OByt, r.OPkt = int64(inB), int64(inP), int64(outB), int64(outP)
	proto := uint8(n[aProto])
	r.Proto = flowrec.ProtoName(proto)
	r.STos, r.DTos = int32(uint8(n[aTos])), int32(uint8(n[aDTos]))
	r.Flag = flowrec.Flags(uint8(n[aFlags]))
	r.SPort, r.DPort = int32(uint16(n[aSPort])), int32(uint16(n[aDPort]))
	if (proto == 1 || proto == 58) && x.haveICMP {
		r.SPort, r.DPort = 0, int32(x.icmp)
	}
	r.Input, r.Output = int32(uint32(n[aInput])), int32(uint32(n[aOutput]))
	r.SAS, r.DAS = int32(uint32(n[aSAS])), int32(uint32(n[aDAS]))
	r.Dir, r.Fwd = int32(uint8(n[aDir])), int32(uint8(n[aFwd]))
	r.Sampling = int32(sampling)
	startMs, endMs, haveEnd := x.startMs, x.endMs, x.haveEnd
	if !x.haveAbs && (x.has(aFirstUp) || x.has(aLastUp)) {
		var boot int64
		if h.version == 9 {
			boot = int64(h.unixSecs)*1000 - int64(h.sysUptime)
		} else if s.sysInitMs != 0 {
			boot = s.sysInitMs
		}
		firstUp, lastUp := n[aFirstUp], n[aLastUp]
		if !x.has(aFirstUp) {
			firstUp = lastUp
		}
		startMs = boot + int64(firstUp)
		if firstUp > lastUp {
			startMs -= 1 << 32
		}
		endMs, haveEnd = boot+int64(lastUp), true
	}
	if !haveEnd {
		endMs = startMs
	}
	d.times.Set(r, startMs*1e6, endMs*1e6)
	d.finish(r, source, raw)
	return out
}

func ntpMs(v []byte) int64 {
	sec := int64(binary.BigEndian.Uint32(v)) - ntpEpoch
	frac := int64(binary.BigEndian.Uint32(v[4:]))
	return sec*1000 + frac*1000>>32
}
