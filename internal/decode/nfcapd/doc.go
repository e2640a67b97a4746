// Package nfcapd reads nfdump's binary files, the storage of nfcapd,
// sfcapd and nfpcapd collectors, into flow records, without nfdump.
//
// Both layouts are read: layout 1 (nfdump 1.6: a header with the file's
// statistics, then blocks of common records whose optional fields follow
// extension maps defined earlier in the file) and layout 2 (nfdump 1.7: a
// header, blocks of V3 records made of typed elements, and an appendix).
// Blocks are compressed as the file's header says: LZO
// (github.com/anchore/go-lzo), bzip2 (compress/bzip2), LZ4
// (github.com/pierrec/lz4/v4) or zstd (github.com/klauspost/compress/zstd).
// Files are read front to back (a pipe will do); the appendix, read like any
// block, holds no flows.
//
// Each flow becomes the record "nfdump -r FILE -o csv | spot decode flow"
// made of it, column for column (the tests hold the two to each other on
// every nfcapd file of the corpus and on files nfcapd 1.6 and 1.7 wrote
// under each compression):
//
//	treceived ... tdur, tstart_ns, tend_ns  first and last seen (msecFirst, msecLast), to the millisecond
//	sip, dip, sport, dport                  addresses and ports (ICMP: type*256+code in dport, as nfdump)
//	proto, flag                             nfdump's protocol name and TCP flag string
//	fwd, stos, ipkt, ibyt                   forwarding status, source ToS, input packets and bytes
//	opkt, obyt                              output counters (bidirectional flows), 0 when absent
//	input, output, dir, dtos                interfaces, direction, destination ToS
//	sas, das                                autonomous systems
//	rip                                     the exporter's address; empty when the file has none (nfdump prints 0.0.0.0)
//	sampling                                0: nfcapd stores counters already scaled by the sampling it knew
//	source                                  "nfcapd"
//
// Layout 1 records are read as nfdump 1.7 converts them, including its
// NSEL rule: a record with the firewall-event extension carries that
// extension's ICMP type and code in dport.
//
// The event id is the hash of the file's base name, the record's position
// among the file's records and the record's bytes. Records that are not
// flows (extension maps, exporters, samplers, statistics) are passed over;
// V4 records (nfdump 1.8, which nfdump 1.7 cannot read either), unknown
// record types and malformed records are skipped and counted. A block that
// cannot be decompressed is skipped whole, and a file cut short keeps what
// came before the cut: both are counted too. Files written on big-endian
// hosts and encrypted files are refused.
package nfcapd
