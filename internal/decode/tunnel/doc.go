// Package tunnel finds the packets inside encapsulations, for the packet
// decoders (dns, flow): spot's fast path (package pcap) parses a frame's
// link, IP and transport headers, and hands the packet to an Unwrapper only
// when it is IP-in-IP, GRE or UDP to a tunnel's port (or, for Teredo, looks
// like it). The Unwrapper reads the tunnel's header with gopacket's layers
// and returns the inner frame, which the fast path parses in turn, to
// pcap.MaxTunnelDepth encapsulations deep.
//
//	src.SetUnwrapper(tunnel.New()) // src: a *pcap.Source
//
// Encapsulations (each reported as a pcap.Tunnel: type, outer addresses and
// UDP ports, and its identifier):
//
//   - GRE over IP and over UDP 4754 (RFC 8086): keyed (key), sequenced,
//     checksummed, routed, GRE in GRE; carrying IPv4, IPv6, MPLS, Ethernet
//     (transparent bridging) or PPP. gopacket's layers.GRE.
//   - PPTP's enhanced GRE (version 1) carrying PPP (call id), PPP's
//     compressed protocol field included.
//   - ERSPAN type I and II (gopacket's layers.ERSPANII) and type III
//     (a decoder here: gopacket has none), in GRE (session id).
//   - VXLAN, UDP 4789 (gopacket's layers.VXLAN; vni).
//   - Geneve, UDP 6081, with options, carrying Ethernet or IP (gopacket's
//     layers.Geneve; vni). The payload is found from the header's own
//     length: gopacket's offset wraps past 255 bytes of options.
//   - GTP-U version 1, UDP 2152, either end: G-PDUs with sequence numbers,
//     N-PDU numbers and extension headers (gopacket's layers.GTPv1U; teid).
//     Other message types are the tunnel's own and carry no packet; a
//     datagram to or from port 2152 that is no GTP version 1 is left as it
//     is (Zeek's gtp3_false_gtp: DNS from port 2152). Outer IP fragments
//     are reassembled by the fast path before the GTP header is read.
//   - IPv4 and IPv6 in IPv4 and IPv6 (4in4, 6in4, 4in6, 6in6, nested).
//   - Teredo (RFC 4380) with its authentication and origin indications: on
//     UDP 3544, and on any port for an IPv6 packet of exactly the
//     datagram's length to or from 2001:0::/32, as Zeek's DPD finds it.
//   - AYIYA, UDP 5072: forwarded IPv6 or IPv4 packets (a decoder here).
//
// What a tunnel carries that spot does not decode (GRE carrying 802.11
// frames, as Aruba's controllers send them, or another protocol; Geneve
// carrying another protocol than Ethernet, IP or ARP) leaves the packet as
// the outer packet it is, counted in Stats.Undecoded for the command to
// warn of. GTP-U messages other than G-PDUs and Geneve carrying ARP hold
// no IP packet: they are not counted. A broken
// encapsulation (a truncated header, an unknown version, a decoder that
// fails) makes its inner packet Malformed, counted in Stats.Broken, so the
// command warns and exits 3.
package tunnel
