package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ldaCases: LDA training on a synthetic count matrix drawn from LDA's
// generative process (50k documents × 20k words, 20 topics; -small: 5k ×
// 2k), against scikit-learn's LatentDirichletAllocation (batch, 20
// iterations) and gensim's LdaMulticore (2 workers, 5 passes: 20 take
// ~20 min here), same K.
// Every command prints its held-out perplexity (one evaluator, the same
// held-out documents and fold-in for all: ldatest.Perplexity) and its fit
// time without loading to stderr.
//
// "to scikit-learn's quality": spot trains as many iterations as it needs
// for its held-out perplexity to reach what scikit-learn's 20 iterations
// reached (both measured once in Setup), so the speed-up column is the
// issue's floor (>= 30x). ldatool also prints pairs per second per
// iteration.
//
// Measured 2026-11-30 (2 cores, load ~2): to scikit-learn's quality 0.87 s
// (8 iterations, fit 0.55 s) vs 131.8 s (fit 130.7 s), 152x; 20 iterations
// 2.85 s, perplexity 6298, vs gensim 5 passes 72.6 s, perplexity 7721;
// median batch iteration 35-44M pairs/s.
func ldaCases(env *Env) []Case {
	docs, words, test := 50_000, 20_000, 2_000
	if env.Small {
		docs, words, test = 5_000, 2_000, 500
	}
	dir := filepath.Join(env.Dir, fmt.Sprintf("lda-%d-%d", docs, words))
	tool := filepath.Join(env.Dir, "ldatool")
	py := "/usr/bin/python3 internal/lda/testdata/peer_lda.py"
	target := filepath.Join(dir, "sklearn.target")
	gen := func() error {
		cmd := exec.Command("go", "build", "-o", tool, "./internal/lda/ldatool")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return err
		}
		if !exists(filepath.Join(dir, "test.txt")) {
			if err := sh(fmt.Sprintf("%s gen -dir %s -docs %d -words %d -topics 20 -test %d -len 40 -seed 7", tool, dir, docs, words, test)); err != nil {
				return err
			}
		}
		return nil
	}
	iters := filepath.Join(dir, "spot.iterations")
	withTarget := func() error {
		if err := gen(); err != nil {
			return err
		}
		if !exists(target) {
			fmt.Fprintln(os.Stderr, "lda: measuring scikit-learn's 20-iteration held-out perplexity (once)")
			out, err := exec.Command("bash", "-c", fmt.Sprintf("%s sklearn %s 20 20 0 %s/sklearn.phi >&2 && %s eval -dir %s -k 20 -phi %s/sklearn.phi",
				py, dir, dir, tool, dir, dir)).Output()
			if err != nil {
				return err
			}
			p, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "perplexity=")
			if _, err := strconv.ParseFloat(p, 64); !ok || err != nil {
				return fmt.Errorf("eval printed %q", out)
			}
			if err := os.WriteFile(target, []byte(p), 0o644); err != nil {
				return err
			}
		}
		if !exists(iters) {
			// Training is deterministic: find once the first iteration at
			// or below the target, then time plain runs of that many.
			out, err := exec.Command("bash", "-c", fmt.Sprintf("%s train -dir %s -iters 200 -target $(cat %s)", tool, dir, target)).Output()
			if err != nil {
				return fmt.Errorf("spot did not reach scikit-learn's perplexity in 200 iterations: %v", err)
			}
			var n int
			if _, err := fmt.Sscanf(string(out), "target=%s reached at iteration %d", new(string), &n); err != nil {
				return fmt.Errorf("ldatool printed %q: %v", out, err)
			}
			return os.WriteFile(iters, []byte(strconv.Itoa(n)), 0o644)
		}
		return nil
	}
	name := fmt.Sprintf("LDA %s docs x %s words K=20", si(float64(docs)), si(float64(words)))
	return []Case{
		{Name: name + ", to scikit-learn's 20-iteration quality", Items: 1, Unit: "fits", Setup: withTarget,
			Ours:     fmt.Sprintf("%s train -dir %s -iters $(cat %s) 1>&2", tool, dir, iters),
			Peer:     fmt.Sprintf("%s sklearn %s 20 20 0 %s/sk.phi 1>&2 && echo scikit-learn perplexity=$(cat %s) >&2", py, dir, dir, target),
			PeerName: "scikit-learn"},
		{Name: name + ", spot 20 iterations, gensim 5 passes", Items: 1, Unit: "fits", Setup: gen,
			Ours:     fmt.Sprintf("%s train -dir %s -iters 20 1>&2", tool, dir),
			Peer:     fmt.Sprintf("%s gensim %s 20 5 0 %s/gs.phi 1>&2 && %s eval -dir %s -k 20 -phi %s/gs.phi 1>&2", py, dir, dir, tool, dir, dir),
			PeerName: "gensim LdaMulticore"},
	}
}

func sh(command string) error {
	cmd := exec.Command("bash", "-c", command)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}
