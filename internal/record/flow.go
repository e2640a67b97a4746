package record

// Flow is one flow record, with the columns of Apache Spot's Hive table
// "flow" in its order, then spot's additions.
type Flow struct {
	TReceived  string  `parquet:"treceived" json:"treceived" doc:"first-seen time, YYYY-MM-DD HH:MM:SS in UTC (Spot's tr)"`
	UnixTstamp int64   `parquet:"unix_tstamp" json:"unix_tstamp" doc:"first-seen time, seconds since the Unix epoch"`
	TrYear     int32   `parquet:"tryear" json:"tryear" doc:"year of treceived"`
	TrMonth    int32   `parquet:"trmonth" json:"trmonth" doc:"month of treceived, 1-12"`
	TrDay      int32   `parquet:"trday" json:"trday" doc:"day of month of treceived, 1-31"`
	TrHour     int32   `parquet:"trhour" json:"trhour" doc:"hour of treceived, 0-23"`
	TrMinute   int32   `parquet:"trminute" json:"trminute" doc:"minute of treceived, 0-59"`
	TrSec      int32   `parquet:"trsec" json:"trsec" doc:"second of treceived, 0-59"`
	TDur       float32 `parquet:"tdur" json:"tdur" doc:"duration in seconds (millisecond precision)"`
	SIP        string  `parquet:"sip" json:"sip" doc:"source address, canonical IPv4 or IPv6 text"`
	DIP        string  `parquet:"dip" json:"dip" doc:"destination address"`
	SPort      int32   `parquet:"sport" json:"sport" doc:"source port (ICMP: 0)"`
	DPort      int32   `parquet:"dport" json:"dport" doc:"destination port (ICMP: type*256+code, as nfdump)"`
	Proto      string  `parquet:"proto,dict" json:"proto" doc:"protocol name as nfdump prints it: TCP, UDP, ICMP, ..."`
	Flag       string  `parquet:"flag,dict" json:"flag" doc:"TCP flags OR'ed over the flow, nfdump style (.AP.SF)"`
	Fwd        int32   `parquet:"fwd" json:"fwd" doc:"forwarding status"`
	STos       int32   `parquet:"stos" json:"stos" doc:"source type of service"`
	IPkt       int64   `parquet:"ipkt" json:"ipkt" doc:"packets from source to destination"`
	IByt       int64   `parquet:"ibyt" json:"ibyt" doc:"bytes from source to destination"`
	OPkt       int64   `parquet:"opkt" json:"opkt" doc:"packets from destination to source (bidirectional flows)"`
	OByt       int64   `parquet:"obyt" json:"obyt" doc:"bytes from destination to source (bidirectional flows)"`
	Input      int32   `parquet:"input" json:"input" doc:"SNMP index of the input interface"`
	Output     int32   `parquet:"output" json:"output" doc:"SNMP index of the output interface"`
	SAS        int32   `parquet:"sas" json:"sas" doc:"source autonomous system"`
	DAS        int32   `parquet:"das" json:"das" doc:"destination autonomous system"`
	DTos       int32   `parquet:"dtos" json:"dtos" doc:"destination type of service"`
	Dir        int32   `parquet:"dir" json:"dir" doc:"flow direction: 0 ingress, 1 egress"`
	RIP        string  `parquet:"rip,dict" json:"rip" doc:"exporter (router) address; empty for flows assembled from packets"`
	TStartNs   int64   `parquet:"tstart_ns" json:"tstart_ns" doc:"first-seen time, nanoseconds since the Unix epoch"`
	TEndNs     int64   `parquet:"tend_ns" json:"tend_ns" doc:"last-seen time, nanoseconds since the Unix epoch"`
	Sampling   int32   `parquet:"sampling" json:"sampling" doc:"sampling interval the exporter stated (1 in N packets; 0 unknown/unsampled); packet and byte counts are as exported, not scaled, except sflow's, which are the sample times the rate"`
	Source     string  `parquet:"source,dict" json:"source" doc:"what decoded it: netflow5, netflow9, ipfix, sflow, packets, nfcapd, nfdump-csv, spot-csv"`
	Tunnel     string  `parquet:"tunnel,dict" json:"tunnel" doc:"flows from packets inside tunnels (sip..dport are the innermost): what carried the flow's first packet, each encapsulation outermost first and joined by '; ', as TYPE SRC>DST and its id (e.g. 'gre 10.0.0.1>10.0.0.2 key=0x0000002a'); the outer flow is a record of its own, found by those addresses. Empty for other flows"`
	EID        int64   `parquet:"eid" json:"eid" doc:"event id: hash of source file, position and content, stable across runs and shards; below 2^53, so exact in jq and JavaScript"`
}

// Meta implements Record.
func (Flow) Meta() Meta { return Meta{KindFlow, StreamEvents} }
