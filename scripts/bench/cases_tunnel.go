package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// tunnelCases: spot decode dns on dnsperf-nsd.pcap's packets inside VXLAN
// (each Ethernet frame in UDP 4789, VNI 42) and inside keyed GRE (each IP
// packet, key 7), repeated 15 times (510k packets), against tshark, which
// decodes the same tunnels; dnsCases has the same capture unwrapped.
func tunnelCases(env *Env) []Case {
	seed := filepath.Join(env.Corpus, "dns", "generated", "dnsperf-nsd.pcap")
	const seedPackets = 34049
	copies := 15
	if env.Small {
		copies = 2
	}
	n := copies * seedPackets
	var cases []Case
	for _, kind := range []string{"vxlan", "gre"} {
		wrapped := filepath.Join(env.Dir, "dnsperf-"+kind+".pcap")
		file := filepath.Join(env.Dir, fmt.Sprintf("dns-%s-%d.pcap", kind, n))
		setup := func() error {
			if err := wrapPcap(seed, wrapped, kind); err != nil {
				return err
			}
			return repeatPcap(wrapped, file, copies)
		}
		name := fmt.Sprintf("dns decode %s pkts in %s", si(float64(n)), map[string]string{"vxlan": "VXLAN", "gre": "GRE"}[kind])
		cases = append(cases,
			Case{Name: name + " -> NDJSON", Items: float64(n), Unit: "packets", Input: file, Setup: setup,
				Ours:     fmt.Sprintf("$SPOT decode dns %s > /dev/null", file),
				PeerName: "tshark",
				Peer: fmt.Sprintf("tshark -n -r %s -T fields -E separator=, -E occurrence=l -e frame.time -e frame.len -e ip.dst -e ip.src "+
					"-e dns.qry.name -e dns.qry.class -e dns.qry.type -e dns.flags.rcode -e dns.a -Y 'dns.flags.response == 1' > /dev/null", file)},
			Case{Name: name + " -> Parquet", Items: float64(n), Unit: "packets", Input: file, Setup: setup,
				Ours: fmt.Sprintf("$SPOT decode dns %s -o %s.parquet", file, file)})
	}
	return cases
}

// wrapPcap writes the Ethernet frames of the classic pcap seed inside a
// tunnel between 192.0.2.1 and 192.0.2.2: "vxlan" (the whole frame, UDP
// 4789, VNI 42) or "gre" (the IP packet, GRE with key 7).
func wrapPcap(seed, dest, kind string) error {
	if exists(dest) {
		return nil
	}
	data, err := os.ReadFile(seed)
	if err != nil {
		return err
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(data) != 0xa1b23c4d || binary.LittleEndian.Uint32(data[20:]) != 1 {
		return errors.New("seed is not a little-endian classic pcap of Ethernet frames")
	}
	tmp := dest + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := append([]byte(nil), data[:24]...)
	binary.LittleEndian.PutUint32(hdr[16:], 262144) // snaplen: room for the outer headers
	w.Write(hdr)
	var out []byte
	for off := 24; off+16 <= len(data); {
		capLen := int(binary.LittleEndian.Uint32(data[off+8:]))
		wireLen := int(binary.LittleEndian.Uint32(data[off+12:]))
		frame := data[off+16 : off+16+capLen]
		rec := data[off : off+16]
		off += 16 + capLen
		out = out[:0]
		var inner []byte
		proto := byte(17)
		switch kind {
		case "vxlan":
			udp := make([]byte, 16)
			binary.BigEndian.PutUint16(udp[0:], 49152)
			binary.BigEndian.PutUint16(udp[2:], 4789)
			binary.BigEndian.PutUint16(udp[4:], uint16(16+len(frame)))
			udp[8] = 0x08                               // VNI present
			binary.BigEndian.PutUint32(udp[12:], 42<<8) // VNI 42
			inner = append(udp, frame...)
		case "gre":
			if len(frame) < 14 {
				continue
			}
			proto = 47
			gre := make([]byte, 8)
			binary.BigEndian.PutUint16(gre[0:], 0x2000)                              // key present
			binary.BigEndian.PutUint16(gre[2:], binary.BigEndian.Uint16(frame[12:])) // the frame's ethertype
			binary.BigEndian.PutUint32(gre[4:], 7)
			inner = append(gre, frame[14:]...)
		default:
			return fmt.Errorf("unknown tunnel %q", kind)
		}
		eth := []byte{0, 0, 0x5e, 0, 0x53, 2, 0, 0, 0x5e, 0, 0x53, 1, 0x08, 0x00}
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(inner)))
		copy(ip[12:], []byte{192, 0, 2, 1})
		copy(ip[16:], []byte{192, 0, 2, 2})
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		out = append(append(append(out, eth...), ip...), inner...)
		grow := len(out) - len(frame)
		r := append([]byte(nil), rec...)
		binary.LittleEndian.PutUint32(r[8:], uint32(len(out)))
		binary.LittleEndian.PutUint32(r[12:], uint32(wireLen+grow))
		w.Write(r)
		w.Write(out)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}
