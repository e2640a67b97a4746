package lda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// Settings are the LDA hyperparameters of one training run.
type Settings struct {
	Topics     int     // K
	Alpha      float64 // document-topic Dirichlet concentration, > 1 (EM/MAP convention)
	Beta       float64 // topic-word Dirichlet concentration, > 1 (EM/MAP convention)
	Iterations int     // EM iterations
	Seed       uint64  // seed of the random initialisation
}

// DefaultSettings are Apache Spot's: 20 topics, α = 1.02, β = 1.001 (Spark
// MLlib's EM optimizer), 20 iterations.
func DefaultSettings() Settings {
	return Settings{Topics: 20, Alpha: 1.02, Beta: 1.001, Iterations: 20, Seed: 1}
}

// Validate reports settings training cannot use.
func (s Settings) Validate() error {
	switch {
	case s.Topics < 1 || s.Topics > 1<<16:
		return fmt.Errorf("lda: topics must be between 1 and 65536, not %d", s.Topics)
	case !(s.Alpha > 1) || math.IsInf(s.Alpha, 0):
		return fmt.Errorf("lda: alpha must be a finite number > 1 (Dirichlet concentration in Spark's EM convention; Spot used 1.02), not %v", s.Alpha)
	case !(s.Beta > 1) || math.IsInf(s.Beta, 0):
		return fmt.Errorf("lda: beta must be a finite number > 1 (Dirichlet concentration in Spark's EM convention; Spot used 1.001), not %v", s.Beta)
	case s.Iterations < 0:
		return fmt.Errorf("lda: iterations must be >= 0, not %d", s.Iterations)
	}
	return nil
}

// Progress reports one finished training iteration.
type Progress struct {
	Iteration, Iterations int
	Elapsed               time.Duration
	// LogLikelihood computes the log-likelihood of the training corpus
	// under the model as it stands after this iteration (θ and φ; after
	// the last iteration, the model's). It costs about a quarter of an
	// iteration, so training leaves it to those who read it; reading it or
	// not does not change the model. Valid only during the callback.
	LogLikelihood func() float64
	// Snapshot builds the model as it stands after this iteration (its
	// Stats carry LogLikelihood). It costs a copy of θ and φ and the
	// log-likelihood; valid only during the callback.
	Snapshot func() *Model
}

// fixScale is the fixed-point scale of the word-topic accumulators: 2^20
// units per token, so int64 holds 2^43 tokens; Train refuses corpora of
// more than maxTokens.
const (
	fixScale  = 1 << 20
	maxTokens = 1 << 42
)

// Tuning, chosen on synthetic corpora (held-out perplexity after 5, 10 and
// 20 iterations, averaged over seeds).
const (
	initMix    = 0.9 // share of corpus word frequencies in the initial topics
	initJitter = 0.5 // relative width of the random factor on the initial topics
	firstInner = 3   // θ-only refinements per document in the first pass
	maxBlocks  = 256 // blocks of the first, incremental pass
)

// trainer holds the state of one run.
type trainer struct {
	c       *Corpus
	k, v, d int
	a, b    float64   // pseudo-counts α−1, β−1
	nd      []float32 // D×K document-topic counts
	phi     []float32 // V×K (word-major): (n_wk+b)/(n_k+V·b)
	nk      []float64 // K topic totals
	stats   []int64   // V×K fixed-point word-topic counts behind phi
	workers int
	acc     [][]int64 // per worker V×K fixed-point word-topic counts
	docLL   []float64 // per document log-likelihood of the last pass
}

// Train fits an LDA model to c. progress, if not nil, is called after every
// iteration. Train returns ctx.Err() if ctx is cancelled.
//
// The first iteration is incremental: it visits the documents in blocks
// and re-estimates the topics after each block from the documents seen so
// far, which breaks the topics' initial symmetry in one pass instead of
// tens. Later iterations are plain batch EM.
func Train(ctx context.Context, c *Corpus, s Settings, progress func(Progress)) (*Model, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if len(c.Docs) == 0 || len(c.Word) == 0 {
		return nil, errors.New("lda: the corpus is empty")
	}
	if n := c.Tokens(); n > maxTokens {
		return nil, fmt.Errorf("lda: the corpus holds %.3g tokens, more than training's fixed-point sums allow (%.3g): scale the counts down", n, float64(maxTokens))
	}
	start := time.Now()
	t := newTrainer(c, s)
	t.init(s.Seed)
	for it := 1; it <= s.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t.iterate(ctx, it == 1)
		if progress != nil {
			progress(Progress{Iteration: it, Iterations: s.Iterations, Elapsed: time.Since(start),
				LogLikelihood: t.loglik,
				Snapshot:      func() *Model { return t.model(s, t.loglik()) }})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.model(s, t.loglik()), nil
}

func newTrainer(c *Corpus, s Settings) *trainer {
	t := &trainer{
		c: c, k: s.Topics, v: len(c.Words), d: len(c.Docs),
		a: s.Alpha - 1, b: s.Beta - 1,
	}
	t.nd = make([]float32, t.d*t.k)
	t.phi = make([]float32, t.v*t.k)
	t.nk = make([]float64, t.k)
	t.stats = make([]int64, t.v*t.k)
	t.docLL = make([]float64, t.d)
	t.workers = max(1, min(runtime.GOMAXPROCS(0), t.d))
	t.acc = make([][]int64, t.workers)
	for i := range t.acc {
		t.acc[i] = make([]int64, t.v*t.k)
	}
	return t
}

// split cuts documents [lo, hi) into n runs of about equal work (entries
// plus one per document).
func (t *trainer) split(lo, hi, n int) []int {
	ptr := t.c.Ptr
	base := ptr[lo] + lo
	total := ptr[hi] + hi - base
	cuts := []int{lo}
	for i := 1; i < n; i++ {
		target := base + total*i/n
		d := cuts[len(cuts)-1]
		for d < hi && ptr[d]+d < target {
			d++
		}
		cuts = append(cuts, d)
	}
	return append(cuts, hi)
}

// parallel runs f(worker, firstDoc, endDoc) over documents [lo, hi) split
// across the workers, and waits.
func (t *trainer) parallel(lo, hi int, f func(w, lo, hi int)) {
	cuts := t.split(lo, hi, t.workers)
	if t.workers == 1 {
		f(0, lo, hi)
		return
	}
	var wg sync.WaitGroup
	for w := range t.workers {
		wg.Go(func() { f(w, cuts[w], cuts[w+1]) })
	}
	wg.Wait()
}

// init starts the topics from documents (seedDocs): topic k's word
// distribution is a mix of one document's words and the corpus's word
// frequencies, times a random factor; every document starts with a uniform
// mixture.
func (t *trainer) init(seed uint64) {
	k := t.k
	freq := make([]float64, t.v)
	total := 0.0
	for j, w := range t.c.Word {
		freq[w] += t.c.Count[j]
		total += t.c.Count[j]
	}
	rng := rand.New(rand.NewPCG(seed, 0x1da5eed))
	seeds := t.seedDocs(rng)
	lam := initMix
	for i := 0; i < k; i++ {
		d := seeds[i]
		n := 0.0
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			n += t.c.Count[j]
		}
		p := make([]float64, t.v)
		for w := range t.v {
			p[w] = lam * freq[w] / total
		}
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			p[t.c.Word[j]] += (1 - lam) * t.c.Count[j] / n
		}
		// Random jitter keeps topics seeded from identical documents
		// apart: EM never separates topics that start equal.
		sum := 0.0
		for w, x := range p {
			p[w] = x * (1 - initJitter/2 + initJitter*rng.Float64())
			sum += p[w]
		}
		for w, x := range p {
			t.phi[w*k+i] = float32(x / sum)
		}
	}
	for d := range t.d {
		n := 0.0
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			n += t.c.Count[j]
		}
		for i := range k {
			t.nd[d*k+i] = float32(n / float64(k))
		}
	}
}

// seedDocs picks a document for each topic among 10·K random candidates,
// k-means++ style: each next one with probability proportional to its
// squared cosine distance from the nearest already picked, so that the
// topics start from documents unlike each other.
func (t *trainer) seedDocs(rng *rand.Rand) []int {
	cands := rng.Perm(t.d)[:min(t.d, 10*t.k)]
	norm := make([]float64, len(cands))
	for i, d := range cands {
		for _, c := range t.c.Count[t.c.Ptr[d]:t.c.Ptr[d+1]] {
			norm[i] += c * c
		}
		norm[i] = math.Sqrt(norm[i])
	}
	cosine := func(i, j int) float64 {
		a, b := cands[i], cands[j]
		wa, ca := t.c.Word[t.c.Ptr[a]:t.c.Ptr[a+1]], t.c.Count[t.c.Ptr[a]:t.c.Ptr[a+1]]
		wb, cb := t.c.Word[t.c.Ptr[b]:t.c.Ptr[b+1]], t.c.Count[t.c.Ptr[b]:t.c.Ptr[b+1]]
		dot := 0.0
		for x, y := 0, 0; x < len(wa) && y < len(wb); {
			switch {
			case wa[x] < wb[y]:
				x++
			case wa[x] > wb[y]:
				y++
			default:
				dot += ca[x] * cb[y]
				x++
				y++
			}
		}
		return dot / (norm[i] * norm[j])
	}
	dist := make([]float64, len(cands))
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	seeds := make([]int, 0, t.k)
	pick := 0
	for len(seeds) < t.k {
		seeds = append(seeds, cands[pick])
		total := 0.0
		for i := range cands {
			dist[i] = min(dist[i], 1-cosine(i, pick))
			total += dist[i] * dist[i]
		}
		if !(total > 0) { // every candidate alike: take them in turn
			pick = len(seeds) % len(cands)
			continue
		}
		u := rng.Float64() * total
		for pick = 0; pick < len(cands)-1; pick++ {
			u -= dist[pick] * dist[pick]
			if u < 0 {
				break
			}
		}
	}
	return seeds
}

// iterate runs one iteration (the incremental one if first).
func (t *trainer) iterate(ctx context.Context, first bool) {
	if first {
		t.incremental(ctx)
		return
	}
	t.estep(0, t.d, 0)
	t.reduce(false)
}

// incremental runs the first pass in blocks of documents, fixed by the
// corpus alone, re-estimating the topics after each block from every
// document seen so far.
func (t *trainer) incremental(ctx context.Context) {
	// Enough blocks to move the topics often, few enough that
	// re-estimating them (O(V·K) each) costs less than the sweeps.
	n := min(maxBlocks, t.d/16, len(t.c.Word)/t.v)
	blocks := t.split(0, t.d, max(1, n))
	for b := 0; b+1 < len(blocks); b++ {
		if ctx.Err() != nil {
			break
		}
		if blocks[b] == blocks[b+1] {
			continue
		}
		t.estep(blocks[b], blocks[b+1], firstInner)
		t.reduce(true)
	}
}

// reduce adds the workers' word-topic counts to stats (after clearing it,
// unless keep), clears them, and recomputes phi. Words are split across the
// workers; the topic totals are integer sums, so the split does not matter.
func (t *trainer) reduce(keep bool) {
	k := t.k
	parts := make([][]int64, t.workers)
	t.words(func(part, lo, hi int) {
		nk := make([]int64, k)
		for w := lo; w < hi; w++ {
			st := t.stats[w*k : w*k+k]
			if !keep {
				clear(st)
			}
			for _, acc := range t.acc {
				a := acc[w*k : w*k+k]
				for i, x := range a {
					st[i] += x
				}
				clear(a)
			}
			for i, x := range st {
				nk[i] += x
			}
		}
		parts[part] = nk
	})
	inv := make([]float64, k)
	for i := range inv {
		var n int64
		for _, p := range parts {
			n += p[i]
		}
		t.nk[i] = float64(n) / fixScale
		inv[i] = 1 / (t.nk[i] + float64(t.v)*t.b)
	}
	t.words(func(_, lo, hi int) {
		for w := lo; w < hi; w++ {
			row := t.phi[w*k : w*k+k]
			st := t.stats[w*k : w*k+k]
			for i := range row {
				row[i] = float32((float64(st[i])/fixScale + t.b) * inv[i])
			}
		}
	})
}

// words runs f(part, firstWord, endWord) over the vocabulary split across
// the workers, and waits.
func (t *trainer) words(f func(part, lo, hi int)) {
	if t.workers == 1 {
		f(0, 0, t.v)
		return
	}
	var wg sync.WaitGroup
	for p := range t.workers {
		wg.Go(func() { f(p, t.v*p/t.workers, t.v*(p+1)/t.workers) })
	}
	wg.Wait()
}

// loglik returns the log-likelihood of the corpus under the current θ
// and φ: the documents' own, computed in parallel, summed in order.
func (t *trainer) loglik() float64 {
	k, a := t.k, t.a
	t.parallel(0, t.d, func(_, lo, hi int) {
		theta := make([]float64, k)
		for d := lo; d < hi; d++ {
			nd := t.nd[d*k : d*k+k]
			n := 0.0
			for i := range theta {
				theta[i] = float64(nd[i]) + a
				n += theta[i]
			}
			ws := t.c.Word[t.c.Ptr[d]:t.c.Ptr[d+1]]
			cs := t.c.Count[t.c.Ptr[d]:t.c.Ptr[d+1]]
			// ll = Σ c·log s: the pairs of count 1 multiply into prod,
			// renormalised by its binary exponent, to save their logs.
			ll, prod, exp := 0.0, 1.0, 0
			tokens := 0.0
			for j, w := range ws {
				c := cs[j]
				off := int(w) * k
				s := dot(theta, t.phi[off:off+k])
				if c == 1 {
					prod *= s
					if prod < 0x1p-500 || prod > 0x1p500 {
						var e int
						prod, e = math.Frexp(prod)
						exp += e
					}
				} else {
					ll += c * fastLog(s)
				}
				tokens += c
			}
			ll += fastLog(prod) + float64(exp)*math.Ln2
			t.docLL[d] = ll - tokens*fastLog(n)
		}
	})
	ll := 0.0
	for _, x := range t.docLL {
		ll += x
	}
	return ll
}

// estep runs the E-step over documents [lo, hi) with the current topics:
// inner θ-only refinements, then one more whose expected counts replace
// the documents' counts and go to the workers' accumulators.
//
// A pair's responsibilities θ_k·φ_wk are computed twice, for their sum and
// again when scaled, rather than stored in between: the same products, so
// the same numbers, for fewer stores. Pairs are counted two at a time, so
// that the document's row is stored once for both; within a document the
// words are distinct, so their accumulator rows are too, and the row's
// sums are added in the same order as one at a time.
func (t *trainer) estep(lo, hi, inner int) {
	k := t.k
	a := t.a
	t.parallel(lo, hi, func(wk, lo, hi int) {
		acc := t.acc[wk]
		phi := t.phi
		theta := make([]float64, k)
		row := make([]float64, k)
		for d := lo; d < hi; d++ {
			nd := t.nd[d*k : d*k+k]
			for i := range theta {
				theta[i] = float64(nd[i]) + a
			}
			ws := t.c.Word[t.c.Ptr[d]:t.c.Ptr[d+1]]
			cs := t.c.Count[t.c.Ptr[d]:t.c.Ptr[d+1]]
			cs = cs[:len(ws)]
			for range inner {
				clear(row)
				for j, w := range ws {
					p := phi[int(w)*k : int(w)*k+k]
					addScaled(row, theta, p, cs[j]/dot(theta, p))
				}
				for i := range theta {
					theta[i] = row[i] + a
				}
			}
			// The last pass sums the row in units of 2^-20 tokens, the
			// accumulators' fixed point: scaling by a power of two is
			// exact, so the sums are the same numbers, scaled, and the
			// scaled addends go to the accumulators as they are.
			clear(row)
			j := 0
			for ; j+2 <= len(ws); j += 2 {
				o1, o2 := int(ws[j])*k, int(ws[j+1])*k
				p1, p2 := phi[o1:o1+k], phi[o2:o2+k]
				f1, f2 := cs[j]/dot(theta, p1)*fixScale, cs[j+1]/dot(theta, p2)*fixScale
				accumulate2(row, acc[o1:o1+k], acc[o2:o2+k], theta, p1, p2, f1, f2)
			}
			if j < len(ws) {
				o := int(ws[j]) * k
				p := phi[o : o+k]
				accumulate(row, acc[o:o+k], theta, p, cs[j]/dot(theta, p)*fixScale)
			}
			for i := range row {
				nd[i] = float32(row[i] / fixScale)
			}
		}
	})
}

// The products below are rounded explicitly (float64(x*y)) so that no
// compiler fuses them into a multiply-add: the model's numbers must not
// depend on the instruction set.

// addScaled adds θ_i·φ_i·f to row.
func addScaled(row, theta []float64, phi []float32, f float64) {
	n := len(theta)
	row, phi = row[:n], phi[:n]
	for i, x := range theta {
		row[i] += float64(float64(x*float64(phi[i])) * f)
	}
}

// dot returns Σ θ_i·φ_i, in four interleaved partial sums (a fixed
// order).
func dot(theta []float64, phi []float32) float64 {
	n := len(theta)
	phi = phi[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		t4, p4 := theta[i:i+4:i+4], phi[i:i+4:i+4]
		s0 += float64(t4[0] * float64(p4[0]))
		s1 += float64(t4[1] * float64(p4[1]))
		s2 += float64(t4[2] * float64(p4[2]))
		s3 += float64(t4[3] * float64(p4[3]))
	}
	for ; i < n; i++ {
		s0 += float64(theta[i] * float64(phi[i]))
	}
	return (s0 + s1) + (s2 + s3)
}

// accumulate adds x_i = θ_i·φ_i·f to the document's row and to the
// word's accumulator, both in fixed-point units (f is scaled).
func accumulate(row []float64, acc []int64, theta []float64, phi []float32, f float64) {
	n := len(theta)
	row, acc, phi = row[:n], acc[:n], phi[:n]
	for i, t := range theta {
		x := float64(float64(t*float64(phi[i])) * f)
		row[i] += x
		acc[i] += int64(x)
	}
}

// accumulate2 is accumulate for two pairs of one document, the first's
// addend before the second's.
func accumulate2(row []float64, acc1, acc2 []int64, theta []float64, phi1, phi2 []float32, f1, f2 float64) {
	n := len(theta)
	row, acc1, acc2, phi1, phi2 = row[:n], acc1[:n], acc2[:n], phi1[:n], phi2[:n]
	for i, t := range theta {
		x1 := float64(float64(t*float64(phi1[i])) * f1)
		x2 := float64(float64(t*float64(phi2[i])) * f2)
		row[i] = row[i] + x1 + x2
		acc1[i] += int64(x1)
		acc2[i] += int64(x2)
	}
}
