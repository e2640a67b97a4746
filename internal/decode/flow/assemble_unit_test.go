package flow

import (
	"context"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

func tcpPkt(t time.Duration, src, dst string, sp, dp uint16, flags uint8, n int) *pcap.Packet {
	return &pcap.Packet{TsNs: int64(t), Status: pcap.OK, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		Proto: pcap.ProtoTCP, SrcPort: sp, DstPort: dp, TCPFlags: flags, IPLen: n}
}

func TestAssemblerSemantics(t *testing.T) {
	a := NewAssembler("x", AssembleOptions{IdleTimeout: 10 * time.Second, ActiveTimeout: 100 * time.Second, MaxFlows: 10})
	var out []record.Flow
	s := time.Second
	const c, sv = "10.0.0.1", "10.0.0.2"
	for _, p := range []*pcap.Packet{
		tcpPkt(1*s, c, sv, 1000, 80, pcap.TCPSyn, 60),
		tcpPkt(1*s, sv, c, 80, 1000, pcap.TCPSyn|pcap.TCPAck, 60),
		tcpPkt(2*s, c, sv, 1000, 80, pcap.TCPAck|pcap.TCPPsh, 100),
		tcpPkt(3*s, c, sv, 1000, 80, pcap.TCPFin|pcap.TCPAck, 40),
		tcpPkt(3*s, sv, c, 80, 1000, pcap.TCPFin|pcap.TCPAck, 40),
		tcpPkt(3*s, c, sv, 1000, 80, pcap.TCPAck, 40), // the last ACK lingers into the flow
		tcpPkt(4*s, c, sv, 1000, 80, pcap.TCPSyn, 60), // a new connection, same ports
	} {
		out = a.Add(p, out)
	}
	if len(out) != 1 {
		t.Fatalf("%d flows ended, want the first (by the new SYN)", len(out))
	}
	f := out[0]
	if f.SIP != c || f.DIP != sv || f.SPort != 1000 || f.DPort != 80 || f.IPkt != 4 || f.IByt != 240 || f.OPkt != 2 || f.OByt != 100 ||
		f.Flag != "...AP.SF" || f.TDur != 2 || f.Source != "packets" {
		t.Fatalf("%+v", f)
	}
	// The second connection ends 5 s (the FIN linger) after its RST.
	out = a.Add(tcpPkt(5*s, sv, c, 80, 1000, pcap.TCPRst, 40), out[:0])
	out = a.Add(tcpPkt(9*s, "10.9.9.9", sv, 5, 6, pcap.TCPSyn, 40), out)
	if len(out) != 0 {
		t.Fatalf("ended too soon: %+v", out)
	}
	out = a.Add(tcpPkt(11*s, "10.9.9.9", sv, 5, 6, pcap.TCPAck, 40), out)
	if len(out) != 1 || out[0].IPkt != 1 || out[0].OPkt != 1 || out[0].Flag != ".....RS." {
		t.Fatalf("%+v", out)
	}
	// Idle timeout: 10.9.9.9's flow ends 10 s after its last packet.
	out = a.Add(tcpPkt(22*s, "10.8.8.8", sv, 7, 8, pcap.TCPAck, 40), out[:0])
	if len(out) != 1 || out[0].SIP != "10.9.9.9" || out[0].IPkt != 2 {
		t.Fatalf("%+v", out)
	}
	// ICMP: type and code in dport; the echo reply is a flow of its own.
	icmp := &pcap.Packet{TsNs: int64(23 * s), Status: pcap.OK, Src: netip.MustParseAddr(c), Dst: netip.MustParseAddr(sv),
		Proto: pcap.ProtoICMP, ICMPType: 8, IPLen: 84}
	out = a.Add(icmp, out[:0])
	// Active timeout: a flow busy past 100 s is cut and goes on.
	for i := 0; i <= 12; i++ {
		out = a.Add(tcpPkt(time.Duration(22+10*i)*s, "10.8.8.8", sv, 7, 8, pcap.TCPAck, 40), out)
	}
	out = a.Flush(out)
	var icmpSeen, cuts int
	for _, f := range out {
		if f.Proto == "ICMP" && f.DPort == 2048 && f.SPort == 0 && f.IPkt == 1 {
			icmpSeen++
		}
		if f.SIP == "10.8.8.8" {
			cuts++
		}
	}
	if icmpSeen != 1 || cuts != 2 {
		t.Fatalf("icmp %d, 10.8.8.8 records %d: %+v", icmpSeen, cuts, out)
	}
	if a.Open() != 0 {
		t.Fatal("flows left open after Flush")
	}
}

func TestAssemblerBoundedTable(t *testing.T) {
	a := NewAssembler("x", AssembleOptions{MaxFlows: 100})
	var out []record.Flow
	for i := 0; i < 1000; i++ {
		p := tcpPkt(time.Duration(i)*time.Millisecond, "10.0.0.1", "10.0.0.2", uint16(i), 80, pcap.TCPSyn, 60)
		out = a.Add(p, out)
		if a.Open() > 100 {
			t.Fatalf("%d flows held", a.Open())
		}
	}
	out = a.Flush(out)
	if len(out) != 1000 || a.Stats.Evicted != 900 {
		t.Fatalf("%d records, %d evicted", len(out), a.Stats.Evicted)
	}
}

// TestHandoff: batches handed off (kept by the consumer, which returns
// another buffer) carry the records emit gets, for exports, raw datagrams
// and flows assembled from packets.
func TestHandoff(t *testing.T) {
	for _, c := range []struct {
		file string
		o    Options
	}{
		{"alexa-app.softflowd-v5.pcap", Options{Ports: []int{29995}, BatchSize: 7}},
		{"alexa-app.softflowd-v10.pcap", Options{Ports: []int{29997}, BatchSize: 7}},
		{"asa.dat", Options{BatchSize: 2}},
		{"conn-size.pcap", Options{From: "packets", BatchSize: 3}},
	} {
		file := filepath.Join("../../../testdata/flow", c.file)
		if c.file == "asa.dat" { // raw datagrams: a template, then data
			var b []byte
			for _, f := range []string{"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat"} {
				d, err := os.ReadFile(filepath.Join("../../../testdata/flow", f))
				if err != nil {
					t.Fatal(err)
				}
				b = append(b, d...)
			}
			file = filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, _ := decodeFile(t, file, c.o)
		if len(want) == 0 {
			t.Fatalf("%s: no records", c.file)
		}
		var got [][]record.Flow
		free := [][]record.Flow{nil, nil}
		c.o.Handoff = func(b []record.Flow) ([]record.Flow, error) {
			got = append(got, b) // kept: the decoder must not touch it again
			next := free[0][:0]
			free = free[1:]
			return next, nil
		}
		for range 1000 {
			free = append(free, make([]record.Flow, 0, 1))
		}
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(context.Background(), file, fh, c.o, func(b []record.Flow) error {
			got = append(got, slices.Clone(b))
			return nil
		})
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if all := slices.Concat(got...); !slices.Equal(all, want) {
			t.Errorf("%s: handed off %d records, emit got %d, or they differ", c.file, len(all), len(want))
		}
	}
}

// TestAssemblerVirtualNetworks: the same 5-tuple in two VXLAN networks and
// in none makes three flows, each naming what carried its first packet (a
// packet in a GTP tunnel, of no virtual network, counts in the plain
// flow); networks whose keys' tags are equal (VNIs 0x010001 and 0x020002)
// are still told apart.
func TestAssemblerVirtualNetworks(t *testing.T) {
	if vnetTag(pcap.TunnelVXLAN, 0x010001) != vnetTag(pcap.TunnelVXLAN, 0x020002) {
		t.Fatal("the test wants two networks of the same tag")
	}
	vxlan := func(vni uint32) []pcap.Tunnel {
		return []pcap.Tunnel{{Type: pcap.TunnelVXLAN, HasID: true, ID: vni, Src: netip.MustParseAddr("192.0.2.1"),
			Dst: netip.MustParseAddr("192.0.2.2"), SrcPort: 50000, DstPort: 4789}}
	}
	gtp := []pcap.Tunnel{{Type: pcap.TunnelGTP, HasID: true, ID: 7, Src: netip.MustParseAddr("192.0.2.3"),
		Dst: netip.MustParseAddr("192.0.2.4"), SrcPort: 2152, DstPort: 2152}}
	a := NewAssembler("x", AssembleOptions{})
	var out []record.Flow
	s := time.Second
	for i, ts := range [][]pcap.Tunnel{vxlan(0x010001), vxlan(0x020002), nil, vxlan(0x010001), gtp, vxlan(0x020002), vxlan(0x020002), nil} {
		p := tcpPkt(time.Duration(i)*s, "10.0.0.1", "10.0.0.2", 1000, 80, pcap.TCPAck, 100)
		if i%2 == 1 { // replies
			p = tcpPkt(time.Duration(i)*s, "10.0.0.2", "10.0.0.1", 80, 1000, pcap.TCPAck, 100)
		}
		p.Tunnels = ts
		out = a.Add(p, out)
	}
	out = a.Flush(out)
	got := map[string][2]int64{}
	for _, f := range out {
		got[f.Tunnel] = [2]int64{f.IPkt, f.OPkt}
	}
	want := map[string][2]int64{
		"vxlan 192.0.2.1:50000>192.0.2.2:4789 vni=65537":  {1, 1},
		"vxlan 192.0.2.1:50000>192.0.2.2:4789 vni=131074": {2, 1}, // its first packet a reply: its initiator is 10.0.0.2
		"": {2, 1},
	}
	if len(out) != 3 || !maps.Equal(got, want) {
		t.Errorf("%d flows: %v, want %v", len(out), got, want)
	}
	if len(a.tunnels) != 0 {
		t.Errorf("%d tunnel entries left after every flow ended", len(a.tunnels))
	}
}
