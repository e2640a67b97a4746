// Scoring under a topic model: Apache Spot's
// Σ_k P(topic k | document) · P(word | topic k), and population-aware
// variants, with an explanation (the topic that explains the event best).
//
// Policies for what the model never saw:
//   - a word the model never saw scores 0, the most suspicious possible
//     (as Apache Spot did: its word vector was all zeros); top_topic is -1;
//   - a document (host) the model never saw gets, by default, the mean
//     topic mixture of the training documents ("a typical host"); with
//     UnseenDoc = UnseenZero it scores 0, as Apache Spot did (its topic mix
//     was all zeros).
package lda

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Method is a way of scoring an event under the topic model.
type Method string

// The methods.
const (
	// Spot is Apache Spot's score: Σ_k θ_dk φ_kw, how likely the event's
	// own host is to say its word. A host that mostly does something rare
	// (a tunnel) finds it normal.
	Spot Method = "spot"
	// Population is Σ_k θ̃_k φ_kw with θ̃ the topic mixture of a typical
	// host: for each topic, the median of its weight over the training
	// hosts (renormalized). A topic that only a few hosts use (three
	// tunnelling clients among twenty) has a median weight near zero, so
	// its words score low however much those few hosts say them. It knows
	// nothing of the event's own host.
	Population Method = "population"
	// Peer is population / spot: how much less a typical host says the
	// event's word than the event's own host does. Near 1 for what every
	// host does alike (common or rare), near 0 for what this host does far
	// more than its peers: a host that mostly tunnels, scans or beacons.
	// An unseen word scores 0; a word the host's mixture gives probability
	// 0 (an unseen host under --unseen-doc zero) scores 1.
	Peer Method = "peer"
	// Hybrid is min(spot, peer): an event is suspicious when it is rare for
	// its own host (Spot's question) or when its host says it far more than
	// its peers do (a host whose whole mixture is unlike theirs).
	Hybrid Method = "hybrid"
)

// Methods lists the methods, as help shows them.
var Methods = []Method{Spot, Population, Peer, Hybrid}

// ParseMethod returns the method named s.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == strings.ToLower(s) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown scoring method %q (want spot, population, peer or hybrid)", s)
}

// UnseenDoc is the policy for documents the model never saw.
type UnseenDoc string

// The unseen-document policies.
const (
	UnseenMean UnseenDoc = "mean" // the mean topic mixture of the training documents
	UnseenZero UnseenDoc = "zero" // score 0, as Apache Spot did
)

// ParseUnseenDoc returns the policy named s.
func ParseUnseenDoc(s string) (UnseenDoc, error) {
	switch u := UnseenDoc(strings.ToLower(s)); u {
	case UnseenMean, UnseenZero:
		return u, nil
	}
	return "", fmt.Errorf("unknown unseen-document policy %q (want mean or zero)", s)
}

// Scorer scores (document, word) pairs. It is safe for concurrent use.
type Scorer struct {
	K         int
	method    Method
	unseen    UnseenDoc
	docIdx    map[string]int32
	wordIdx   map[string]int32
	theta     []float32 // docs × K
	phi       []float32 // words × K (word-major: one word's column is contiguous)
	meanTheta []float32
	typical   []float32 // per-topic median over documents, renormalized
	packed    bool      // explain may rank packed keys: K <= 32, every weight finite and >= +0
}

// NewScorer builds a scorer from m's documents, words and matrices. Rows of
// φ are renormalized to sum to 1 (P(w|t)).
func NewScorer(m *Model, method Method, unseen UnseenDoc) (*Scorer, error) {
	k := len(m.TopicWord)
	if k == 0 {
		return nil, fmt.Errorf("model has no topics")
	}
	if len(m.DocTopic) != len(m.Docs) {
		return nil, fmt.Errorf("model has %d documents but %d topic mixtures", len(m.Docs), len(m.DocTopic))
	}
	s := &Scorer{K: k, method: method, unseen: unseen,
		docIdx: make(map[string]int32, len(m.Docs)), wordIdx: make(map[string]int32, len(m.Words)),
		theta: make([]float32, len(m.Docs)*k), phi: make([]float32, len(m.Words)*k), meanTheta: make([]float32, k)}
	for i, d := range m.Docs {
		s.docIdx[d] = int32(i)
		row := m.DocTopic[i]
		if len(row) != k {
			return nil, fmt.Errorf("document %q has %d topics, want %d", d, len(row), k)
		}
		copy(s.theta[i*k:], row)
	}
	for w, name := range m.Words {
		s.wordIdx[name] = int32(w)
	}
	for t, row := range m.TopicWord {
		if len(row) != len(m.Words) {
			return nil, fmt.Errorf("topic %d has %d words, want %d", t, len(row), len(m.Words))
		}
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		if sum <= 0 {
			sum = 1
		}
		for w, v := range row {
			s.phi[w*k+t] = float32(float64(v) / sum)
		}
	}
	if n := len(m.Docs); n > 0 {
		acc := make([]float64, k)
		for i := 0; i < n; i++ {
			for t := 0; t < k; t++ {
				acc[t] += float64(s.theta[i*k+t])
			}
		}
		for t := range acc {
			s.meanTheta[t] = float32(acc[t] / float64(n))
		}
	}
	s.typical = typicalMixture(s.theta, len(m.Docs), k, s.meanTheta)
	s.packed = k <= 32 && plusFinite(s.theta) && plusFinite(s.phi) && plusFinite(s.meanTheta) && plusFinite(s.typical)
	return s, nil
}

// plusFinite reports whether every value of v is finite and not negative
// (nor -0).
func plusFinite(v []float32) bool {
	for _, x := range v {
		if math.Float32bits(x) >= 0x7f800000 {
			return false
		}
	}
	return true
}

// typicalMixture returns, for each topic, the median of its weight over the
// documents (over at most 100k documents, evenly spaced), renormalized to
// sum to 1; the mean mixture when every median is zero.
func typicalMixture(theta []float32, docs, k int, mean []float32) []float32 {
	out := make([]float32, k)
	if docs == 0 {
		return out
	}
	step := 1
	if docs > 100_000 {
		step = docs / 100_000
	}
	col := make([]float32, 0, docs/step+1)
	var sum float64
	for t := 0; t < k; t++ {
		col = col[:0]
		for d := 0; d < docs; d += step {
			col = append(col, theta[d*k+t])
		}
		slices.Sort(col)
		m := col[len(col)/2]
		if len(col)%2 == 0 {
			m = (col[len(col)/2-1] + col[len(col)/2]) / 2
		}
		out[t] = m
		sum += float64(m)
	}
	if sum <= 0 {
		copy(out, mean)
		return out
	}
	for t := range out {
		out[t] = float32(float64(out[t]) / sum)
	}
	return out
}

// Method returns the scorer's method.
func (s *Scorer) Method() Method { return s.method }

// Doc returns a document's index, or -1 when the model never saw it.
func (s *Scorer) Doc(name string) int32 {
	if i, ok := s.docIdx[name]; ok {
		return i
	}
	return -1
}

// Word returns a word's index, or -1 when the model never saw it.
func (s *Scorer) Word(name string) int32 {
	if i, ok := s.wordIdx[name]; ok {
		return i
	}
	return -1
}

// Result is one scored (document, word) pair.
type Result struct {
	Score          float64
	TopTopic       int32   // -1 when the score is 0
	TopTopicWeight float64 // the top topic's share of the score
}

// mix returns the topic mixture for document index d (nil: score 0).
func (s *Scorer) mix(d int32) []float32 {
	if d >= 0 {
		return s.theta[int(d)*s.K : int(d+1)*s.K]
	}
	if s.unseen == UnseenZero {
		return nil
	}
	return s.meanTheta
}

func (s *Scorer) dot(theta []float32, w int32) Result {
	v := s.sum(theta, w)
	if v == 0 {
		return Result{TopTopic: -1}
	}
	return s.explain(theta, w, v)
}

// sum is Σ_k θ_k φ_kw (0 for an unseen word or a nil mixture).
func (s *Scorer) sum(theta []float32, w int32) float64 {
	if theta == nil || w < 0 {
		return 0
	}
	phi := s.phi[int(w)*s.K : int(w+1)*s.K]
	theta = theta[:len(phi)]
	var a, b float64
	t := 0
	for ; t+1 < len(phi); t += 2 {
		a += float64(theta[t]) * float64(phi[t])
		b += float64(theta[t+1]) * float64(phi[t+1])
	}
	if t < len(phi) {
		a += float64(theta[t]) * float64(phi[t])
	}
	return a + b
}

// sum2 is sum(theta1, w1) and sum(theta2, w2), bit for bit: each sum adds
// its products in sum's order, the two sums in one loop, so that the four
// chains of additions overlap where sum's two wait on each other's latency
// (a flow's two sides were a fifth of a score pass's instructions).
func (s *Scorer) sum2(theta1 []float32, w1 int32, theta2 []float32, w2 int32) (float64, float64) {
	if theta1 == nil || w1 < 0 || theta2 == nil || w2 < 0 {
		return s.sum(theta1, w1), s.sum(theta2, w2)
	}
	k := s.K
	phi1 := s.phi[int(w1)*k : int(w1+1)*k]
	phi2 := s.phi[int(w2)*k : int(w2+1)*k]
	theta1, theta2 = theta1[:len(phi1)], theta2[:len(phi1)]
	phi2 = phi2[:len(phi1)]
	var a1, b1, a2, b2 float64
	t := 0
	for ; t+1 < len(phi1); t += 2 {
		a1 += float64(theta1[t]) * float64(phi1[t])
		a2 += float64(theta2[t]) * float64(phi2[t])
		b1 += float64(theta1[t+1]) * float64(phi1[t+1])
		b2 += float64(theta2[t+1]) * float64(phi2[t+1])
	}
	if t < len(phi1) {
		a1 += float64(theta1[t]) * float64(phi1[t])
		a2 += float64(theta2[t]) * float64(phi2[t])
	}
	return a1 + b1, a2 + b2
}

// sum2Keys is sum2 for a packed scorer and two words it knows, with each
// side's largest key (explainPacked's): the products the sums add make the
// keys, so the flow's explanation costs no second pass. A product of two
// float32s is exact, so fused or not with its addition it adds the same.
func (s *Scorer) sum2Keys(theta1 []float32, w1 int32, theta2 []float32, w2 int32) (v1, v2 float64, k1, k2 uint64) {
	k := s.K
	phi1 := s.phi[int(w1)*k : int(w1+1)*k]
	phi2 := s.phi[int(w2)*k : int(w2+1)*k]
	theta1, theta2 = theta1[:len(phi1)], theta2[:len(phi1)]
	phi2 = phi2[:len(phi1)]
	var a1, b1, a2, b2 float64
	var ka1, kb1, ka2, kb2 uint64
	t := 0
	for ; t+1 < len(phi1); t += 2 {
		p1 := float64(theta1[t]) * float64(phi1[t])
		p2 := float64(theta2[t]) * float64(phi2[t])
		q1 := float64(theta1[t+1]) * float64(phi1[t+1])
		q2 := float64(theta2[t+1]) * float64(phi2[t+1])
		a1 += p1
		a2 += p2
		b1 += q1
		b2 += q2
		ka1, ka2 = max(ka1, math.Float64bits(p1)|uint64(31-t)), max(ka2, math.Float64bits(p2)|uint64(31-t))
		kb1, kb2 = max(kb1, math.Float64bits(q1)|uint64(30-t)), max(kb2, math.Float64bits(q2)|uint64(30-t))
	}
	if t < len(phi1) {
		p1 := float64(theta1[t]) * float64(phi1[t])
		p2 := float64(theta2[t]) * float64(phi2[t])
		a1 += p1
		a2 += p2
		ka1, ka2 = max(ka1, math.Float64bits(p1)|uint64(31-t)), max(ka2, math.Float64bits(p2)|uint64(31-t))
	}
	return a1 + b1, a2 + b2, max(ka1, kb1), max(ka2, kb2)
}

// explain returns the result for a score v = sum(theta, w) > 0, with the
// topic contributing most.
func (s *Scorer) explain(theta []float32, w int32, v float64) Result {
	phi := s.phi[int(w)*s.K : int(w+1)*s.K]
	if s.packed {
		return explainPacked(theta, phi, v)
	}
	return explainLoop(theta, phi, v)
}

// explainLoop is explain for any weights: the first topic of the largest
// product > 0.
func explainLoop(theta, phi []float32, v float64) Result {
	best, bestV := int32(-1), 0.0
	for t, p := range phi {
		if c := float64(theta[t]) * float64(p); c > bestV {
			best, bestV = int32(t), c
		}
	}
	return Result{Score: v, TopTopic: best, TopTopicWeight: bestV / v}
}

// explainPacked is explain for K <= 32 and weights finite and >= +0, with
// no branch a topic: a product of two float32s is exact in a float64, so
// its 5 lowest bits are 0, and for values >= +0 the order of the bits as
// integers is the values' order; topic t's key is its product's bits with
// 31-t in those 5 bits, and the largest key is the first topic of the
// largest product, the topic explain's loop picks.
func explainPacked(theta, phi []float32, v float64) Result {
	theta = theta[:len(phi)]
	key := func(t int) uint64 {
		return math.Float64bits(float64(theta[t])*float64(phi[t])) | uint64(31-t)
	}
	var k0, k1 uint64
	t := 0
	for ; t+1 < len(phi); t += 2 {
		k0, k1 = max(k0, key(t)), max(k1, key(t+1))
	}
	if t < len(phi) {
		k0 = max(k0, key(t))
	}
	return keyResult(max(k0, k1), v)
}

// keyResult is the result of score v whose largest key is k.
func keyResult(k uint64, v float64) Result {
	c := math.Float64frombits(k &^ 31)
	if c == 0 {
		return Result{Score: v, TopTopic: -1} // no product > 0, as explain's loop leaves it
	}
	return Result{Score: v, TopTopic: int32(31 - k&31), TopTopicWeight: c / v}
}

// FlowIdx scores both sides of a flow by index and returns each side's
// score and the explained result of the lower side (the flow's score).
func (s *Scorer) FlowIdx(srcDoc, srcWord, dstDoc, dstWord int32) (src, dst float64, low Result) {
	var srcTheta, dstTheta []float32
	switch s.method {
	case Population:
		srcTheta, dstTheta = s.typical, s.typical
	case Spot:
		srcTheta, dstTheta = s.mix(srcDoc), s.mix(dstDoc)
	default:
		a, b := s.ScoreIdx(srcDoc, srcWord), s.ScoreIdx(dstDoc, dstWord)
		if b.Score < a.Score {
			return a.Score, b.Score, b
		}
		return a.Score, b.Score, a
	}
	if s.packed && srcTheta != nil && srcWord >= 0 && dstTheta != nil && dstWord >= 0 {
		var k1, k2 uint64
		src, dst, k1, k2 = s.sum2Keys(srcTheta, srcWord, dstTheta, dstWord)
		v, k := src, k1
		if dst < src {
			v, k = dst, k2
		}
		if v == 0 {
			return src, dst, Result{TopTopic: -1}
		}
		return src, dst, keyResult(k, v)
	}
	src, dst = s.sum2(srcTheta, srcWord, dstTheta, dstWord)
	theta, w, v := srcTheta, srcWord, src
	if dst < src {
		theta, w, v = dstTheta, dstWord, dst
	}
	if v == 0 {
		return src, dst, Result{TopTopic: -1}
	}
	return src, dst, s.explain(theta, w, v)
}

// peer is population / spot for document d and word w; the explanation is
// the topic that contributes most to the host's own probability.
func (s *Scorer) peer(d, w int32) Result {
	if w < 0 {
		return Result{TopTopic: -1}
	}
	own := s.mix(d)
	o := s.sum(own, w)
	if o == 0 {
		return Result{Score: 1, TopTopic: -1}
	}
	r := s.explain(own, w, o)
	r.Score = s.sum(s.typical, w) / o
	return r
}

// ScoreIdx scores document index d (-1: unseen) saying word index w (-1: unseen).
func (s *Scorer) ScoreIdx(d, w int32) Result {
	switch s.method {
	case Population:
		return s.dot(s.typical, w)
	case Peer:
		return s.peer(d, w)
	case Hybrid:
		a := s.dot(s.mix(d), w)
		if b := s.peer(d, w); b.Score < a.Score {
			return b
		}
		return a
	}
	return s.dot(s.mix(d), w)
}

// Score scores document doc saying word.
func (s *Scorer) Score(doc, word string) Result {
	return s.ScoreIdx(s.Doc(doc), s.Word(word))
}

// Flow scores a flow: each side under its own document, the flow's score
// being the lower one; the explanation is the lower side's.
func (s *Scorer) Flow(sip, srcWord, dip, dstWord string) (src, dst, low Result) {
	src = s.Score(sip, srcWord)
	dst = s.Score(dip, dstWord)
	low = src
	if dst.Score < src.Score {
		low = dst
	}
	return
}
