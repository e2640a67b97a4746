package lda

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// Stats describes the training corpus and how well the model fits it.
type Stats struct {
	Documents     int
	Words         int
	Entries       int     // distinct (document, word) pairs
	Tokens        float64 // sum of counts
	LogLikelihood float64 // of the training corpus under the final model
	Perplexity    float64 // exp(−LogLikelihood / Tokens)
}

// Model is a trained LDA model and what scoring needs besides it.
type Model struct {
	Kind      string            // flow, dns or proxy: set by the caller
	Features  map[string]string // featurizer state, opaque here: set by the caller
	Settings  Settings
	Docs      []string    // sorted
	Words     []string    // sorted
	DocTopic  [][]float32 // θ: len(Docs) × K, rows sum to 1
	TopicWord [][]float32 // φ: K × len(Words), rows sum to 1
	Stats     Stats
}

// model turns the trainer's final counts into a Model.
func (t *trainer) model(s Settings, ll float64) *Model {
	k := t.k
	m := &Model{
		Settings:  s,
		Docs:      t.c.Docs,
		Words:     t.c.Words,
		DocTopic:  make([][]float32, t.d),
		TopicWord: make([][]float32, k),
	}
	flat := make([]float32, t.d*k)
	for d := range m.DocTopic {
		row := flat[d*k : d*k+k : d*k+k]
		nd := t.nd[d*k : d*k+k]
		n := 0.0
		for _, x := range nd {
			n += float64(x) + t.a
		}
		for i, x := range nd {
			row[i] = float32((float64(x) + t.a) / n)
		}
		m.DocTopic[d] = row
	}
	tw := make([]float32, k*t.v)
	for i := range m.TopicWord {
		m.TopicWord[i] = tw[i*t.v : (i+1)*t.v : (i+1)*t.v]
	}
	for w := 0; w < t.v; w++ {
		for i := 0; i < k; i++ {
			m.TopicWord[i][w] = float32(t.phi[w*k+i])
		}
	}
	tokens := t.c.Tokens()
	m.Stats = Stats{
		Documents:     t.d,
		Words:         t.v,
		Entries:       len(t.c.Word),
		Tokens:        tokens,
		LogLikelihood: ll,
		Perplexity:    math.Exp(-ll / tokens),
	}
	return m
}

// DocIndex returns the row of document name in DocTopic.
func (m *Model) DocIndex(name string) (int, bool) {
	return slices.BinarySearch(m.Docs, name)
}

// WordIndex returns the column of word name in TopicWord.
func (m *Model) WordIndex(name string) (int, bool) {
	return slices.BinarySearch(m.Words, name)
}

// Topics is K.
func (m *Model) Topics() int { return len(m.TopicWord) }

// Infer folds an unseen document into the model: it returns the document's
// topic mixture θ, estimated by EM with the topic-word matrix held fixed
// and the model's α. words are word indexes (repeats allowed) and counts
// their counts; words out of range and counts that are not finite and
// positive are ignored. With no usable word, θ is uniform.
func (m *Model) Infer(words []int32, counts []float64, iterations int) []float64 {
	return FoldIn(m.TopicWord, words, counts, m.Settings.Alpha-1, iterations)
}

// FoldIn estimates the topic mixture of a document under the topic-word
// matrix phi (K × V) with pseudo-count a (α−1), by iterations of EM from a
// uniform start. It is the fold-in of Infer, exported so that one procedure
// can judge models trained elsewhere.
func FoldIn(phi [][]float32, words []int32, counts []float64, a float64, iterations int) []float64 {
	k := len(phi)
	theta := make([]float64, k)
	for i := range theta {
		theta[i] = 1 / float64(k)
	}
	if k == 0 {
		return theta
	}
	v := len(phi[0])
	type wc struct {
		p []float64
		c float64
	}
	var ws []wc
	n := 0.0
	for j, w := range words {
		if j >= len(counts) || w < 0 || int(w) >= v {
			continue
		}
		c := counts[j]
		if !(c > 0) || math.IsInf(c, 0) {
			continue
		}
		p := make([]float64, k)
		for i := range p {
			p[i] = float64(phi[i][w])
		}
		ws = append(ws, wc{p, c})
		n += c
	}
	if len(ws) == 0 {
		return theta
	}
	next := make([]float64, k)
	for range iterations {
		clear(next)
		for _, x := range ws {
			s := 0.0
			for i, p := range x.p {
				s += theta[i] * p
			}
			if s <= 0 {
				continue
			}
			f := x.c / s
			for i, p := range x.p {
				next[i] += theta[i] * p * f
			}
		}
		tot := 0.0
		for i := range next {
			next[i] += a
			tot += next[i]
		}
		if !(tot > 0) {
			break
		}
		for i := range next {
			theta[i] = next[i] / tot
		}
	}
	return theta
}

// Describe writes the model's settings, corpus statistics and the topWords
// most probable words of each topic.
func (m *Model) Describe(w io.Writer, topWords int) {
	s := m.Settings
	st := m.Stats
	line := func(label, format string, v any) { fmt.Fprintf(w, "%-16s"+format+"\n", label+":", v) }
	if m.Kind != "" {
		line("kind", "%s", m.Kind)
	}
	line("topics", "%d", s.Topics)
	line("alpha", "%g", s.Alpha)
	line("beta", "%g", s.Beta)
	line("iterations", "%d", s.Iterations)
	line("seed", "%d", s.Seed)
	line("documents", "%d", st.Documents)
	line("words", "%d", st.Words)
	line("pairs", "%d", st.Entries)
	line("tokens", "%.0f", st.Tokens)
	line("log-likelihood", "%.6g", st.LogLikelihood)
	line("perplexity", "%.6g", st.Perplexity)
	if len(m.Features) > 0 {
		keys := make([]string, 0, len(m.Features))
		for k := range m.Features {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "features:")
		for _, k := range keys {
			v := m.Features[k]
			if len(v) > 60 {
				v = fmt.Sprintf("%s… (%d bytes)", v[:60], len(v))
			}
			fmt.Fprintf(w, "  %s: %s\n", k, strings.ReplaceAll(v, "\n", `\n`))
		}
	}
	// Topic weights: the share of the corpus each topic explains.
	weight := make([]float64, len(m.TopicWord))
	tot := 0.0
	for _, row := range m.DocTopic {
		for i, x := range row {
			weight[i] += float64(x)
			tot += float64(x)
		}
	}
	for i, row := range m.TopicWord {
		share := 0.0
		if tot > 0 {
			share = weight[i] / tot
		}
		fmt.Fprintf(w, "topic %d (%.1f%% of documents' mass):\n", i, 100*share)
		idx := make([]int, len(row))
		for j := range idx {
			idx[j] = j
		}
		slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(row[y], row[x]) })
		for _, j := range idx[:min(topWords, len(idx))] {
			fmt.Fprintf(w, "  %.4f  %s\n", row[j], m.Words[j])
		}
	}
}
