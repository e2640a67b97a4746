package report

import (
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// Report is everything a report shows, the documents Apache Spot's UI was
// built from: the suspicious list, the detectors' findings, a storyboard
// per suspicious host, chord data and an ingest summary. -f json writes
// it as is; the table and the HTML page draw it.
type Report struct {
	Title     string           `json:"title"`
	Kind      record.Kind      `json:"kind"`
	Generated string           `json:"generated"` // UTC, RFC 3339
	Summary   Summary          `json:"summary"`
	Rows      []Row            `json:"suspicious"`
	Findings  []record.Finding `json:"findings"`
	Hosts     []Storyboard     `json:"storyboards"`
	Chord     Chord            `json:"chord"`
	Ingest    Histogram        `json:"ingest"`
	HasGeo    bool             `json:"has_geo"`

	records any // the rows' scored records, []record.EnrichedScoredFlow etc., for WriteFeedback
}

// Summary counts what the report was made of.
type Summary struct {
	Scored   int64  `json:"scored"`          // scored records read
	Shown    int    `json:"shown"`           // rows in the suspicious list
	Context  int64  `json:"context"`         // context events read
	Findings int64  `json:"findings"`        // findings read
	First    string `json:"first,omitempty"` // time span of the events seen
	Last     string `json:"last,omitempty"`
	Method   string `json:"method,omitempty"`
	// At most this many rows of one subject are in the list (0: no cap).
	PerSubject int `json:"per_subject,omitempty"`
	// What an HTML page left out to stay under MaxHTMLBytes: the last rows
	// of the list, then the last storyboards (-f json has them all).
	RowsCut  int `json:"rows_cut,omitempty"`
	HostsCut int `json:"storyboards_cut,omitempty"`
}

// Row is one suspicious event, as the list shows it.
type Row struct {
	Rank          int     `json:"rank"` // 1-based, lowest score first
	Score         float64 `json:"score"`
	Time          string  `json:"time"` // UTC, YYYY-MM-DD HH:MM:SS
	TsNs          int64   `json:"ts_ns"`
	Host          string  `json:"host"` // the host the event is suspicious for (its document)
	Src           string  `json:"src"`
	Dst           string  `json:"dst"`
	SPort         int32   `json:"sport"`
	DPort         int32   `json:"dport"`
	Proto         string  `json:"proto,omitempty"`
	What          string  `json:"what"`   // flow: proto/port; dns: the question; proxy: method and URI
	Detail        string  `json:"detail"` // dns: type, rcode, answer; proxy: status, content type, agent
	Bytes         int64   `json:"bytes"`
	Packets       int64   `json:"packets,omitempty"`
	Word          string  `json:"word,omitempty"`
	Topic         int32   `json:"topic"`
	LDAScore      float64 `json:"lda_score"`
	Detector      string  `json:"detector,omitempty"`
	DetectorScore float64 `json:"detector_score,omitempty"`
	Subject       string  `json:"subject,omitempty"`
	Evidence      string  `json:"evidence,omitempty"`
	SrcNet        string  `json:"src_net,omitempty"`
	DstNet        string  `json:"dst_net,omitempty"`
	Country       string  `json:"country,omitempty"`
	Reputation    int32   `json:"reputation"`
	RepHits       string  `json:"rep_hits,omitempty"`
	Lat           float64 `json:"lat,omitempty"` // the remote party's place, for the map
	Lon           float64 `json:"lon,omitempty"`
	EID           string  `json:"eid"` // text: JavaScript rounds integers above 2^53
}

// Storyboard is one suspicious host's story: when it was active, whom it
// talked with and how, and what the detectors found.
type Storyboard struct {
	Host       string           `json:"host"`
	Best       int              `json:"best_rank"` // rank of its most suspicious row
	Rows       []int            `json:"rows"`      // ranks of its rows in the list
	Net        string           `json:"net,omitempty"`
	Internal   bool             `json:"internal"`
	Country    string           `json:"country,omitempty"`
	City       string           `json:"city,omitempty"`
	ASN        int64            `json:"asn,omitempty"`
	ASOrg      string           `json:"as_org,omitempty"`
	Reputation int32            `json:"reputation"`
	RepHits    string           `json:"rep_hits,omitempty"`
	Events     int64            `json:"events"` // events involving the host (context, else the list)
	Bytes      int64            `json:"bytes"`
	First      string           `json:"first,omitempty"`
	Last       string           `json:"last,omitempty"`
	Timeline   Histogram        `json:"timeline"`
	Marks      []int64          `json:"marks"` // times (ns) of its suspicious rows
	PeerLabel  string           `json:"peer_label"`
	Peers      []Peer           `json:"peers"`
	TopLabel   string           `json:"top_label"`
	Top        []Item           `json:"top"`    // flow: connections; dns: names; proxy: URIs
	Agents     []Item           `json:"agents"` // proxy: user agents
	Findings   []record.Finding `json:"findings"`
	Capped     bool             `json:"capped"` // more peers or items than kept: counts of the rest are in Other
	Other      int64            `json:"other_events,omitempty"`
}

// Peer is an address (or, for proxy, a host) a storyboard host talked with.
type Peer struct {
	Name      string  `json:"name"`
	Direction string  `json:"direction"` // in (it reached the host), out, both
	Events    int64   `json:"events"`
	Bytes     int64   `json:"bytes"`
	Packets   int64   `json:"packets,omitempty"`
	First     string  `json:"first"`
	Last      string  `json:"last"`
	Country   string  `json:"country,omitempty"`
	ASOrg     string  `json:"as_org,omitempty"`
	Net       string  `json:"net,omitempty"`
	Rep       int32   `json:"reputation"`
	Lat       float64 `json:"lat,omitempty"`
	Lon       float64 `json:"lon,omitempty"`
}

// Item is one row of a storyboard's top list: a connection (flow), a name
// (dns), a URI or user agent (proxy).
type Item struct {
	Key    string `json:"key"`
	Events int64  `json:"events"`
	Bytes  int64  `json:"bytes"`
	MaxB   int64  `json:"max_bytes,omitempty"`
	First  string `json:"first"`
	Last   string `json:"last"`
	Detail string `json:"detail,omitempty"`
}

// Chord is Apache Spot's chord data: traffic between the suspicious hosts
// and their main peers, Matrix[i][j] from Names[i] to Names[j] (bytes for
// flows, events for dns and proxy).
type Chord struct {
	Unit   string    `json:"unit"`
	Names  []string  `json:"names"`
	Matrix [][]int64 `json:"matrix"`
}

// Histogram counts events in time bins Step nanoseconds wide: Bins holds
// (bin start in ns since the epoch, count) in time order, empty bins left out.
type Histogram struct {
	Step int64      `json:"step_ns"`
	Bins [][2]int64 `json:"bins"`
}

const timeLayout = "2006-01-02 15:04:05"

func fmtTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(timeLayout)
}
