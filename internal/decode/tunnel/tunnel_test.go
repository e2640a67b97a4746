package tunnel_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/testenv"
)

// packetLine is what a test sees of a packet: its status, innermost
// 5-tuple and tunnels.
func packetLine(p *pcap.Packet) string {
	if p.Status != pcap.OK {
		return fmt.Sprintf("%d %s %v | %s", p.Frame, p.Status, p.Err, pcap.AppendTunnels(nil, p.Tunnels))
	}
	return fmt.Sprintf("%d %v:%d>%v:%d/%d | %s", p.Frame, p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto, pcap.AppendTunnels(nil, p.Tunnels))
}

// read returns the lines of the packets found inside tunnels, and the
// Unwrapper's counts.
func read(t *testing.T, src *pcap.Source) ([]string, tunnel.Stats) {
	t.Helper()
	u := tunnel.New()
	src.SetUnwrapper(u)
	var lines []string
	var frame int64
	for {
		p, err := src.Next()
		if err == io.EOF {
			return lines, u.Stats
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tunnels) == 0 {
			if p.Frame != frame+1 {
				t.Fatalf("frame %d after %d", p.Frame, frame)
			}
			frame = p.Frame
		} else if p.Frame != frame {
			t.Fatalf("inner packet of frame %d after frame %d", p.Frame, frame)
		}
		if len(p.Tunnels) > 0 {
			lines = append(lines, packetLine(p))
		}
	}
}

// TestTraces reads Zeek's tunnel traces (testdata/tunnels, copied from the
// corpus): the first packet found inside tunnels in each, and how many.
func TestTraces(t *testing.T) {
	tests := []struct {
		file   string
		first  string
		n      int
		broken int64
		undec  int64
	}{
		{"4in4.pcap", "1 10.0.0.1:30000>10.0.0.2:13000/17 | 4in4 1.2.3.4>5.6.7.8", 1, 0, 0},
		{"4in6.pcap", "1 70.55.213.211:31337>192.88.99.1:80/6 | 4in6 2002:4637:d5d3::4637:d5d3>2001:4860:0:2001::68", 1, 0, 0},
		{"6in4.pcap", "1 dead::beef:30000>cafe::babe:13000/17 | 6in4 1.2.3.4>5.6.7.8", 1, 0, 0},
		{"6in6in6.pcap", "1 babe::beef:0>dead::babe:0/41 | 6in6 feed::beef>feed::cafe", 2, 0, 0},
		{"ayiya3.pcap", "1 2001:4978:f:4c::1:0>2001:4978:f:4c::2:0/58 | ayiya 216.14.98.22:5072>192.168.3.101:53796", 32, 0, 0},
		{"geneve-many-options.pcap", "1 10.0.0.226:39088>95.217.228.176:80/6 | geneve 192.168.33.179:6667>192.168.179.33:6081 vni=786734", 10, 0, 0},
		{"geneve-arp.pcap", "", 0, 0, 0},
		{"geneve-truncated.pcapng", "1 malformed inside geneve: link header truncated | geneve 20.0.0.1:50901>20.0.0.2:6081 vni=0", 1, 0, 0},
		{"geneve-vxlan-dns-truncated.pcap", "1 127.0.0.1:26383>127.0.0.1:4789/17 | geneve 127.0.0.1:11803>127.0.0.1:6081 vni=4242", 4, 0, 0},
		{"gre-aruba-ccmp.pcap", "", 0, 0, 2},
		{"gre-erspan3-dot1q.pcap", "1 172.31.10.31:0>172.31.10.2:0/1 | erspan3 172.31.1.23>172.31.1.135 session=0", 2, 0, 0},
		{"gre-over-udp-4754.pcap", "1 172.17.0.2:51714>1.1.1.1:53/17 | gre 192.168.0.107:50343>192.168.5.1:4754", 14, 0, 0},
		{"gre-pptp.pcap", "1 16.0.0.200:0>192.52.166.154:0/47 | 4in6 2402:f000:1:8e01::5555>2607:fcd0:100:2300::b108:2a6b", 4, 0, 0},
		{"gre-sample.pcap", "1 66.59.111.190:0>172.28.2.3:0/1 | gre 172.27.1.66>66.59.109.137", 40, 0, 0},
		{"gtp_gtp1_gn_normal_incl_fragmentation.pcap", "1 10.131.47.185:1923>79.101.110.141:80/6 | gtp 239.114.155.111:2152>63.94.149.181:2152 teid=0x8c61be36", 68, 0, 0},
		{"gtp_gtp3_false_gtp.pcap", "", 0, 0, 0},
		{"gtp_gtp10_not_0xff.pcap", "", 0, 0, 0},
		{"gtp_gtp8_teredo.pcap", "1 172.24.204.200:56528>65.55.158.118:3544/17 | gtp 174.94.190.213:2152>190.104.181.57:2152 teid=0x981137bc", 13, 0, 0},
		{"gtp_gtp_ext_header.pcap", "2 10.155.182.202:41511>10.155.186.57:6005/6 | gtp 10.155.148.149:9000>10.155.148.157:2152 teid=0x00100657", 1, 0, 0},
		{"mpls-6in6-6in6-4in6-invalid-version-4.pcap", "1 ff00:0:6929::6904:ff:3bbf:0>ffff:0:69:2900:0:69:400:ff3b:0/4 | 6in6 b100:7265::6904:2aff>3bbf:ff00:40:21:ffff:ffff:fffd:f7ff", 2, 0, 0},
		{"teredo_bubble_with_payload.pcap", "1 fe80::8000:ffff:ffff:fffd:0>ff02::2:0/58 | teredo 192.168.2.16:3797>65.55.158.80:3544", 26, 0, 0},
		{"vxlan.pcap", "1 not-ip <nil> | vxlan 192.168.56.11:39924>192.168.56.12:4789 vni=123", 10, 0, 0},
		{"vxlan-triple-v2.pcap", "1 2.2.2.2:4789>2.2.2.9:4789/17 | vxlan 1.1.1.1:4789>1.1.1.9:4789 vni=1", 3, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			src, err := pcap.Open(filepath.Join(testenv.Testdata(t, "tunnels"), tc.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			lines, st := read(t, src)
			first := ""
			if len(lines) > 0 {
				first = lines[0]
			}
			if first != tc.first || len(lines) != tc.n || st.Broken != tc.broken || st.Undecoded != tc.undec {
				t.Errorf("first %q, %d inner packets, %d broken, %d undecoded;\nwant %q, %d, %d, %d", first, len(lines), st.Broken, st.Undecoded,
					tc.first, tc.n, tc.broken, tc.undec)
			}
		})
	}
}

// frames builds a classic pcap of Ethernet frames.
func capture(frames ...[]byte) []byte {
	b := make([]byte, 24, 1024)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], 1)
	for i, f := range frames {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(1700000000+i))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(f)))
		b = append(append(b, h[:]...), f...)
	}
	return b
}

func eth(ethertype uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(b[12:], ethertype)
	return append(b, payload...)
}

func ip4(src, dst byte, proto byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{10, 0, 0, src})
	copy(h[16:], []byte{10, 0, 0, dst})
	return append(h, payload...)
}

func ip6(proto byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = proto, 64
	h[8], h[23] = 0x20, 1
	h[9] = 0x01 // 2001:0::1, a Teredo address
	h[24], h[39] = 0xfd, 2
	return append(h, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func gre(flags byte, version byte, proto uint16, fields []uint32, payload []byte) []byte {
	h := []byte{flags, version, byte(proto >> 8), byte(proto)}
	for _, f := range fields {
		h = binary.BigEndian.AppendUint32(h, f)
	}
	return append(h, payload...)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

var dnsQuery = udp(40000, 53, []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"))

// TestEncapsulations builds packets of each encapsulation, and broken ones.
func TestEncapsulations(t *testing.T) {
	inner := ip4(1, 2, 17, dnsQuery)
	geneveOpts := make([]byte, 252) // 63 options of 4 bytes: past what gopacket's byte-wide offset holds
	for i := 0; i < len(geneveOpts); i += 4 {
		geneveOpts[i+1] = 1 // class 1, type 0, no data
	}
	nested := inner
	for range pcap.MaxTunnelDepth + 1 {
		nested = ip4(9, 9, 4, nested)
	}
	tests := []struct {
		name  string
		frame []byte
		want  string // the last packet's line
	}{
		{"GRE keyed, sequenced, checksummed", eth(0x0800, ip4(7, 8, 47, gre(0xb0, 0, 0x0800, []uint32{0, 42, 7}, inner))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | gre 10.0.0.7>10.0.0.8 key=0x0000002a"},
		{"GRE in GRE", eth(0x0800, ip4(7, 8, 47, gre(0, 0, 0x0800, nil, ip4(5, 6, 47, gre(0x20, 0, 0x86dd, []uint32{1}, ip6(17, dnsQuery)))))),
			"1 2001::1:40000>fd00::2:53/17 | gre 10.0.0.7>10.0.0.8; gre 10.0.0.5>10.0.0.6 key=0x00000001"},
		{"GRE carrying MPLS", eth(0x0800, ip4(7, 8, 47, gre(0, 0, 0x8847, []uint32{0x00001140}, inner))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | gre 10.0.0.7>10.0.0.8"},
		{"GRE carrying Ethernet", eth(0x0800, ip4(7, 8, 47, gre(0, 0, 0x6558, nil, eth(0x0800, inner)))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | gre 10.0.0.7>10.0.0.8"},
		{"GRE version 2", eth(0x0800, ip4(7, 8, 47, gre(0, 2, 0x0800, nil, inner))),
			"1 malformed GRE version 2 | gre 10.0.0.7>10.0.0.8"},
		{"GRE truncated", eth(0x0800, ip4(7, 8, 47, []byte{0x20, 0, 8, 0, 0})),
			"1 malformed GRE header: GRE packet truncated | gre 10.0.0.7>10.0.0.8"},
		{"ERSPAN I", eth(0x0800, ip4(7, 8, 47, gre(0, 0, 0x88be, nil, eth(0x0800, inner)))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | erspan2 10.0.0.7>10.0.0.8"},
		{"ERSPAN II", eth(0x0800, ip4(7, 8, 47, gre(0x10, 0, 0x88be, []uint32{1}, cat([]byte{0x10, 0, 0, 5, 0, 0, 0, 0}, eth(0x0800, inner))))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | erspan2 10.0.0.7>10.0.0.8 session=5"},
		{"ERSPAN III with a platform subheader", eth(0x0800, ip4(7, 8, 47, gre(0x10, 0, 0x22eb, []uint32{1}, cat([]byte{0x20, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 8), eth(0x0800, inner))))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | erspan3 10.0.0.7>10.0.0.8 session=9"},
		{"PPTP, compressed PPP", eth(0x0800, ip4(7, 8, 47, gre(0x30, 0x81, 0x880b, []uint32{uint32(1+len(inner))<<16 | 77, 1, 0}, cat([]byte{0x21}, inner)))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | pptp 10.0.0.7>10.0.0.8 call=77"},
		{"PPTP acknowledgement only", eth(0x0800, ip4(7, 8, 47, gre(0x20, 0x81, 0x880b, []uint32{77, 0}, nil))),
			""},
		{"VXLAN", eth(0x0800, ip4(7, 8, 17, udp(1234, 4789, cat([]byte{8, 0, 0, 0, 0, 1, 0, 0}, eth(0x0800, inner))))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | vxlan 10.0.0.7:1234>10.0.0.8:4789 vni=256"},
		{"VXLAN truncated", eth(0x0800, ip4(7, 8, 17, udp(1234, 4789, []byte{8, 0, 0}))),
			"1 malformed VXLAN header: vxlan packet too small | vxlan 10.0.0.7:1234>10.0.0.8:4789"},
		{"Geneve, 252 bytes of options", eth(0x0800, ip4(7, 8, 17, udp(1234, 6081, cat([]byte{63, 0, 0x08, 0, 0, 0, 7, 0}, geneveOpts, inner)))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | geneve 10.0.0.7:1234>10.0.0.8:6081 vni=7"},
		{"GTP-U, extension header, padding", eth(0x0800, ip4(7, 8, 17, udp(2152, 2152, cat([]byte{0x34, 0xff, 0, byte(4 + 4 + len(inner)), 0, 0, 0, 9, 0, 0, 0, 0x85, 1, 0, 0, 0}, inner, make([]byte, 6))))),
			"1 10.0.0.1:40000>10.0.0.2:53/17 | gtp 10.0.0.7:2152>10.0.0.8:2152 teid=0x00000009"},
		{"GTP-U echo", eth(0x0800, ip4(7, 8, 17, udp(2152, 2152, []byte{0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}))),
			""},
		{"Teredo with an origin indication, any port", eth(0x0800, ip4(7, 8, 17, udp(3797, 40000, cat([]byte{0, 0, 1, 2, 3, 4, 5, 6}, ip6(17, dnsQuery))))),
			"1 2001::1:40000>fd00::2:53/17 | teredo 10.0.0.7:3797>10.0.0.8:40000"},
		{"AYIYA", eth(0x0800, ip4(7, 8, 17, udp(5072, 5072, cat([]byte{0x41, 0x52, 0x11, 41, 0, 0, 0, 0}, make([]byte, 16+20), ip6(17, dnsQuery))))),
			"1 2001::1:40000>fd00::2:53/17 | ayiya 10.0.0.7:5072>10.0.0.8:5072"},
		{"too deep", eth(0x0800, nested),
			"1 malformed tunnels nested more than 8 deep | 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9; 4in4 10.0.0.9>10.0.0.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := pcap.NewSource(bytes.NewReader(capture(tc.frame)), "test")
			if err != nil {
				t.Fatal(err)
			}
			lines, _ := read(t, src)
			got := ""
			if len(lines) > 0 {
				got = lines[len(lines)-1]
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q\nall %s", got, tc.want, strings.Join(lines, "\n    "))
			}
		})
	}
}
