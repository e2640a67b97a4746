package record

import (
	"fmt"
	"slices"
)

// Kind is the source a record came from: flow, dns or proxy.
type Kind string

// The record kinds.
const (
	KindFlow  Kind = "flow"
	KindDNS   Kind = "dns"
	KindProxy Kind = "proxy"
	// KindFinding is a detector's verdict on a subject (Finding), not an
	// event; its stream is scored.
	KindFinding Kind = "finding"
)

// Kinds lists every event kind, in the order help shows them.
var Kinds = []Kind{KindFlow, KindDNS, KindProxy}

// ParseKind returns the kind named s: an event kind or finding.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if slices.Contains(Kinds, k) || k == KindFinding {
		return k, nil
	}
	return "", fmt.Errorf("unknown record kind %q (want flow, dns, proxy or finding)", s)
}

// Stream is the shape of a record stream: events as decoded, featurized
// events (events plus words), aggregated (doc, word, count) tables, or scored
// events.
type Stream string

// The stream shapes.
const (
	StreamEvents     Stream = "events"
	StreamFeaturized Stream = "featurized"
	StreamCounts     Stream = "counts"
	StreamScored     Stream = "scored"
)

// Streams lists every stream shape.
var Streams = []Stream{StreamEvents, StreamFeaturized, StreamCounts, StreamScored}

// Meta says what a record stream holds. It travels in Parquet key-value
// metadata (spot.kind, spot.stream) and in each NDJSON object ("kind",
// and "stream" for anything but events).
type Meta struct {
	Kind   Kind
	Stream Stream
}

func (m Meta) String() string { return string(m.Kind) + " " + string(m.Stream) }

// Record is implemented by every record type; the methods use value
// receivers so that a zero value names its own stream.
type Record interface {
	Meta() Meta
}

// Infer guesses a stream's meta from its column names, for files that carry
// no spot metadata (Parquet written by Spot's Hive tables, DuckDB or Spark).
func Infer(columns []string) (Meta, bool) {
	has := func(names ...string) bool {
		for _, n := range names {
			if !slices.Contains(columns, n) {
				return false
			}
		}
		return true
	}
	var m Meta
	switch {
	case has("treceived", "sip", "dip"):
		m.Kind = KindFlow
	case has("frame_time", "dns_qry_name"):
		m.Kind = KindDNS
	case has("p_date", "clientip"):
		m.Kind = KindProxy
	case has("detector", "subject", "evidence", "event_kind"):
		return Meta{KindFinding, StreamScored}, true
	case has("doc", "word", "count"):
		return m, false // a count table names its kind only in metadata
	default:
		return m, false
	}
	switch {
	case has("score"):
		m.Stream = StreamScored
	case has("word") || has("src_word"):
		m.Stream = StreamFeaturized
	default:
		m.Stream = StreamEvents
	}
	return m, true
}
