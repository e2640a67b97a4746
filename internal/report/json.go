package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as one JSON document (indented): the
// suspicious list, findings, storyboards, chord data and ingest summary.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
