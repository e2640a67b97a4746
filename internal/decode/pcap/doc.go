// Package pcap is the packet source shared by spot's packet decoders (dns,
// flow): it reads pcap and pcapng captures and hands out one Packet per
// captured frame, with the link, network and transport headers parsed and
// IP fragments reassembled.
//
// # API
//
//	src, err := pcap.Open(name, stdin) // "" or "-" = stdin; gzip/zstd unwrapped (ioformat.OpenRaw)
//	defer src.Close()
//	for {
//		p, err := src.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil { // *CaptureError: the capture is corrupt or truncated from here on
//			...          // count it, warn (file, err.Frame), stop reading this file
//			break
//		}
//		switch p.Status {
//		case pcap.OK:        // p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort, p.Payload ...
//		case pcap.Fragment:  // an IP fragment, held; its datagram comes with a later frame
//		case pcap.NotIP:     // ARP, LLDP, an unknown link type...: nothing to decode
//		case pcap.Malformed: // a header is truncated or invalid: p.Err says which
//		}
//	}
//
// Next returns a pointer to a Packet owned by the Source: it and the slices
// it holds (Data, Payload) are valid until the next call to Next. Copy what
// must outlive it.
//
// # Numbering and time
//
// Packet.Frame numbers every packet record of the capture from 1, in file
// order, as Wireshark numbers frames (pcapng: enhanced, simple and obsolete
// packet blocks; other blocks are not frames). TsNs is the capture time in
// nanoseconds since the Unix epoch, WireLen the length on the wire (tshark's
// frame.len) and CapLen the captured length.
//
// # Layers
//
// Link layers: Ethernet (with 802.1Q VLAN and QinQ tags, MPLS label stacks,
// PPPoE sessions and LLC/SNAP), Linux cooked (SLL and SLL2), raw IP
// (LINKTYPE_RAW, IPV4, IPV6), BSD null/loopback, NFLOG, PPP and FDDI. A pcapng
// file may mix interfaces of several link types.
//
// Network: IPv4 (options skipped, payload trimmed to the total length so
// Ethernet padding never reaches the payload) and IPv6 (hop-by-hop, routing,
// destination options and authentication headers skipped). Fragments of both
// are reassembled: a datagram is returned, with Reassembled set, by the frame
// that completes it (as Wireshark reports it), the frames before it are
// returned with Status Fragment. Reassembly state is bounded (MaxPendingFrags
// datagrams, MaxPendingBytes bytes, FragTimeout of capture time) and evicts
// the oldest datagrams first, so memory stays flat on endless input.
//
// Transport: TCP (ports, flags, sequence and acknowledgement numbers,
// payload after options), UDP (payload bounded by the UDP length), ICMP and
// ICMPv6 (type and code); for any other protocol Payload is the IP payload.
//
// # Tunnels
//
// With an Unwrapper (SetUnwrapper; package tunnel has spot's), a packet
// that carries another (Packet.Carrier: IP in IP, GRE, a UDP
// encapsulation...) is followed by the packet inside it, of the same
// frame, its Tunnels naming each encapsulation outermost first, to
// MaxTunnelDepth deep. The inner frame is parsed here, as any frame is, its
// fragments reassembled; only the tunnel headers are the Unwrapper's.
// Without one, packets are returned as they are on the wire.
//
// # Other sources
//
// NewFrameSource reads frames from a FrameReader (a live interface) rather
// than a capture file.
//
// Header parsing is hand-written over the frame bytes (no per-packet
// allocation, no gopacket.Packet). Classic pcap records and pcapng blocks
// alike are read where they lie in the input buffer, or in a read-ahead's
// blocks (ReadBlocks); the pcapng reader is held to gopacket's
// pcapgo.NgReader by tests and fuzzing.
package pcap
