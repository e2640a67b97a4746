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
// half-connection, MaxHeldBytes in all) so memory stays flat on endless input.
//
// A message's record carries the packet's frame number, time and length:
// for a message completed by a later TCP segment, or an IP datagram
// completed by a later fragment, that of the frame completing it, as
// Wireshark reports it.
//
// Field rules (matching tshark 4.0): dns_qry_name is the first question's
// name, labels joined by dots, each label shown as tshark's format_text
// shows text (printable ASCII and printable UTF-8 as is, other ASCII as C
// escapes or \ooo octal, other code points as \uXXXX, bytes that are not
// UTF-8 as U+FFFD; lossy: a dot or backslash inside a label is not
// escaped), the root as "<Root>"; dns_qry_class is "0x%08x" hex text, as Spot's
// tshark wrote it; dns_qry_rcode is the header's 4-bit code (0 for queries);
// dns_a is the first class-IN A record of the answer section, else its first
// AAAA (DESIGN.md; tshark's dns.a also lists the authority and additional
// sections' glue, which says nothing about the answer).
//
// Names longer than 253 bytes (labels and dots) print as "<Name too long>"
// and names with more than 255 compression pointers (or a pointer to two
// bytes past its own end, tshark's loop check) as "<Name contains a pointer
// that loops>", as tshark prints them; parsing goes on after them. Every
// byte value and every code point in labels is checked against tshark
// (oracle_test.go, on captures written by capture_test.go). Extended label
// types (RFC 6891 made them historic) make the message malformed, where
// tshark prints "<Unknown extended label>" or a bitstring label.
//
// Where tshark marks a message malformed (4 messages of the corpus) spot
// differs on purpose: a message whose header or question is cut short
// makes no record (tshark prints its id and empty fields), and an RR whose
// data overruns is skipped by its length, so an A record after it is still
// found (tshark stops at the exception).
//
// With Options.ICMPQuotes, a DNS message quoted by an ICMP error (the UDP
// datagram that caused it, as far as its sender copied it) makes a record
// too, as tshark decodes it: the quoted datagram's addresses, its tunnel
// column ending with the error ("icmp SRC>DST type=3 code=3"). Off by
// default: a quote is a copy of a message that was already counted, or
// never delivered. A quote cut short makes no record and no problem.
//
// Malformed messages: when the header or the question cannot be parsed no
// record is made; when a later section is malformed the record keeps the
// fields parsed before it. Both are reported as Problems (the command warns
// and exits 3).
package dns
