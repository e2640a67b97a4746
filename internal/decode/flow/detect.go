package flow

import (
	"encoding/binary"
	"slices"

	"github.com/spot-hunt/spot/internal/decode/sflow"
)

// Exports on any port: a capture of NetFlow, IPFIX or sFlow exports sent to a
// port outside the --ports (logstash's replays use 29998, softflowd's tests
// 29995, pmacct's sfprobe in testdata 16343-16346) is found by
// the datagrams' content, so it is decoded as exports rather than as one
// made-up UDP flow between exporter and collector.

// versionSFlow stands for sFlow v5 among the NetFlow versions exportVersion
// returns (sFlow's own version field is 32 bits: 0, 5).
const versionSFlow = 0x10005

// exportVersion returns the NetFlow version (5, 9, or 10 for IPFIX) of a UDP
// payload whose header and sets account for its length exactly, or
// versionSFlow for an sFlow v5 datagram whose samples fill it, or 0. It is
// stricter than looksLikeExport, as it decides on its own whether datagrams
// to a port outside the --ports are exports: a v5 datagram is one or more
// packets of 24 + 48 × count bytes; a v9 or IPFIX one is a header and sets
// (template ids, or data ids from 256) whose lengths add up to the datagram
// (IPFIX: to its header's length, which is the datagram's).
func exportVersion(p []byte) int {
	if len(p) < 16 {
		return 0
	}
	if sflow.Is(p) {
		if n, err := sflow.Len(p); err != nil || n != len(p) {
			return 0
		}
		return versionSFlow
	}
	switch binary.BigEndian.Uint16(p) {
	case 5:
		for len(p) > 0 {
			if len(p) < 24 || binary.BigEndian.Uint16(p) != 5 {
				return 0
			}
			c := int(binary.BigEndian.Uint16(p[2:]))
			if c < 1 || c > 30 || 24+48*c > len(p) {
				return 0
			}
			p = p[24+48*c:]
		}
		return 5
	case 9:
		for len(p) > 0 { // a datagram may hold several packets (PacketLen)
			if len(p) < 24 || binary.BigEndian.Uint16(p) != 9 || binary.BigEndian.Uint16(p[2:]) == 0 {
				return 0
			}
			n, ok := setsEnd(p[20:], 0, 1, 9)
			if !ok {
				return 0
			}
			p = p[20+n:]
		}
		return 9
	case 10:
		for len(p) > 0 { // messages back to back, each as long as it says
			if len(p) < 20 || binary.BigEndian.Uint16(p) != 10 {
				return 0
			}
			l := int(binary.BigEndian.Uint16(p[2:]))
			if l < 20 || l > len(p) {
				return 0
			}
			if n, ok := setsEnd(p[16:l], 2, 3, 0); !ok || n != l-16 {
				return 0
			}
			p = p[l:]
		}
		return 10
	}
	return 0
}

// setsEnd walks the sets of b (a 16-bit id, lo..hi for templates or from
// 256 for data, and a 16-bit length of at least 4) and returns how many
// bytes they fill: up to b's end, or to a set id of next, which starts
// another packet (0: none). Zeros after the last set pad the datagram
// (seen from Cisco ACI and Palo Alto exporters). ok is false when a set is
// malformed or runs past the end, or there is none.
func setsEnd(b []byte, lo, hi, next uint16) (n int, ok bool) {
	for n < len(b) {
		if len(b)-n < 4 {
			return n, false
		}
		id, l := binary.BigEndian.Uint16(b[n:]), int(binary.BigEndian.Uint16(b[n+2:]))
		if next != 0 && id == next && n > 0 {
			return n, true
		}
		if id == 0 && l == 0 && n > 0 && !slices.ContainsFunc(b[n:], func(c byte) bool { return c != 0 }) {
			return len(b), true
		}
		if (id < lo || id > hi) && id < 256 || l < 4 || n+l > len(b) {
			return n, false
		}
		n += l
	}
	return n, n > 0
}

// exportHeader returns the version of a UDP payload that starts as a
// NetFlow v5, v9 or IPFIX header with an export time between 2000 and 2100,
// however its sets look (a malformed export is still an export), or 0.
func exportHeader(p []byte) int {
	if len(p) < 16 {
		return 0
	}
	v := int(binary.BigEndian.Uint16(p))
	var secs uint32
	switch v {
	case 5:
		if len(p) < 24 || binary.BigEndian.Uint32(p[12:]) >= 1e9 { // unix_nsecs
			return 0
		}
		secs = binary.BigEndian.Uint32(p[8:])
	case 9:
		secs = binary.BigEndian.Uint32(p[8:])
	case 10:
		secs = binary.BigEndian.Uint32(p[4:])
	default:
		return 0
	}
	if secs < 946684800 || secs >= 4102444800 {
		return 0
	}
	return v
}

// exportPorts gathers, port by port, what the UDP datagrams to ports
// outside the --ports at the start of a capture are.
type exportPorts map[uint16]*portExports

type portExports struct {
	version int  // of every datagram so far; 0 once one is not an export or their versions differ
	strict  bool // every datagram's sets fill it (exportVersion)
	n       int
}

// add notes a datagram to port and reports whether it may be an export (so
// far all the port's datagrams are exports of one version).
func (e exportPorts) add(port uint16, payload []byte) bool {
	v := exportVersion(payload)
	strict := v != 0
	if !strict {
		v = exportHeader(payload)
	}
	pe := e[port]
	if pe == nil {
		pe = &portExports{version: v, strict: true}
		e[port] = pe
	}
	pe.n++
	pe.strict = pe.strict && strict
	if v != pe.version {
		pe.version = 0
	}
	return pe.version != 0
}

// ports returns the ports to read as exports, most datagrams first: those
// whose every datagram is an export of one version (exportVersion) when
// they are at least half of the capture's first frames (a capture of
// exports, not raw traffic that carries a few); those whose datagrams only
// start as exports (exportHeader) when they are all the capture holds, or
// when it is said to hold exports.
func (e exportPorts) ports(frames int, saidExports bool) []int {
	var strict, all []int
	ns, na := 0, 0
	for port, pe := range e {
		if pe.version == 0 {
			continue
		}
		all, na = append(all, int(port)), na+pe.n
		if pe.strict {
			strict, ns = append(strict, int(port)), ns+pe.n
		}
	}
	var ports []int
	switch {
	case saidExports || na == frames:
		ports = all
	case 2*ns >= frames:
		ports = strict
	}
	slices.SortFunc(ports, func(a, b int) int {
		if d := e[uint16(b)].n - e[uint16(a)].n; d != 0 {
			return d
		}
		return a - b
	})
	return ports
}
