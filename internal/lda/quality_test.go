package lda_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/lda/ldatest"
)

const python = "/usr/bin/python3"

// needSklearn skips the test when Debian's python3-sklearn is missing,
// except in CI, where a missing oracle is a failure.
func needSklearn(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sklearn, scipy, numpy").CombinedOutput()
	if err == nil {
		return
	}
	msg := "scikit-learn for " + python + " is missing (Debian: apt-get install python3-sklearn): " + strings.TrimSpace(string(out))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestQualityVsScikitLearn: on the same count matrices (drawn from LDA's
// generative process), spot's model with its default settings (Spot's α,
// β and 20 iterations) has a held-out perplexity no worse than
// scikit-learn's LatentDirichletAllocation (batch, 20 iterations) at the
// same number of topics. One evaluator judges both topic-word matrices:
// the same held-out documents, the same fold-in (ldatest.Perplexity).
func TestQualityVsScikitLearn(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short")
	}
	needSklearn(t)
	const k = 20
	seeds := []uint64{1, 2, 3}
	type run struct {
		dir  string
		data *ldatest.Data
		cmd  *exec.Cmd
		out  strings.Builder
	}
	runs := make([]*run, len(seeds))
	for i, seed := range seeds {
		r := &run{dir: t.TempDir()}
		r.data = ldatest.Generate(ldatest.Spec{Docs: 1000, Words: 600, Topics: k, TestDocs: 300,
			MeanLength: 60, Alpha: 0.1, Beta: 0.05, Seed: seed})
		if err := r.data.Save(r.dir); err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(python, "testdata/peer_lda.py", "sklearn", r.dir, "20", "20", "0", filepath.Join(r.dir, "sklearn.phi"))
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		runs[i] = r
	}
	for i, r := range runs {
		s := lda.DefaultSettings()
		s.Topics = k
		s.Seed = seeds[i]
		m, err := lda.Train(context.Background(), r.data.Train, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		ours := ldatest.Perplexity(m.TopicWord, r.data.Test)
		if err := r.cmd.Wait(); err != nil {
			t.Fatalf("seed %d: scikit-learn: %v\n%s", seeds[i], err, r.out.String())
		}
		phi, err := ldatest.ReadPhi(filepath.Join(r.dir, "sklearn.phi"), k, len(r.data.Train.Words))
		if err != nil {
			t.Fatal(err)
		}
		theirs := ldatest.Perplexity(phi, r.data.Test)
		unigram := ldatest.Perplexity(ldatest.Unigram(r.data.Train), r.data.Test)
		t.Logf("seed %d: held-out perplexity spot %.2f, scikit-learn %.2f, unigram %.2f (%s)", seeds[i], ours, theirs, unigram, strings.TrimSpace(r.out.String()))
		// The evaluator must tell a topic model from word frequencies, or
		// the comparison means nothing (e.g. columns out of order).
		if !(theirs < 0.9*unigram) || !(ours < 0.9*unigram) {
			t.Errorf("seed %d: a topic model is no better than the unigram model", seeds[i])
		}
		if ours > theirs {
			t.Errorf("seed %d: spot's held-out perplexity %.2f is worse than scikit-learn's %.2f", seeds[i], ours, theirs)
		}
	}
}
