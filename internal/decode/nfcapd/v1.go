package nfcapd

import (
	"encoding/binary"
	"fmt"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

// Layout 1 (nfdump 1.6) stores a flow as a common record (type 10) whose
// optional fields follow in the order of an extension map (type 2) that an
// earlier record of the file defined (nfx.h).

// extSize is each extension's size in bytes (nfx.c's extension_descriptor
// table); -1 marks ids no nfdump defines.
var extSize = func() [50]int {
	s := [50]int{
		4: 4, 5: 8, 6: 4, 7: 8, 8: 4, 9: 4, 10: 16, 11: 4, 12: 16, 13: 4,
		14: 4, 15: 8, 16: 4, 17: 8, 18: 4, 19: 8, 20: 16, 21: 16, 22: 40, 23: 4,
		24: 16, 25: 4, 26: 8, 27: 8,
		37: 20, 38: 4, 39: 8, 40: 32, 41: 24, 42: 24, 43: 72, 45: 24, 46: 12, 48: 8,
	}
	for _, id := range []int{0, 1, 2, 3} {
		s[id] = -1 // the required extensions never appear in a map
	}
	return s
}()

// The extensions spot reads.
const (
	exIOSNMP2     = 4
	exIOSNMP4     = 5
	exAS2         = 6
	exAS4         = 7
	exMultiple    = 8
	exOutPkts4    = 14
	exOutPkts8    = 15
	exOutBytes4   = 16
	exOutBytes8   = 17
	exRouterIPv4  = 23
	exRouterIPv6  = 24
	exNSELCommon  = 37
	commonV1Size  = 32
	flagIPv6      = 1
	flagPackets64 = 2
	flagBytes64   = 4
)

type extMap struct {
	ids  []uint16
	size int // bytes of all its extensions
}

// addMap reads an extension map record.
func (d *Reader) addMap(rec []byte) error {
	if len(rec) < 8 {
		return fmt.Errorf("extension map of %d bytes: shorter than its header", len(rec))
	}
	id := binary.LittleEndian.Uint16(rec[4:])
	m := &extMap{}
	for p := rec[8:]; len(p) >= 2; p = p[2:] {
		x := binary.LittleEndian.Uint16(p)
		if x == 0 {
			break
		}
		if int(x) >= len(extSize) || extSize[x] < 0 {
			return fmt.Errorf("extension map %d names extension %d, which nfdump does not define", id, x)
		}
		m.ids = append(m.ids, x)
		m.size += extSize[x]
	}
	if d.maps == nil {
		d.maps = map[uint16]*extMap{}
	}
	d.maps[id] = m
	return nil
}

// v1 decodes a layout 1 common record, as nfdump 1.7 converts it
// (compat_1_6_x/convert.c).
func (d *Reader) v1(rec []byte, f *record.Flow) error {
	if len(rec) < commonV1Size {
		return fmt.Errorf("common record of %d bytes: shorter than its header", len(rec))
	}
	flags := binary.LittleEndian.Uint16(rec[4:])
	m := d.maps[binary.LittleEndian.Uint16(rec[6:])]
	if m == nil {
		return fmt.Errorf("common record refers to extension map %d, which the file has not defined", binary.LittleEndian.Uint16(rec[6:]))
	}
	need := commonV1Size + 8 + 4 + 4 + m.size
	if flags&flagIPv6 != 0 {
		need += 24
	}
	if flags&flagPackets64 != 0 {
		need += 4
	}
	if flags&flagBytes64 != 0 {
		need += 4
	}
	if need > len(rec) {
		return fmt.Errorf("common record of %d bytes: its extensions need %d", len(rec), need)
	}
	first := int64(binary.LittleEndian.Uint32(rec[12:]))*1000 + int64(binary.LittleEndian.Uint16(rec[8:]))
	last := int64(binary.LittleEndian.Uint32(rec[16:]))*1000 + int64(binary.LittleEndian.Uint16(rec[10:]))
	f.Fwd = int32(rec[20])
	f.Flag = flowrec.Flags(rec[21])
	f.Proto = flowrec.ProtoName(rec[22])
	f.STos = int32(rec[23])
	f.SPort = int32(binary.LittleEndian.Uint16(rec[24:]))
	f.DPort = int32(binary.LittleEndian.Uint16(rec[26:]))
	p := rec[commonV1Size:]
	if flags&flagIPv6 != 0 {
		s, t := v6(p[0:]), v6(p[16:])
		f.SIP, f.DIP = d.addrs.V6(s[:]), d.addrs.V6(t[:])
		p = p[32:]
	} else {
		f.SIP = d.addrs.V4(binary.LittleEndian.Uint32(p[0:]))
		f.DIP = d.addrs.V4(binary.LittleEndian.Uint32(p[4:]))
		p = p[8:]
	}
	f.IPkt, p = counter(p, flags&flagPackets64 != 0)
	f.IByt, p = counter(p, flags&flagBytes64 != 0)
	for _, x := range m.ids {
		e := p[:extSize[x]]
		p = p[extSize[x]:]
		switch x {
		case exIOSNMP2:
			f.Input, f.Output = int32(binary.LittleEndian.Uint16(e)), int32(binary.LittleEndian.Uint16(e[2:]))
		case exIOSNMP4:
			f.Input, f.Output = int32(binary.LittleEndian.Uint32(e)), int32(binary.LittleEndian.Uint32(e[4:]))
		case exAS2:
			f.SAS, f.DAS = int32(binary.LittleEndian.Uint16(e)), int32(binary.LittleEndian.Uint16(e[2:]))
		case exAS4:
			f.SAS, f.DAS = int32(binary.LittleEndian.Uint32(e)), int32(binary.LittleEndian.Uint32(e[4:]))
		case exMultiple:
			f.DTos, f.Dir = int32(e[0]), int32(e[1])
		case exOutPkts4:
			f.OPkt = int64(binary.LittleEndian.Uint32(e))
		case exOutPkts8:
			f.OPkt = int64(binary.LittleEndian.Uint64(e))
		case exOutBytes4:
			f.OByt = int64(binary.LittleEndian.Uint32(e))
		case exOutBytes8:
			f.OByt = int64(binary.LittleEndian.Uint64(e))
		case exRouterIPv4:
			f.RIP = d.addrs.V4(binary.LittleEndian.Uint32(e))
		case exRouterIPv6:
			a := v6(e)
			f.RIP = d.addrs.V6(a[:])
		case exNSELCommon:
			// A firewall event's ICMP type and code, which nfdump 1.7
			// puts in the destination port of every converted NSEL record.
			f.DPort = int32(binary.LittleEndian.Uint16(e[12:]))
		}
	}
	d.finish(f, first, last, rec)
	return nil
}

func counter(p []byte, wide bool) (int64, []byte) {
	if wide {
		return int64(binary.LittleEndian.Uint64(p)), p[8:]
	}
	return int64(binary.LittleEndian.Uint32(p)), p[4:]
}
