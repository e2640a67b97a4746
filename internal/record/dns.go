package record

// DNS is one DNS message, with the columns of Apache Spot's Hive table "dns"
// in its order, then spot's additions.
type DNS struct {
	FrameTime  string   `parquet:"frame_time" json:"frame_time" doc:"capture time as tshark's frame.time, e.g. 'Jan  4, 2017 04:41:06.337519000 UTC'"`
	UnixTstamp int64    `parquet:"unix_tstamp" json:"unix_tstamp" doc:"capture time, seconds since the Unix epoch"`
	FrameLen   int32    `parquet:"frame_len" json:"frame_len" doc:"length of the packet on the wire, bytes (tshark's frame.len)"`
	IPDst      string   `parquet:"ip_dst" json:"ip_dst" doc:"packet destination address; for a response, the client"`
	IPSrc      string   `parquet:"ip_src" json:"ip_src" doc:"packet source address; for a response, the server"`
	QryName    string   `parquet:"dns_qry_name" json:"dns_qry_name" doc:"question name, without the trailing dot, as tshark prints it: printable ASCII and printable UTF-8 as is, other ASCII as C escapes (\\t, \\n) or octal (\\037), other code points as \\uXXXX, bytes that are not UTF-8 as U+FFFD; dots and backslashes inside a label are not escaped"`
	QryClass   string   `parquet:"dns_qry_class" json:"dns_qry_class" doc:"question class as hex text, e.g. 0x00000001"`
	QryType    int32    `parquet:"dns_qry_type" json:"dns_qry_type" doc:"question type, e.g. 1 for A, 28 for AAAA"`
	QryRcode   int32    `parquet:"dns_qry_rcode" json:"dns_qry_rcode" doc:"response code, e.g. 0 NOERROR, 3 NXDOMAIN"`
	A          string   `parquet:"dns_a" json:"dns_a" doc:"first A record of the answer section, else its first AAAA, else empty"`
	TsNs       int64    `parquet:"ts_ns" json:"ts_ns" doc:"capture time, nanoseconds since the Unix epoch"`
	ID         int32    `parquet:"dns_id" json:"dns_id" doc:"DNS transaction id"`
	Response   bool     `parquet:"response" json:"response" doc:"true for a response, false for a query"`
	Transport  string   `parquet:"transport" json:"transport" doc:"udp or tcp"`
	ClientPort int32    `parquet:"client_port" json:"client_port" doc:"the client's port: a query's source port, a response's destination port (tshark's udp.srcport or udp.dstport, tcp likewise); 0 when unknown (records written before the column, sources without ports)"`
	Answers    []string `parquet:"answers,list" json:"answers" doc:"data of every answer record, as text"`
	ANCount    int32    `parquet:"ancount" json:"ancount" doc:"number of answer records in the header"`
	TTL        int64    `parquet:"ttl" json:"ttl" doc:"TTL of the first answer record, seconds; 0 when there is none"`
	Frame      int64    `parquet:"frame" json:"frame" doc:"the packet's number in its capture, 1-based, as Wireshark numbers it"`
	Tunnel     string   `parquet:"tunnel" json:"tunnel" doc:"what carried the packet, when it came through tunnels (the addresses above are the innermost): each encapsulation, outermost first and joined by '; ', as TYPE SRC>DST and its id, e.g. 'vxlan 192.0.2.1:49152>192.0.2.2:4789 vni=42'; empty when it did not"`
	EID        int64    `parquet:"eid" json:"eid" doc:"event id: hash of source file, position and content, stable across runs and shards; below 2^53, so exact in jq and JavaScript"`
}

// Meta implements Record.
func (DNS) Meta() Meta { return Meta{KindDNS, StreamEvents} }
