package live

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/spot-hunt/spot/internal/decode/pcap"
)

// FilterSpec says which packets a decoder may need; Filter builds the
// kernel filter that keeps them and drops the rest before they are copied
// to spot.
type FilterSpec struct {
	// Ports: TCP and UDP packets to or from these ports are kept. Empty
	// keeps every packet (the filter only cuts them to the snap length).
	Ports []int
	// ICMP keeps ICMP and ICMPv6 packets (errors quote what they answer).
	ICMP bool
	// Tunnels keeps what may carry a packet inside it: IP in IP, GRE, and
	// UDP to or from the ports of spot's UDP encapsulations.
	Tunnels bool
	// TunnelPorts are those UDP ports.
	TunnelPorts []int
}

// Filter returns the classic BPF program for spec on a link of type link
// (pcap.LinkEthernet, or pcap.LinkRaw for frames that start at the IP
// header). A kept packet is cut to snaplen bytes.
//
// The filter drops only what surely holds nothing the decoder reads: every
// IP fragment is kept (the reassembler needs all of them), and so are
// frames it does not look into (802.1Q and QinQ tags the kernel left in
// place, MPLS, PPPoE, IPv6 extension headers). Non-IP frames are dropped.
func Filter(link pcap.LinkType, spec FilterSpec, snaplen int) ([]bpf.RawInstruction, error) {
	keep := bpf.RetConstant{Val: uint32(snaplen)}
	if len(spec.Ports) == 0 {
		return bpf.Assemble([]bpf.Instruction{keep})
	}
	var p prog
	var l3 uint32 // offset of the IP header
	switch link {
	case pcap.LinkEthernet:
		l3 = 14
		p.add(bpf.LoadAbsolute{Off: 12, Size: 2})
		p.jeq(0x0800, "ip4", "")
		p.jeq(0x86dd, "ip6", "")
		for _, et := range []uint32{0x8100, 0x88a8, 0x9100, 0x8847, 0x8848, 0x8864} {
			p.jeq(et, "keep", "")
		}
		p.jump("drop")
	case pcap.LinkRaw:
		p.add(bpf.LoadAbsolute{Off: 0, Size: 1})
		p.add(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		p.jeq(4, "ip4", "")
		p.jeq(6, "ip6", "")
		p.jump("drop")
	default:
		return nil, fmt.Errorf("no kernel filter for link type %d", link)
	}
	ports := append([]int(nil), spec.Ports...)
	if spec.Tunnels {
		ports = append(ports, spec.TunnelPorts...)
	}

	p.label("ip4")
	p.add(bpf.LoadAbsolute{Off: l3 + 6, Size: 2})
	p.jset(0x3fff, "keep", "") // a fragment: MF set or an offset
	p.add(bpf.LoadAbsolute{Off: l3 + 9, Size: 1})
	p.jeq(6, "l4v4", "")
	p.jeq(17, "l4v4", "")
	if spec.ICMP {
		p.jeq(1, "keep", "")
	}
	if spec.Tunnels {
		p.jeq(4, "keep", "")
		p.jeq(41, "keep", "")
		p.jeq(47, "keep", "")
	}
	p.jump("drop")
	p.label("l4v4")
	p.add(bpf.LoadMemShift{Off: l3}) // X = IPv4 header length
	p.add(bpf.LoadIndirect{Off: l3, Size: 2})
	p.ports(ports)
	p.add(bpf.LoadIndirect{Off: l3 + 2, Size: 2})
	p.ports(ports)
	p.jump("drop")

	p.label("ip6")
	p.add(bpf.LoadAbsolute{Off: l3 + 6, Size: 1})
	p.jeq(6, "l4v6", "")
	p.jeq(17, "l4v6", "")
	if spec.ICMP {
		p.jeq(58, "keep", "")
	}
	if spec.Tunnels {
		p.jeq(4, "keep", "")
		p.jeq(41, "keep", "")
		p.jeq(47, "keep", "")
	}
	// Extension headers (hop-by-hop, routing, fragment, destination
	// options, authentication): what follows them is not looked into.
	for _, nh := range []uint32{0, 43, 44, 51, 60} {
		p.jeq(nh, "keep", "")
	}
	p.jump("drop")
	p.label("l4v6")
	p.add(bpf.LoadAbsolute{Off: l3 + 40, Size: 2})
	p.ports(ports)
	p.add(bpf.LoadAbsolute{Off: l3 + 42, Size: 2})
	p.ports(ports)

	p.label("drop")
	p.add(bpf.RetConstant{Val: 0})
	p.label("keep")
	p.add(keep)
	return p.assemble()
}

// prog is a BPF program whose jumps name labels, resolved by assemble.
type prog struct {
	ins    []bpf.Instruction
	jumps  map[int][2]string // instruction -> labels if true, if false ("" = next)
	labels map[string]int
}

func (p *prog) add(i bpf.Instruction) { p.ins = append(p.ins, i) }

func (p *prog) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.ins)
}

func (p *prog) cond(c bpf.JumpTest, v uint32, yes, no string) {
	if p.jumps == nil {
		p.jumps = map[int][2]string{}
	}
	p.jumps[len(p.ins)] = [2]string{yes, no}
	p.add(bpf.JumpIf{Cond: c, Val: v})
}

func (p *prog) jeq(v uint32, yes, no string)  { p.cond(bpf.JumpEqual, v, yes, no) }
func (p *prog) jset(v uint32, yes, no string) { p.cond(bpf.JumpBitsSet, v, yes, no) }

func (p *prog) jump(to string) {
	if p.jumps == nil {
		p.jumps = map[int][2]string{}
	}
	p.jumps[len(p.ins)] = [2]string{to, ""}
	p.add(bpf.Jump{})
}

// ports keeps the packet when the value loaded is one of ports.
func (p *prog) ports(ports []int) {
	for _, port := range ports {
		p.jeq(uint32(port), "keep", "")
	}
}

func (p *prog) assemble() ([]bpf.RawInstruction, error) {
	skip := func(i int, label string) (uint32, error) {
		if label == "" {
			return 0, nil
		}
		t, ok := p.labels[label]
		if !ok {
			return 0, fmt.Errorf("filter: no label %q", label)
		}
		return uint32(t - i - 1), nil
	}
	for i, j := range p.jumps {
		yes, err := skip(i, j[0])
		if err != nil {
			return nil, err
		}
		no, err := skip(i, j[1])
		if err != nil {
			return nil, err
		}
		switch in := p.ins[i].(type) {
		case bpf.Jump:
			in.Skip = yes
			p.ins[i] = in
		case bpf.JumpIf:
			if yes > 255 || no > 255 {
				return nil, fmt.Errorf("filter too long (%d instructions)", len(p.ins))
			}
			in.SkipTrue, in.SkipFalse = uint8(yes), uint8(no)
			p.ins[i] = in
		}
	}
	return bpf.Assemble(p.ins)
}
