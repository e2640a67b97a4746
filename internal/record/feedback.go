package record

// Feedback is what an analyst adds to a scored record to make a feedback
// row (DESIGN.md "Feedback"): a feedback file holds scored records of one
// kind, all their columns, plus these. Only the event columns and the
// severity are needed to rebuild a row's words.
type Feedback struct {
	Severity int32  `parquet:"severity" json:"severity" doc:"analyst's verdict: 1 high, 2 medium, 3 low risk (3 feeds the noise filter)"`
	Analyst  string `parquet:"analyst" json:"analyst" doc:"who marked the row"`
	NotedAt  string `parquet:"noted_at" json:"noted_at" doc:"when it was marked, RFC 3339"`
	Note     string `parquet:"note" json:"note" doc:"free text"`
}

// FeedbackFlow is a feedback row of a flow.
type FeedbackFlow struct {
	ScoredFlow
	Feedback
}

// FeedbackDNS is a feedback row of a DNS message.
type FeedbackDNS struct {
	ScoredDNS
	Feedback
}

// FeedbackProxy is a feedback row of a proxy line.
type FeedbackProxy struct {
	ScoredProxy
	Feedback
}
