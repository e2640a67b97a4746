package dns

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/spot-hunt/spot/internal/ioformat"
)

var be = binary.BigEndian

// ParseError is a DNS message that could not be parsed. Section says where:
// "header", "question" (no record is made) or "answer", "authority",
// "additional" (the record keeps what came before).
type ParseError struct {
	Section string
	Reason  string
}

func (e *ParseError) Error() string { return e.Section + ": " + e.Reason }

// Fatal reports whether the message yields no record at all.
func (e *ParseError) Fatal() bool { return e.Section == "header" || e.Section == "question" }

// Message is the part of a DNS message spot keeps.
type Message struct {
	ID      uint16
	Flags   uint16
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16

	HasQuestion bool
	QName       []byte // first question's name, presentation form, no trailing dot
	QType       uint16
	QClass      uint16

	A       []byte // first A record of the answer section, else its first AAAA, as text
	aaaa    []byte
	haveA   bool
	Answers []string // data of each answer record, as text (only when asked for)
	TTL     uint32   // first answer's TTL

	scratch []byte
	text    *ioformat.Arena // where Answers' strings are kept; nil: allocated
}

// Response reports the QR bit.
func (m *Message) Response() bool { return m.Flags&0x8000 != 0 }

// Rcode is the header's 4-bit response code.
func (m *Message) Rcode() int { return int(m.Flags & 0x000f) }

// Record types.
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeDNAME = 39
)

const (
	maxPointers = 255 // compression pointers followed in one name, as tshark (MAX_DNAME_LEN)
	maxNameLen  = 253 // longest name printed, in bytes of labels and dots; longer ones print as "<Name too long>", as in tshark
)

// Parse parses msg into m (reusing its buffers). With answers set it also
// fills m.Answers. On a *ParseError from an RR section m holds what was
// parsed before it.
func (m *Message) Parse(msg []byte, answers bool) error {
	m.QName = m.QName[:0]
	m.A = m.A[:0]
	m.aaaa = m.aaaa[:0]
	m.haveA = false
	m.Answers = m.Answers[:0]
	m.HasQuestion = false
	m.QType, m.QClass, m.TTL = 0, 0, 0
	if len(msg) < 12 {
		m.ID, m.Flags, m.QDCount, m.ANCount, m.NSCount, m.ARCount = 0, 0, 0, 0, 0, 0
		return &ParseError{"header", "message shorter than 12 bytes"}
	}
	m.ID = be.Uint16(msg[0:2])
	m.Flags = be.Uint16(msg[2:4])
	m.QDCount = be.Uint16(msg[4:6])
	m.ANCount = be.Uint16(msg[6:8])
	m.NSCount = be.Uint16(msg[8:10])
	m.ARCount = be.Uint16(msg[10:12])
	off := 12
	for i := 0; i < int(m.QDCount); i++ {
		var err *ParseError
		if i == 0 {
			m.QName, off, err = readName(msg, off, m.QName[:0], "question")
		} else {
			off, err = skipName(msg, off, "question")
		}
		if err != nil {
			return err
		}
		if off+4 > len(msg) {
			return &ParseError{"question", "truncated type and class"}
		}
		if i == 0 {
			m.HasQuestion = true
			m.QType = be.Uint16(msg[off:])
			m.QClass = be.Uint16(msg[off+2:])
		}
		off += 4
	}
	sections := [3]struct {
		name  string
		count uint16
	}{{"answer", m.ANCount}, {"authority", m.NSCount}, {"additional", m.ARCount}}
	for si, sec := range sections {
		for i := 0; i < int(sec.count); i++ {
			var err *ParseError
			if off, err = skipName(msg, off, sec.name); err != nil {
				m.finishA()
				return err
			}
			if off+10 > len(msg) {
				m.finishA()
				return &ParseError{sec.name, "truncated record header"}
			}
			typ := be.Uint16(msg[off:])
			class := be.Uint16(msg[off+2:]) & 0x7fff // mDNS cache-flush bit
			ttl := be.Uint32(msg[off+4:])
			rdlen := int(be.Uint16(msg[off+8:]))
			off += 10
			if off+rdlen > len(msg) {
				m.finishA()
				return &ParseError{sec.name, "record data beyond the message"}
			}
			rdata := msg[off : off+rdlen]
			if si == 0 && class == 1 { // dns_a: of the answer section only, not glue
				switch {
				case typ == typeA && rdlen == 4 && !m.haveA:
					m.A = netip.AddrFrom4([4]byte(rdata)).AppendTo(m.A[:0])
					m.haveA = true
				case typ == typeAAAA && rdlen == 16 && len(m.aaaa) == 0:
					m.aaaa = netip.AddrFrom16([16]byte(rdata)).AppendTo(m.aaaa[:0])
				}
			}
			if si == 0 {
				if i == 0 {
					m.TTL = ttl
				}
				if answers {
					m.Answers = append(m.Answers, m.rdataText(msg, off, typ, rdata))
				}
			}
			off += rdlen
		}
	}
	m.finishA()
	return nil
}

func (m *Message) finishA() {
	if !m.haveA {
		m.A = append(m.A[:0], m.aaaa...)
	}
}

// rdataText renders one record's data: addresses, names, MX/SRV targets,
// TXT strings; other types as hex.
func (m *Message) rdataText(msg []byte, off int, typ uint16, rdata []byte) string {
	m.scratch = m.appendRdata(m.scratch[:0], msg, off, typ, rdata)
	return m.text.String(m.scratch)
}

func (m *Message) appendRdata(b, msg []byte, off int, typ uint16, rdata []byte) []byte {
	switch typ {
	case typeA:
		if len(rdata) == 4 {
			return netip.AddrFrom4([4]byte(rdata)).AppendTo(b)
		}
	case typeAAAA:
		if len(rdata) == 16 {
			return netip.AddrFrom16([16]byte(rdata)).AppendTo(b)
		}
	case typeNS, typeCNAME, typePTR, typeDNAME, typeSOA:
		// the name must lie in the data: an UPDATE's prerequisite has none
		if name, end, err := readName(msg, off, b, "answer"); err == nil && end <= off+len(rdata) {
			return name
		}
	case typeMX:
		if len(rdata) > 2 {
			b = strconv.AppendInt(b, int64(be.Uint16(rdata)), 10)
			b = append(b, ' ')
			if name, _, err := readName(msg, off+2, b, "answer"); err == nil {
				return name
			}
		}
	case typeSRV:
		if len(rdata) > 6 {
			if name, _, err := readName(msg, off+6, b, "answer"); err == nil {
				return name
			}
		}
	case typeTXT:
		for r := rdata; len(r) > 0; {
			n := int(r[0])
			if 1+n > len(r) {
				break
			}
			b = append(b, r[1:1+n]...)
			r = r[1+n:]
		}
		return b
	}
	return hex.AppendEncode(b[:0], rdata)
}

// readName appends the presentation form of the name at off to dst and
// returns the offset after it (after the first pointer when compressed).
// It prints names as tshark 4.0 does: labels joined by dots, their bytes
// through formatText; the root as "<Root>", names of more than maxNameLen
// bytes as "<Name too long>", names with more than maxPointers pointers (or
// a pointer to two bytes past its own end, tshark's check for a loop) as
// "<Name contains a pointer that loops>".
func readName(msg []byte, off int, dst []byte, section string) ([]byte, int, *ParseError) {
	start, begin := len(dst), off
	end := -1
	raw := 0 // bytes of labels and dots
	first := -1
	jumps := 0
	for {
		if off >= len(msg) {
			return dst, 0, &ParseError{section, "name runs past the message"}
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				switch {
				// tshark tests the name's first byte, so a bare pointer to a
				// name starting with a zero byte is the root too
				case first <= 0 && end-begin <= 2:
					dst = append(dst[:start], "<Root>"...)
				case raw > maxNameLen:
					dst = append(dst[:start], "<Name too long>"...)
				}
				return dst, end, nil
			}
			if off+1+c > len(msg) {
				return dst, 0, &ParseError{section, "label runs past the message"}
			}
			if first < 0 {
				first = int(msg[off+1])
			} else {
				raw++
			}
			raw += c
			if raw <= maxNameLen { // past it the name is not printed
				if len(dst) > start {
					dst = append(dst, '.')
				}
				dst = formatText(dst, msg[off+1:off+1+c])
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(msg) {
				return dst, 0, &ParseError{section, "truncated compression pointer"}
			}
			if end < 0 {
				end = off + 2
			}
			target := int(be.Uint16(msg[off:]) & 0x3fff)
			jumps++
			if jumps > maxPointers || target == off+4 { // tshark prints the name so and goes on
				return append(dst[:start], "<Name contains a pointer that loops>"...), end, nil
			}
			off = target
		default:
			return dst, 0, &ParseError{section, "unsupported label type"}
		}
	}
}

// formatText appends the bytes of a label as tshark's format_text shows
// them: printable ASCII as is; other ASCII as C escapes (\a \b \f \n \r
// \t \v) or \ooo octal; the rest decoded as UTF-8 (old 5- and 6-byte forms
// and overlong forms included), a byte that starts no valid sequence, a cut
// sequence, a surrogate or a code point past U+10FFFF becoming U+FFFD;
// printable characters (not Cc, Cf, Cs or unassigned, glib's
// g_unichar_isprint) as UTF-8, others as \uXXXX or \UXXXXXXXX. Dots and
// backslashes inside a label are not escaped, so the rendering is lossy.
func formatText(dst, label []byte) []byte {
	for i := 0; i < len(label); {
		c := label[i]
		i++
		switch {
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
			continue
		case c < 0x80:
			if e := cEscape[c]; e != 0 {
				dst = append(dst, '\\', e)
			} else {
				dst = append(dst, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
			}
			continue
		}
		var n int // continuation bytes
		var r uint32
		switch {
		case c&0xe0 == 0xc0:
			n, r = 1, uint32(c&0x1f)
		case c&0xf0 == 0xe0:
			n, r = 2, uint32(c&0x0f)
		case c&0xf8 == 0xf0:
			n, r = 3, uint32(c&0x07)
		case c&0xfc == 0xf8:
			n, r = 4, uint32(c&0x03)
		case c&0xfe == 0xfc:
			n, r = 5, uint32(c&0x01)
		default: // a continuation byte, 0xfe or 0xff
			n, r = -1, utf8.RuneError
		}
		for k := 0; k < n; k++ {
			if i >= len(label) || label[i]&0xc0 != 0x80 {
				r = utf8.RuneError // the byte that ended it starts the next character
				break
			}
			r = r<<6 | uint32(label[i]&0x3f)
			i++
		}
		if r > unicode.MaxRune || r >= 0xd800 && r < 0xe000 {
			r = utf8.RuneError
		}
		dst = appendRune(dst, rune(r))
	}
	return dst
}

// cEscape holds the letters of the C escapes format_text uses.
var cEscape = [0x80]byte{'\a': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'}

// appendRune appends a code point of a label: as UTF-8 when glib calls it
// printable (assigned and not a control or format character), else
// escaped.
func appendRune(dst []byte, r rune) []byte {
	if unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Co) {
		return utf8.AppendRune(dst, r)
	}
	const hex = "0123456789ABCDEF"
	if r <= 0xffff {
		return append(dst, '\\', 'u', hex[r>>12], hex[r>>8&15], hex[r>>4&15], hex[r&15])
	}
	return append(dst, '\\', 'U', '0', '0', hex[r>>20&15], hex[r>>16&15], hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
}

// skipName returns the offset after the name at off without decoding it.
func skipName(msg []byte, off int, section string) (int, *ParseError) {
	for {
		if off >= len(msg) {
			return 0, &ParseError{section, "name runs past the message"}
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			if off+1+c > len(msg) {
				return 0, &ParseError{section, "label runs past the message"}
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(msg) {
				return 0, &ParseError{section, "truncated compression pointer"}
			}
			return off + 2, nil
		default:
			return 0, &ParseError{section, "unsupported label type"}
		}
	}
}
