package score

import (
	"math"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/record"
)

// Fuse is the fused score of an event: (1 - 0.95·d) · (1 + lda^(1/8)) / 2,
// where d is the score of the strongest detector on the event's subjects
// (0 when none found anything) and lda is Apache Spot's score of the event
// (Σ θφ, the probability of its word under its host's topics, in [0, 1]).
//
// It keeps Spot's convention (lower is more suspicious) and its range
// [0, 1]. The detectors rank first: an event with no verdict lies in
// [1/2, 1], one whose subject a detector scored d in [(1-0.95d)/2,
// 1-0.95d], so a verdict of 0.55 or more ranks an event before every
// event without one, and weaker verdicts mix with the rarest words. Within
// a level the topic model orders events from the rarest word to the
// commonest: the eighth root spreads Spot's scores, which run from 1e-8 to
// 0.5, over [0, 1], and the 0.95 keeps that order among certain verdicts.
// Nothing here is learned from labelled data.
func Fuse(d, lda float64) float64 {
	lda = math.Max(0, math.Min(1, lda))
	return (1 - 0.95*d) * (1 + eighthRoot(lda)) / 2
}

// eighthRoot is x^(1/8) for x in [0, 1], as three square roots: each is
// correctly rounded, so the result is within an ulp of the true root, and
// it never decreases as x grows. math.Pow (Exp(Log(x)/8)) was a third as
// fast, tens of ulps off below 1e-300 (Log's error, magnified by Exp) and
// wrong for subnormals; on Spot's scores (1e-8 to 0.5) the two differ by
// at most 2 ulps.
func eighthRoot(x float64) float64 { return math.Sqrt(math.Sqrt(math.Sqrt(x))) }

// explainFused turns an explanation holding the topic-model score into the
// fused one, with the verdict v (nil: none).
func explainFused(x *record.Explanation, v *detect.Verdict) {
	x.LDAScore = x.Score
	x.Method = string(Fused)
	d := 0.0
	if v != nil {
		d = v.Score
		x.Detector, x.DetectorScore, x.Subject, x.Evidence = v.Detector, v.Score, v.Subject, v.Evidence
	}
	x.Score = Fuse(d, x.LDAScore)
}
