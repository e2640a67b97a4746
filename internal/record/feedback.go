package record

import "fmt"

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

// Judged reports whether the row carries a verdict, severity 1, 2 or 3. A
// row without one (0: not judged yet, as spot report -f feedback writes
// them) is not judged; any other severity is an error that says so.
func (f *Feedback) Judged() (bool, error) {
	switch {
	case f.Severity == 0:
		return false, nil
	case f.Severity >= 1 && f.Severity <= 3:
		return true, nil
	}
	return false, fmt.Errorf("severity %d is not 1 (high), 2 (medium) or 3 (low risk)", f.Severity)
}
