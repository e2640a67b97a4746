// Package flowrec holds what every flow decoder shares: nfdump's protocol
// names and TCP flag strings, and filling a record.Flow's time columns and
// address strings quickly.
package flowrec

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/spot-hunt/spot/internal/record"
)

// protoNames is nfdump 1.7's protocol table (nfdump prints the number for
// protocols past its end).
var protoNames = [...]string{
	"0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP",
	"BBN", "NVPII", "PUP", "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN",
	"HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4",
	"NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
	"IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA",
	"ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6",
	"OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM",
	"VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP",
	"ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
	"S-RPC", "LARP", "MTP", "AX.25", "IPIP", "MICP", "SCCSP", "ETHIP", "ENCAP", "99",
	"GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP",
	"CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX", "IATP", "STP", "SRP",
	"UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
	"SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
}

var protoAll [256]string

func init() {
	for i := range protoAll {
		if i < len(protoNames) {
			protoAll[i] = protoNames[i]
		} else {
			protoAll[i] = strconv.Itoa(i)
		}
	}
	for i := range flagStrings {
		flagStrings[i] = flagString(uint8(i))
	}
}

// ProtoName is nfdump's name for IP protocol p.
func ProtoName(p uint8) string { return protoAll[p] }

// ProtoNumber is the inverse of ProtoName (a number in text is taken as is).
func ProtoNumber(name string) (uint8, bool) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < 256 {
		return uint8(n), true
	}
	for i, s := range protoNames {
		if s == name {
			return uint8(i), true
		}
	}
	return 0, false
}

var flagStrings [256]string

func flagString(f uint8) string {
	const letters = "CEUAPRSF"
	b := []byte("........")
	for i := 0; i < 8; i++ {
		if f&(0x80>>i) != 0 {
			b[i] = letters[i]
		}
	}
	return string(b)
}

// Flags is nfdump 1.7's TCP flags string: CEUAPRSF, a dot for each flag unset.
func Flags(f uint8) string { return flagStrings[f] }

// Times fills a flow's time columns from first- and last-seen nanoseconds
// since the epoch. It caches the formatted second, since consecutive flows
// mostly share it.
type Times struct {
	cache [256]secText
}

type secText struct {
	sec   int64
	valid bool
	str   string
	parts [6]int32
}

// Set fills f's treceived…trsec, unix_tstamp, tdur, tstart_ns and tend_ns.
func (c *Times) Set(f *record.Flow, startNs, endNs int64) {
	f.TStartNs, f.TEndNs = startNs, endNs
	sec := floorDiv(startNs, 1e9)
	t := &c.cache[uint64(sec)&255] // flows of one export share a few seconds
	if !t.valid || sec != t.sec {
		c.second(t, sec)
	}
	f.TReceived = t.str
	f.UnixTstamp = sec
	f.TrYear, f.TrMonth, f.TrDay = t.parts[0], t.parts[1], t.parts[2]
	f.TrHour, f.TrMinute, f.TrSec = t.parts[3], t.parts[4], t.parts[5]
	f.TDur = float32(float64((endNs-startNs)/1e6) / 1e3)
}

// second formats sec (UTC) into t as time.Format's "2006-01-02 15:04:05".
// Flows of a log come in order of their end, so their starts may alternate
// between days: the date is computed, not cached.
func (c *Times) second(t *secText, sec int64) {
	day := floorDiv(sec, 86400)
	y, mo, d := civil(day)
	rem := int32(sec - day*86400)
	h, mi, s := rem/3600, rem/60%60, rem%60
	// nanoseconds in an int64 span the years 1677-2262: four digits
	b := [19]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + mo/10), byte('0' + mo%10), '-', byte('0' + d/10), byte('0' + d%10), ' ',
		byte('0' + h/10), byte('0' + h%10), ':', byte('0' + mi/10), byte('0' + mi%10), ':',
		byte('0' + s/10), byte('0' + s%10),
	}
	*t = secText{sec: sec, valid: true, str: string(b[:]), parts: [6]int32{y, mo, d, h, mi, s}}
}

// civil is the proleptic Gregorian date of day, counted from 1970-01-01
// (Howard Hinnant's civil_from_days).
func civil(day int64) (y, m, d int32) {
	z := day + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	d = int32(doy - (153*mp+2)/5 + 1)
	m = int32(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int32(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Addrs turns addresses into canonical strings, remembering recent ones in
// small direct-mapped caches: flows repeat their hosts.
type Addrs struct {
	keys  [4096]uint32
	vals  [4096]string
	keys6 [256][16]byte
	vals6 [256]string
	slab  []byte // where the next IPv4 texts are made
}

// octets is the decimal text of each byte value, its digits first and
// their count last.
var octets = func() (t [256][4]byte) {
	for i := range t {
		n := copy(t[i][:3], strconv.Itoa(i))
		t[i][3] = byte(n)
	}
	return t
}()

// slabBytes is the size of the blocks IPv4 texts are cut from, one
// allocation for about 80 of them rather than one each (a seventh of a
// NetFlow decode's time went to allocating them). A block lives while one
// of its texts does; the cache holds at most 4096 of them, 4 MiB at worst.
const slabBytes = 1 << 10

// V4 is the dotted-quad text of a (big-endian) IPv4 address.
func (c *Addrs) V4(a uint32) string {
	h := (a * 2654435761) >> 20
	if c.vals[h] != "" && c.keys[h] == a {
		return c.vals[h]
	}
	var buf [16]byte // room for the last octet's 4 bytes
	n := 0
	for shift := 24; shift >= 0; shift -= 8 {
		o := octets[a>>shift&0xff]
		*(*[4]byte)(buf[n:]) = o
		n += int(o[3])
		buf[n] = '.'
		n++
	}
	n-- // the last dot
	if len(c.slab)+n > cap(c.slab) {
		c.slab = make([]byte, 0, slabBytes)
	}
	l := len(c.slab)
	c.slab = append(c.slab, buf[:n]...)
	s := unsafe.String(&c.slab[l], n)
	c.keys[h], c.vals[h] = a, s
	return s
}

// V6 is the canonical text of a 16-byte address (an IPv4-mapped one prints
// as nfdump prints it, ::ffff:a.b.c.d).
func (c *Addrs) V6(b []byte) string {
	return c.v6([16]byte(b))
}

func (c *Addrs) v6(a [16]byte) string {
	x := binary.LittleEndian.Uint64(a[:8]) ^ binary.LittleEndian.Uint64(a[8:])
	h := x * 0x9e3779b97f4a7c15 >> 56
	if c.vals6[h] != "" && c.keys6[h] == a {
		return c.vals6[h]
	}
	s := netip.AddrFrom16(a).String()
	c.keys6[h], c.vals6[h] = a, s
	return s
}

// Addr is the canonical text of any address.
func (c *Addrs) Addr(a netip.Addr) string {
	switch {
	case a.Is4():
		b := a.As4()
		return c.V4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	case !a.IsValid():
		return ""
	case a.Zone() != "":
		return a.String()
	}
	return c.v6(a.As16())
}

// Interner shares the strings of repeated values (addresses, protocol
// names, flags) through a direct-mapped table: no map, bounded memory.
type Interner struct {
	keys [8192]string
}

// Get returns b as a string, the same string as last time for the same
// bytes when they still hold their slot.
func (in *Interner) Get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &in.keys[h>>19]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}
