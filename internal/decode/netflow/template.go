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
	ntp    bool // NTP-format time
}

type template struct {
	id      uint16
	fields  []field
	minSize int // bytes of a record with every variable field empty
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
				f.ntp = typ >= 154 && typ <= 157
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
		if old := s.templates[id]; old != nil && bytes.Equal(old.raw, raw) {
			continue // the periodic resend of a template we have
		}
		size := len(raw) + len(fields)*4 + 64
		if old := s.templates[id]; old == nil && len(s.templates) >= d.Limits.TemplatesPerSession ||
			d.Limits.TemplateBytes > 0 && d.tmplBytes+size > d.Limits.TemplateBytes {
			d.Stats.TemplatesCapped++
			continue
		}
		if old := s.templates[id]; old != nil {
			d.tmplBytes -= old.size
		}
		t := &template{id: id, fields: fields, minSize: minSize, options: options, raw: append([]byte(nil), raw...), size: size}
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

func be(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// ntpEpoch is the NTP era's start, 1900-01-01, in seconds before the Unix epoch.
const ntpEpoch = 2208988800

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
	for len(b) >= t.minSize {
		var (
			inB, inP, outB, outP, totB, totP       uint64
			haveIn, haveInP                        bool
			proto, tos, dtos, flags, dir, fwd      uint8
			sport, dport                           uint16
			src, dst                               string
			input, output, sas, das                uint32
			firstUp, lastUp                        uint64
			haveUp                                 bool
			startMs, endMs                         int64
			haveAbs, haveEnd                       bool
			icmp                                   uint16
			haveICMP                               bool
			sampling                               uint32
			sysInit                                int64
			haveSysInit, haveSampling, haveFirstUp bool
			initB, respB, initP, respP             uint64
			haveInit, haveInitP                    bool
		)
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
			v := b[:n]
			b = b[n:]
			switch f.act {
			case aSkip:
			case aInBytes:
				inB, haveIn = be(v), true
			case aInPkts:
				inP, haveInP = be(v), true
			case aOutBytes:
				outB = be(v)
			case aOutPkts:
				outP = be(v)
			case aTotBytes:
				totB = be(v)
			case aTotPkts:
				totP = be(v)
			case aInitBytes:
				initB, haveInit = be(v), true
			case aRespBytes:
				respB, haveInit = be(v), true
			case aInitPkts:
				initP, haveInitP = be(v), true
			case aRespPkts:
				respP, haveInitP = be(v), true
			case aProto:
				proto = uint8(be(v))
			case aTos:
				tos = uint8(be(v))
			case aDTos:
				dtos = uint8(be(v))
			case aFlags:
				flags = uint8(be(v))
			case aSPort:
				sport = uint16(be(v))
			case aDPort:
				dport = uint16(be(v))
			// A template may carry both IPv4 and IPv6 addresses, the unused
			// ones zero: a zero address does not replace one already set.
			case aSrc4:
				if a := binary.BigEndian.Uint32(v); a != 0 || src == "" {
					src = d.addrs.V4(a)
				}
			case aDst4:
				if a := binary.BigEndian.Uint32(v); a != 0 || dst == "" {
					dst = d.addrs.V4(a)
				}
			case aSrc6:
				if src == "" || !allZero(v) {
					src = d.addrs.V6(v)
				}
			case aDst6:
				if dst == "" || !allZero(v) {
					dst = d.addrs.V6(v)
				}
			case aInput:
				input = uint32(be(v))
			case aOutput:
				output = uint32(be(v))
			case aSAS:
				sas = uint32(be(v))
			case aDAS:
				das = uint32(be(v))
			case aFirstUp:
				firstUp, haveUp, haveFirstUp = be(v), true, true
			case aLastUp:
				lastUp, haveUp = be(v), true
			case aStartSec:
				startMs, haveAbs = int64(be(v))*1000, true
			case aEndSec:
				endMs, haveEnd = int64(be(v))*1000, true
			case aStartMs:
				startMs, haveAbs = int64(be(v)), true
			case aEndMs:
				endMs, haveEnd = int64(be(v)), true
			case aStartNTP:
				startMs, haveAbs = ntpMs(v), true
			case aEndNTP:
				endMs, haveEnd = ntpMs(v), true
			case aStartDeltaUs:
				startMs, haveAbs = int64(h.unixSecs)*1000-int64(be(v))/1000, true
			case aEndDeltaUs:
				endMs, haveEnd = int64(h.unixSecs)*1000-int64(be(v))/1000, true
			case aICMPTypeCode:
				icmp, haveICMP = uint16(be(v)), true
			case aICMPType:
				icmp, haveICMP = icmp&0xff|uint16(be(v))<<8, true
			case aICMPCode:
				icmp, haveICMP = icmp&0xff00|uint16(be(v))&0xff, true
			case aDir:
				dir = uint8(be(v))
			case aFwd:
				fwd = uint8(be(v))
			case aSampling:
				sampling, haveSampling = uint32(be(v)), true
			case aSysInit:
				sysInit, haveSysInit = int64(be(v)), true
			}
		}
		if !ok {
			break // a variable-length field ran past the set: padding
		}
		if t.options {
			d.Stats.OptionRecords++
			if haveSampling {
				s.sampling = sampling
			}
			if haveSysInit {
				s.sysInitMs = sysInit
			}
			continue
		}
		if !haveSampling {
			sampling = s.sampling
		}
		d.position++
		out = append(out, record.Flow{})
		r := &out[len(out)-1]
		if src == "" {
			src = "0.0.0.0" // a template without addresses: nfdump prints these
		}
		if dst == "" {
			dst = "0.0.0.0"
		}
		r.SIP, r.DIP = src, dst
		if !haveIn {
			inB = totB
			if haveInit { // biflow counters (initiator/responder)
				inB, outB = initB, respB
			}
		}
		if !haveInP {
			inP = totP
			if haveInitP {
				inP, outP = initP, respP
			}
		}
		r.IByt, r.IPkt, r.OByt, r.OPkt = int64(inB), int64(inP), int64(outB), int64(outP)
		r.Proto = flowrec.ProtoName(proto)
		r.STos, r.DTos = int32(tos), int32(dtos)
		r.Flag = flowrec.Flags(flags)
		r.SPort, r.DPort = int32(sport), int32(dport)
		if (proto == 1 || proto == 58) && haveICMP {
			r.SPort, r.DPort = 0, int32(icmp)
		}
		r.Input, r.Output, r.SAS, r.DAS = int32(input), int32(output), int32(sas), int32(das)
		r.Dir, r.Fwd = int32(dir), int32(fwd)
		r.Sampling = int32(sampling)
		if !haveAbs && haveUp {
			var boot int64
			if h.version == 9 {
				boot = int64(h.unixSecs)*1000 - int64(h.sysUptime)
			} else if s.sysInitMs != 0 {
				boot = s.sysInitMs
			}
			if !haveFirstUp {
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
		d.finish(r, source, rec[:len(rec)-len(b)])
	}
	return out
}

func ntpMs(v []byte) int64 {
	sec := int64(binary.BigEndian.Uint32(v)) - ntpEpoch
	frac := int64(binary.BigEndian.Uint32(v[4:]))
	return sec*1000 + frac*1000>>32
}
