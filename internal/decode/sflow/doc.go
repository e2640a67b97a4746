// Package sflow decodes sFlow version 5 datagrams into flow records, for
// "spot decode flow": in captures, in files of raw datagrams and in the
// collector (--listen).
//
// Datagrams are read with gopacket's layers.SFlowDatagram, and each flow
// sample's sampled packet header with gopacket's layers (Ethernet, 802.1Q,
// IPv4, IPv6 and its extension headers, TCP, UDP, ICMP, ICMPv6; headers of
// type IPv4 or IPv6 are decoded from the IP header: gopacket decodes every
// sampled header as Ethernet). A sample without a header falls back on its
// sampled IPv4 or IPv6 record.
//
// One flow sample makes one record, as nfdump's sfcapd makes them: the
// outermost IP layer's addresses, the transport ports right after it (0
// past the first fragment), TCP flags and TOS of the sampled packet;
// packets = the sampling rate and bytes = the sampled frame's length times
// the sampling rate (sFlow's frame length, the 4-byte FCS included), the
// rate in the sampling column; input and output interface indexes (of a
// compact sample, without their 2-bit format); rip the datagram's sender;
// source "sflow". ICMP types and codes go where spot puts them for every
// source (dport = type*256+code), where sfcapd keeps an IPv4 ICMP's type
// in the source port and drops ICMPv6's. Samples carry no time: a record's
// time is its datagram's receive time (a capture's frame time; the time a
// file of raw datagrams is read), so event ids are made from the agent,
// the datagram's and the sample's sequence numbers, not from times.
//
// Counter samples (interface statistics) are counted in Stats and make no
// record; so are flow samples that describe no IP packet (ARP, LLDP).
// A datagram gopacket cannot decode makes no record and is returned as an
// error, for the caller to count.
package sflow
