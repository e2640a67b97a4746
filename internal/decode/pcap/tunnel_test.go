package pcap

import (
	"bytes"
	"io"
	"testing"
)

// askLog is an Unwrapper that records the packets it is asked about and
// finds an IPv4 packet inside every packet of IP protocol 4.
type askLog struct{ asked []uint8 }

func (u *askLog) Unwrap(p *Packet) (Tunnel, uint16, []byte, bool, error) {
	if p.Status != OK {
		panic("asked about a packet not parsed")
	}
	u.asked = append(u.asked, p.Proto)
	if p.Proto != 4 {
		return Tunnel{}, 0, nil, false, nil
	}
	return Tunnel{Type: Tunnel4in4, Src: p.Src, Dst: p.Dst}, 0x0800, p.Payload, true, nil
}

// TestUnwrapperAsked: the Unwrapper is asked about parsed UDP packets and
// IP protocols 4, 41 and 47 only, inner packets included, never about TCP,
// ICMP or a malformed packet; the packet found inside comes next, of the
// same frame, and Drained says no while it is held.
func TestUnwrapperAsked(t *testing.T) {
	a, b := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	ip := func(proto byte, payload []byte) []byte {
		return append(ipv4Header(a, b, proto, 1, 0, false, len(payload)), payload...)
	}
	tcp := make([]byte, 20)
	tcp[12] = 5 << 4
	inner := ip(17, udp(1, 2, []byte("x")))
	frames := [][]byte{
		ether(0x0800, nil, ip(6, tcp)),
		ether(0x0800, nil, ip(1, []byte{8, 0, 0, 0})),
		ether(0x0800, nil, ip(17, udp(1, 2, nil))),
		ether(0x0800, nil, ip(17, []byte{1, 2})), // UDP header cut short
		ether(0x0800, nil, ip(4, inner)),         // UDP in IPv4 in IPv4
		ether(0x0800, nil, ip(4, ip(6, tcp))),    // TCP in IPv4 in IPv4
		ether(0x0800, nil, ip(41, nil)),
		ether(0x0800, nil, ip(47, nil)),
		ether(0x0800, nil, ip(50, nil)), // ESP
	}
	src, err := NewSource(bytes.NewReader(writePcap(t, LinkEthernet, frames...)), "test")
	if err != nil {
		t.Fatal(err)
	}
	u := &askLog{}
	src.SetUnwrapper(u)
	type got struct {
		frame  int64
		proto  uint8
		status Status
		depth  int
	}
	var pkts []got
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, got{p.Frame, p.Proto, p.Status, len(p.Tunnels)})
		if p.Carrier && src.Drained() {
			t.Errorf("frame %d: drained with a packet inside held", p.Frame)
		}
	}
	if _, err := src.Next(); err != io.EOF {
		t.Errorf("after the end: %v", err)
	}
	want := []got{{1, 6, OK, 0}, {2, 1, OK, 0}, {3, 17, OK, 0}, {4, 17, Malformed, 0},
		{5, 4, OK, 0}, {5, 17, OK, 1}, {6, 4, OK, 0}, {6, 6, OK, 1}, {7, 41, OK, 0}, {8, 47, OK, 0}, {9, 50, OK, 0}}
	if len(pkts) != len(want) {
		t.Fatalf("packets %v, want %v", pkts, want)
	}
	for i := range want {
		if pkts[i] != want[i] {
			t.Errorf("packet %d: %+v, want %+v", i, pkts[i], want[i])
		}
	}
	if wantAsked := []uint8{17, 4, 17, 4, 41, 47}; !bytes.Equal(u.asked, wantAsked) {
		t.Errorf("asked about protocols %v, want %v", u.asked, wantAsked)
	}
}
