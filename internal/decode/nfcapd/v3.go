package nfcapd

import (
	"encoding/binary"
	"fmt"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

// V3 elements (nfxV3.h), their ids and least lengths (header included).
const (
	exGenericFlow  = 1
	exIPv4Flow     = 2
	exIPv6Flow     = 3
	exFlowMisc     = 4
	exCntFlow      = 5
	exASRouting    = 7
	exIPReceivedV4 = 12
	exIPReceivedV6 = 13

	v3HeaderSize = 12
)

var minLength = [...]int{
	exGenericFlow:  4 + 48,
	exIPv4Flow:     4 + 8,
	exIPv6Flow:     4 + 32,
	exFlowMisc:     4 + 12,
	exCntFlow:      4 + 24,
	exASRouting:    4 + 8,
	exIPReceivedV4: 4 + 4,
	exIPReceivedV6: 4 + 16,
}

const zeroV4 = "0.0.0.0"

// v3 decodes a V3 record (layout 2): a 12-byte header, then numElements
// elements, each a type, a length and its fields, in host (little-endian)
// order. Elements spot has no column for are passed over.
func (d *Reader) v3(rec []byte, f *record.Flow) error {
	if len(rec) < v3HeaderSize {
		return fmt.Errorf("V3 record of %d bytes: shorter than its header", len(rec))
	}
	n := int(binary.LittleEndian.Uint16(rec[4:]))
	var first, last int64
	f.SIP, f.DIP = zeroV4, zeroV4
	p := rec[v3HeaderSize:]
	for i := 0; i < n; i++ {
		if len(p) < 4 {
			return fmt.Errorf("V3 record ends before its element %d of %d", i+1, n)
		}
		typ := int(binary.LittleEndian.Uint16(p))
		l := int(binary.LittleEndian.Uint16(p[2:]))
		if l < 4 || l > len(p) {
			return fmt.Errorf("V3 element %d (type %d): length %d does not fit the %d bytes left", i+1, typ, l, len(p))
		}
		if typ < len(minLength) && minLength[typ] > l {
			return fmt.Errorf("V3 element type %d: length %d, want at least %d", typ, l, minLength[typ])
		}
		e := p[4:l]
		p = p[l:]
		switch typ {
		case exGenericFlow:
			first = int64(binary.LittleEndian.Uint64(e[0:]))
			last = int64(binary.LittleEndian.Uint64(e[8:]))
			f.IPkt = int64(binary.LittleEndian.Uint64(e[24:]))
			f.IByt = int64(binary.LittleEndian.Uint64(e[32:]))
			f.SPort = int32(binary.LittleEndian.Uint16(e[40:]))
			f.DPort = int32(binary.LittleEndian.Uint16(e[42:]))
			f.Proto = flowrec.ProtoName(e[44])
			f.Flag = flowrec.Flags(e[45])
			f.Fwd = int32(e[46])
			f.STos = int32(e[47])
		case exIPv4Flow:
			f.SIP = d.addrs.V4(binary.LittleEndian.Uint32(e[0:]))
			f.DIP = d.addrs.V4(binary.LittleEndian.Uint32(e[4:]))
		case exIPv6Flow:
			s, t := v6(e[0:]), v6(e[16:])
			f.SIP, f.DIP = d.addrs.V6(s[:]), d.addrs.V6(t[:])
		case exFlowMisc:
			f.Input = int32(binary.LittleEndian.Uint32(e[0:]))
			f.Output = int32(binary.LittleEndian.Uint32(e[4:]))
			f.Dir = int32(e[10])
			f.DTos = int32(e[11])
		case exCntFlow:
			f.OPkt = int64(binary.LittleEndian.Uint64(e[8:]))
			f.OByt = int64(binary.LittleEndian.Uint64(e[16:]))
		case exASRouting:
			f.SAS = int32(binary.LittleEndian.Uint32(e[0:]))
			f.DAS = int32(binary.LittleEndian.Uint32(e[4:]))
		case exIPReceivedV4:
			f.RIP = d.addrs.V4(binary.LittleEndian.Uint32(e[0:]))
		case exIPReceivedV6:
			a := v6(e[0:])
			f.RIP = d.addrs.V6(a[:])
		}
	}
	if f.Proto == "" {
		f.Proto, f.Flag = flowrec.ProtoName(0), flowrec.Flags(0)
	}
	d.finish(f, first, last, rec)
	return nil
}

// finish fills a decoded record's times, source and event id.
func (d *Reader) finish(f *record.Flow, firstMs, lastMs int64, raw []byte) {
	d.times.Set(f, firstMs*1e6, lastMs*1e6)
	f.Source = "nfcapd"
	f.EID = d.eid.EID(d.position, raw)
	d.stats.Records++
}

// v6 turns an IPv6 address stored as two host-order 64-bit words (nfdump's
// uint64_t[2]) into its 16 bytes in network order.
func v6(b []byte) (a [16]byte) {
	binary.BigEndian.PutUint64(a[0:], binary.LittleEndian.Uint64(b[0:]))
	binary.BigEndian.PutUint64(a[8:], binary.LittleEndian.Uint64(b[8:]))
	return a
}
