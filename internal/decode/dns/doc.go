// Package dns decodes DNS messages from captured packets into record.DNS,
// field for field as tshark prints them (Apache Spot's dns table).
//
// A Decoder takes the packets of one capture (pcap.Source) in order. UDP
// datagrams carry one message each; TCP streams are reassembled per
// direction (the 2-byte length framing, several messages in one segment,
// one message over several segments, retransmissions dropped, connections
// seen without their SYN picked up at their first segment, a missing
// segment dropping the incomplete message it cut). TCP state is bounded
// (MaxConns half-connections, ConnIdle of capture time, one message per
// half-connection) so memory stays flat on endless input.
//
// A message's record carries the packet's frame number, time and length:
// for a message completed by a later TCP segment, or an IP datagram
// completed by a later fragment, that of the frame completing it, as
// Wireshark reports it.
//
// Field rules (matching tshark 4.0): dns_qry_name is the first question's
// name, labels joined by dots, bytes outside printable ASCII written as
// \DDD, the root as "<Root>"; dns_qry_class is "0x%08x" hex text, as Spot's
// tshark wrote it; dns_qry_rcode is the header's 4-bit code (0 for queries);
// dns_a is the first class-IN A record of the message in any section (as
// tshark's dns.a), else the first AAAA.
//
// Malformed messages: when the header or the question cannot be parsed no
// record is made; when a later section is malformed the record keeps the
// fields parsed before it. Both are reported as Problems (the command warns
// and exits 3).
package dns
