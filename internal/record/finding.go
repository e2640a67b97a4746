package record

// Finding is a detector's verdict on a subject: a client and registrable
// domain, a source and destination pair, a host. Score writes one for each
// subject a detector finds suspicious, beside the scored events, so that
// filter and report take findings as any other stream.
type Finding struct {
	Detector      string  `parquet:"detector" json:"detector" doc:"the detector: dns-tunnel, beacon, scan, exfil, long-conn, brute-force, rare-agent"`
	EventKind     string  `parquet:"event_kind" json:"event_kind" doc:"kind of the events the finding is about: flow, dns or proxy"`
	Subject       string  `parquet:"subject" json:"subject" doc:"what was judged, as text, e.g. 10.0.0.5 > x.example or 10.0.0.5 > 10.0.0.9:443/TCP"`
	Src           string  `parquet:"src" json:"src" doc:"the subject's client or source address"`
	Dst           string  `parquet:"dst" json:"dst" doc:"the subject's other side: a registrable domain, a name, a destination address; empty for a host-level finding"`
	DPort         int32   `parquet:"dport" json:"dport" doc:"destination port, when the subject has one; else 0"`
	Proto         string  `parquet:"proto" json:"proto" doc:"protocol (TCP, UDP, ...), when the subject has one"`
	Score         float64 `parquet:"score" json:"score" doc:"1 - detector_score: low means suspicious, as in every scored stream, so filter --top and --max-score work on findings"`
	DetectorScore float64 `parquet:"detector_score" json:"detector_score" doc:"the detector's score, 0 (nothing) to 1 (certain)"`
	Evidence      string  `parquet:"evidence" json:"evidence" doc:"why, in words and figures"`
	FirstSeen     string  `parquet:"first_seen" json:"first_seen" doc:"time of the subject's first event, YYYY-MM-DD HH:MM:SS UTC"`
	LastSeen      string  `parquet:"last_seen" json:"last_seen" doc:"time of the subject's last event, YYYY-MM-DD HH:MM:SS UTC"`
	TStartNs      int64   `parquet:"tstart_ns" json:"tstart_ns" doc:"first event, nanoseconds since the Unix epoch"`
	TEndNs        int64   `parquet:"tend_ns" json:"tend_ns" doc:"last event, nanoseconds since the Unix epoch"`
	Events        int64   `parquet:"events" json:"events" doc:"number of the subject's events the detector counted"`
	EID           int64   `parquet:"eid" json:"eid" doc:"finding id: hash of detector and subject, stable across runs and shards"`
}

// Meta implements Record.
func (Finding) Meta() Meta { return Meta{KindFinding, StreamScored} }
