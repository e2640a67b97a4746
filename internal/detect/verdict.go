package detect

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// Verdict is a detector's judgement of one subject.
type Verdict struct {
	Detector string  // e.g. dns-tunnel
	Score    float64 // 0 (nothing) to 1 (certain)
	Subject  string  // e.g. 10.0.0.5 > x.example
	Evidence string  // why, in words and figures
}

// stronger reports whether v outranks w: a higher score, then the detector
// and subject's names, so that ties resolve the same way in every run.
func (v *Verdict) stronger(w *Verdict) bool {
	if v.Score != w.Score {
		return v.Score > w.Score
	}
	if v.Detector != w.Detector {
		return v.Detector < w.Detector
	}
	return v.Subject < w.Subject
}

// judged is a verdict with what a finding record needs besides.
type judged struct {
	Verdict
	src, dst    string
	dport       int32
	proto       string
	first, last int64 // ns
	events      int64
}

// outranks reports whether j ranks before k: the stronger verdict, then
// (between verdicts equal in score, detector and subject, such as a name's
// and its domain's beacon) the busier, earlier subject, so that every run
// and every sharding of a run orders findings the same.
func (j *judged) outranks(k *judged) bool {
	if j.stronger(&k.Verdict) || k.stronger(&j.Verdict) {
		return j.stronger(&k.Verdict)
	}
	return cmp.Or(cmp.Compare(k.events, j.events), cmp.Compare(j.first, k.first), cmp.Compare(j.last, k.last),
		strings.Compare(j.Evidence, k.Evidence), strings.Compare(j.src, k.src), strings.Compare(j.dst, k.dst),
		cmp.Compare(j.dport, k.dport), strings.Compare(j.proto, k.proto)) < 0
}

func (j *judged) finding(kind record.Kind) record.Finding {
	return record.Finding{
		Detector: j.Detector, EventKind: string(kind), Subject: j.Subject,
		Src: j.src, Dst: j.dst, DPort: j.dport, Proto: j.proto,
		Score: 1 - j.Score, DetectorScore: j.Score, Evidence: j.Evidence,
		FirstSeen: clock(j.first), LastSeen: clock(j.last), TStartNs: j.first, TEndNs: j.last,
		Events: j.events,
		EID:    record.EID("finding", 0, []byte(j.Detector+"\x00"+j.Subject)),
	}
}

func clock(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.DateTime)
}

// clamp01 keeps a score within [0, 1].
func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// count writes n with thousands separators: 3,412.
func count(n float64) string {
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// size writes a number of bytes as 850 B, 21 kB, 3.4 MB.
func size(b float64) string {
	switch {
	case b < 1000:
		return fmt.Sprintf("%.0f B", b)
	case b < 10e3:
		return fmt.Sprintf("%.1f kB", b/1e3)
	case b < 1e6:
		return fmt.Sprintf("%.0f kB", b/1e3)
	case b < 10e6:
		return fmt.Sprintf("%.1f MB", b/1e6)
	case b < 1e9:
		return fmt.Sprintf("%.0f MB", b/1e6)
	}
	return fmt.Sprintf("%.1f GB", b/1e9)
}

// span writes a duration in the unit that reads best: 45 s, 12 min, 3.5 h, 2.0 d.
func span(ns int64) string {
	s := float64(ns) / 1e9
	switch {
	case s < 120:
		return fmt.Sprintf("%.0f s", s)
	case s < 7200:
		return fmt.Sprintf("%.0f min", s/60)
	case s < 172800:
		return fmt.Sprintf("%.1f h", s/3600)
	}
	return fmt.Sprintf("%.1f d", s/86400)
}

// pct writes a share as a whole percentage.
func pct(part, whole float64) string {
	if whole <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
}
