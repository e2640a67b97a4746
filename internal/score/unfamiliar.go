package score

import (
	"strconv"

	"github.com/spot-hunt/spot/internal/lda"
)

// A model of other traffic (another network, or other hours: a flow's word
// holds its hour) knows few of the input's words or hosts. Every event
// whose word it never saw scores 0, so its scores then rank nothing, and
// nothing else would say so.

// minKnown is the share of the events scored below which the model is
// said to know too little of them.
const minKnown = 0.1

// A Warning is a message with its fields, as log/slog takes them.
type Warning struct {
	Msg  string
	Args []any
}

// Unfamiliar returns a warning when the model run with o knew the words of
// fewer than a tenth of the events scored, and one when it knew their
// hosts (under a method that reads the host), each with the counts; none
// when it knew enough.
func (st *Stats) Unfamiliar(o Options) []Warning {
	if st.Scored == 0 {
		return nil
	}
	var ws []Warning
	const why = " (a model of other traffic, or of other hours?)"
	if w, ok := st.few(st.KnownWords, "the model knows none of the input's words: every event's topic-model score is 0, and ranks nothing"+why,
		"the model knows the words of few of the input's events: the others' topic-model score is 0"+why); ok {
		ws = append(ws, w)
	}
	if o.Method.topic(o.Within) == lda.Population {
		return ws // a typical host's mixture for every event
	}
	none, others := "each was scored as a typical host of the model's (--unseen-doc mean)", "the others were scored as a typical host of the model's (--unseen-doc mean)"
	if o.Unseen == lda.UnseenZero {
		none, others = "every event's topic-model score is 0 (--unseen-doc zero)", "the others' topic-model score is 0 (--unseen-doc zero)"
	}
	if w, ok := st.few(st.KnownHosts, "the model knows none of the input's hosts: "+none, "the model knows the hosts of few of the input's events: "+others); ok {
		ws = append(ws, w)
	}
	return ws
}

// few returns the warning for known of the events scored, when too few.
func (st *Stats) few(known int64, none, some string) (Warning, bool) {
	share := float64(known) / float64(st.Scored)
	if share >= minKnown {
		return Warning{}, false
	}
	msg := some
	if known == 0 {
		msg = none
	}
	return Warning{Msg: msg, Args: []any{"events", st.Scored, "known", known, "share", strconv.FormatFloat(100*share, 'g', 2, 64) + "%"}}, true
}
