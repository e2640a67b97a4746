package report

import (
	"fmt"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// WriteFeedback writes the list's rows as a feedback file (DESIGN.md's
// schema: each scored record, all its columns, then severity, analyst,
// noted_at and note), for an analyst to fill in and give back to spot train
// --feedback and spot filter --feedback. Severity is 0 (an empty cell in
// CSV): not judged yet, which both read as no mark.
func (r *Report) WriteFeedback(d ioformat.Dest) error {
	switch recs := r.records.(type) {
	case []record.EnrichedScoredFlow:
		return writeFeedback(d, recs, func(s *record.EnrichedScoredFlow) record.FeedbackFlow {
			return record.FeedbackFlow{ScoredFlow: s.ScoredFlow}
		})
	case []record.EnrichedScoredDNS:
		return writeFeedback(d, recs, func(s *record.EnrichedScoredDNS) record.FeedbackDNS {
			return record.FeedbackDNS{ScoredDNS: s.ScoredDNS}
		})
	case []record.EnrichedScoredProxy:
		return writeFeedback(d, recs, func(s *record.EnrichedScoredProxy) record.FeedbackProxy {
			return record.FeedbackProxy{ScoredProxy: s.ScoredProxy}
		})
	}
	return fmt.Errorf("feedback is written for scored flow, dns or proxy events, not %s records", r.Kind)
}

func writeFeedback[S, F any](d ioformat.Dest, recs []S, mk func(*S) F) error {
	var zero F
	w, err := ioformat.Create[F](d, any(zero).(record.Record).Meta())
	if err != nil {
		return err
	}
	out := make([]F, len(recs))
	for i := range recs {
		out[i] = mk(&recs[i])
	}
	if err := w.Write(out); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
