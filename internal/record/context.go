package record

// Enrichment columns: what "spot filter --enrich" adds to each record from
// the files a user has (network context, geolocation, threat-intelligence
// lists) and IANA's tables, so that --where can use them and the report
// shows them. Each kind names its parties as Apache Spot's OA did.

// Verdict is the columns every kind's enrichment ends with.
type Verdict struct {
	Country    string `parquet:"country,dict" json:"country" doc:"ISO country code of the remote party (flow: the external side, dst when both are; dns: the answer; proxy: the host when it is an address); empty when unknown"`
	Reputation int32  `parquet:"reputation" json:"reputation" doc:"highest reputation level of the record's indicators on the --reputation lists: -1 unverified, 0 none (or not listed), 1 low, 2 medium, 3 high (Apache Spot's levels)"`
	RepHits    string `parquet:"rep_hits" json:"rep_hits" doc:"the indicators found on the lists, as 'indicator on list (level)', joined with '; '"`
}

// FlowContext enriches a flow: each side's network, place and reputation,
// and the protocol's IANA number.
type FlowContext struct {
	SrcNet      string  `parquet:"src_net,dict" json:"src_net" doc:"name of sip's network in the --networks file"`
	SrcInternal bool    `parquet:"src_internal" json:"src_internal" doc:"sip is internal (in a network of the --networks file; without one, a private address)"`
	SrcCountry  string  `parquet:"src_country,dict" json:"src_country" doc:"sip's ISO country code (--geoip, --iploc)"`
	SrcCity     string  `parquet:"src_city,dict" json:"src_city" doc:"sip's city"`
	SrcLat      float64 `parquet:"src_lat" json:"src_lat" doc:"sip's latitude, degrees (0 with src_lon 0: unknown)"`
	SrcLon      float64 `parquet:"src_lon" json:"src_lon" doc:"sip's longitude, degrees"`
	SrcASN      int64   `parquet:"src_asn" json:"src_asn" doc:"sip's autonomous system number (0: unknown)"`
	SrcASOrg    string  `parquet:"src_as_org,dict" json:"src_as_org" doc:"sip's autonomous system organisation, or iploc.csv's owner"`
	SrcRep      int32   `parquet:"src_rep" json:"src_rep" doc:"sip's reputation level on the --reputation lists (-1..3; 0 not listed)"`
	DstNet      string  `parquet:"dst_net,dict" json:"dst_net" doc:"name of dip's network in the --networks file"`
	DstInternal bool    `parquet:"dst_internal" json:"dst_internal" doc:"dip is internal"`
	DstCountry  string  `parquet:"dst_country,dict" json:"dst_country" doc:"dip's ISO country code"`
	DstCity     string  `parquet:"dst_city,dict" json:"dst_city" doc:"dip's city"`
	DstLat      float64 `parquet:"dst_lat" json:"dst_lat" doc:"dip's latitude, degrees"`
	DstLon      float64 `parquet:"dst_lon" json:"dst_lon" doc:"dip's longitude, degrees"`
	DstASN      int64   `parquet:"dst_asn" json:"dst_asn" doc:"dip's autonomous system number"`
	DstASOrg    string  `parquet:"dst_as_org,dict" json:"dst_as_org" doc:"dip's autonomous system organisation"`
	DstRep      int32   `parquet:"dst_rep" json:"dst_rep" doc:"dip's reputation level"`
	ProtoNumber int32   `parquet:"proto_number" json:"proto_number" doc:"IANA protocol number of proto (-1: unknown)"`
	Verdict
}

// DNSContext enriches a DNS message: the client's network, the question's
// and the answer's reputation, the answer's place, IANA's names.
type DNSContext struct {
	ClientNet      string  `parquet:"client_net,dict" json:"client_net" doc:"name of the client's network in the --networks file"`
	ClientInternal bool    `parquet:"client_internal" json:"client_internal" doc:"the client is internal"`
	ClientRep      int32   `parquet:"client_rep" json:"client_rep" doc:"the client's reputation level"`
	QryRep         int32   `parquet:"qry_rep" json:"qry_rep" doc:"reputation level of the question name (or a domain above it) on the --reputation lists"`
	AnswerCountry  string  `parquet:"answer_country,dict" json:"answer_country" doc:"dns_a's ISO country code"`
	AnswerCity     string  `parquet:"answer_city,dict" json:"answer_city" doc:"dns_a's city"`
	AnswerLat      float64 `parquet:"answer_lat" json:"answer_lat" doc:"dns_a's latitude, degrees"`
	AnswerLon      float64 `parquet:"answer_lon" json:"answer_lon" doc:"dns_a's longitude, degrees"`
	AnswerASN      int64   `parquet:"answer_asn" json:"answer_asn" doc:"dns_a's autonomous system number"`
	AnswerASOrg    string  `parquet:"answer_as_org,dict" json:"answer_as_org" doc:"dns_a's autonomous system organisation"`
	AnswerRep      int32   `parquet:"answer_rep" json:"answer_rep" doc:"dns_a's reputation level"`
	QryClassName   string  `parquet:"dns_qry_class_name,dict" json:"dns_qry_class_name" doc:"IANA name of dns_qry_class, e.g. Internet (IN)"`
	QryTypeName    string  `parquet:"dns_qry_type_name,dict" json:"dns_qry_type_name" doc:"IANA name of dns_qry_type, e.g. AAAA"`
	QryRcodeName   string  `parquet:"dns_qry_rcode_name,dict" json:"dns_qry_rcode_name" doc:"IANA name of dns_qry_rcode, e.g. NXDomain"`
	Verdict
}

// ProxyContext enriches a proxy request: the client's network, the host's
// and URI's reputation, the host's place (when it is an address), IANA's
// name of the status.
type ProxyContext struct {
	ClientNet      string  `parquet:"client_net,dict" json:"client_net" doc:"name of clientip's network in the --networks file"`
	ClientInternal bool    `parquet:"client_internal" json:"client_internal" doc:"clientip is internal"`
	ClientRep      int32   `parquet:"client_rep" json:"client_rep" doc:"clientip's reputation level"`
	HostRep        int32   `parquet:"host_rep" json:"host_rep" doc:"reputation level of host (an address, or a domain at or above it)"`
	URIRep         int32   `parquet:"uri_rep" json:"uri_rep" doc:"reputation level of fulluri (or a URL above it, or its host)"`
	HostCountry    string  `parquet:"host_country,dict" json:"host_country" doc:"host's ISO country code, when host is an address"`
	HostLat        float64 `parquet:"host_lat" json:"host_lat" doc:"host's latitude, degrees"`
	HostLon        float64 `parquet:"host_lon" json:"host_lon" doc:"host's longitude, degrees"`
	HostASN        int64   `parquet:"host_asn" json:"host_asn" doc:"host's autonomous system number"`
	HostASOrg      string  `parquet:"host_as_org,dict" json:"host_as_org" doc:"host's autonomous system organisation"`
	RespCodeName   string  `parquet:"respcode_name,dict" json:"respcode_name" doc:"IANA name of respcode, e.g. Not Found"`
	Verdict
}

// Enriched records: a stream with the enrichment columns after its own.
// Their meta is the stream's own (enrichment adds columns, it changes no
// shape), so every stage reads them; readers of the plain types ignore
// the added columns.
type (
	// EnrichedFlow is a flow event with its enrichment.
	EnrichedFlow struct {
		Flow
		FlowContext
	}
	// EnrichedDNS is a DNS event with its enrichment.
	EnrichedDNS struct {
		DNS
		DNSContext
	}
	// EnrichedProxy is a proxy event with its enrichment.
	EnrichedProxy struct {
		Proxy
		ProxyContext
	}
	// EnrichedScoredFlow is a scored flow with its enrichment.
	EnrichedScoredFlow struct {
		ScoredFlow
		FlowContext
	}
	// EnrichedScoredDNS is a scored DNS message with its enrichment.
	EnrichedScoredDNS struct {
		ScoredDNS
		DNSContext
	}
	// EnrichedScoredProxy is a scored proxy line with its enrichment.
	EnrichedScoredProxy struct {
		ScoredProxy
		ProxyContext
	}
)

// Meta implements Record.
func (EnrichedFlow) Meta() Meta { return Meta{KindFlow, StreamEvents} }

// Meta implements Record.
func (EnrichedDNS) Meta() Meta { return Meta{KindDNS, StreamEvents} }

// Meta implements Record.
func (EnrichedProxy) Meta() Meta { return Meta{KindProxy, StreamEvents} }

// Meta implements Record.
func (EnrichedScoredFlow) Meta() Meta { return Meta{KindFlow, StreamScored} }

// Meta implements Record.
func (EnrichedScoredDNS) Meta() Meta { return Meta{KindDNS, StreamScored} }

// Meta implements Record.
func (EnrichedScoredProxy) Meta() Meta { return Meta{KindProxy, StreamScored} }

// ContextExample returns a zero value of the enrichment columns of a kind.
func ContextExample(k Kind) any {
	switch k {
	case KindFlow:
		return FlowContext{}
	case KindDNS:
		return DNSContext{}
	case KindProxy:
		return ProxyContext{}
	}
	return nil
}
