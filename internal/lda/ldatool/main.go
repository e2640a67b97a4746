// Command ldatool generates synthetic LDA corpora and trains and judges
// spot's LDA on them, for the quality tests and benchmarks of package lda.
//
//	ldatool gen   -dir DIR [-docs N -words N -topics N -test N -len L -seed S]
//	ldatool train -dir DIR [-k K -iters N -alpha A -beta B -seed S -target P -phi FILE]
//	ldatool eval  -dir DIR -phi FILE -k K
//
// train prints its fit time, pairs per second per iteration and the
// held-out perplexity; with -target it evaluates after every iteration and
// stops at the first at or below P, reporting the time to reach it
// (evaluation time excluded).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/lda/ldatest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ldatool gen|train|eval [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "data `DIR`")
	docs := fs.Int("docs", 2000, "training documents")
	words := fs.Int("words", 1000, "vocabulary")
	topics := fs.Int("topics", 20, "true topics (gen)")
	test := fs.Int("test", 500, "held-out documents")
	length := fs.Float64("len", 100, "mean document length")
	k := fs.Int("k", 20, "topics")
	iters := fs.Int("iters", 20, "iterations")
	alpha := fs.Float64("alpha", lda.DefaultSettings().Alpha, "alpha")
	beta := fs.Float64("beta", lda.DefaultSettings().Beta, "beta")
	seed := fs.Uint64("seed", 1, "seed")
	target := fs.Float64("target", 0, "stop at this held-out perplexity")
	phiPath := fs.String("phi", "", "topic-word matrix `FILE`")
	modelPath := fs.String("model", "", "write the model `FILE` (train)")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "gen":
		d := ldatest.Generate(ldatest.Spec{Docs: *docs, Words: *words, Topics: *topics, TestDocs: *test,
			MeanLength: *length, Alpha: 0.1, Beta: 0.05, Seed: *seed})
		check(d.Save(*dir))
		fmt.Printf("docs=%d words=%d pairs=%d tokens=%.0f test=%d\n", len(d.Train.Docs), len(d.Train.Words), d.Train.Entries(), d.Train.Tokens(), len(d.Test))
	case "train":
		d, err := ldatest.Load(*dir)
		check(err)
		s := lda.Settings{Topics: *k, Alpha: *alpha, Beta: *beta, Iterations: *iters, Seed: *seed}
		var m *lda.Model
		var fit time.Duration
		if *target > 0 {
			// Train 1, 2, ... iterations by re-running with more iterations
			// would be quadratic: instead stop from the progress callback.
			ctx, cancel := context.WithCancel(context.Background())
			var evalTime time.Duration
			reached := 0
			_, _ = lda.Train(ctx, d.Train, s, func(p lda.Progress) {
				t0 := time.Now()
				pp := ldatest.Perplexity(p.Snapshot().TopicWord, d.Test)
				el := p.Elapsed - evalTime
				evalTime += time.Since(t0)
				fmt.Fprintf(os.Stderr, "iteration %d: %.2fs held-out perplexity %.2f\n", p.Iteration, el.Seconds(), pp)
				if pp <= *target && reached == 0 {
					reached = p.Iteration
					fit = el
					cancel()
				}
			})
			if reached == 0 {
				fmt.Printf("target=%.2f not reached in %d iterations\n", *target, *iters)
				os.Exit(1)
			}
			fmt.Printf("target=%.2f reached at iteration %d fit_seconds=%.3f\n", *target, reached, fit.Seconds())
			return
		}
		t0, cpu0 := time.Now(), cpuTime()
		var last time.Duration
		var batch []time.Duration // durations of the batch iterations (2nd on)
		m, err = lda.Train(context.Background(), d.Train, s, func(p lda.Progress) {
			if p.Iteration > 1 {
				batch = append(batch, p.Elapsed-last)
			}
			last = p.Elapsed
		})
		check(err)
		fit = time.Since(t0)
		cpu := cpuTime() - cpu0
		pp := ldatest.Perplexity(m.TopicWord, d.Test)
		iterRate := 0.0
		if len(batch) > 0 {
			slices.Sort(batch)
			iterRate = float64(d.Train.Entries()) / batch[len(batch)/2].Seconds()
		}
		fmt.Printf("spot fit_seconds=%.3f iterations=%d pairs=%d pairs_per_s_per_iteration=%.3gM (median batch iteration; whole fit %.3gM) cpu_seconds=%.3f pairs_per_cpu_s=%.3gM perplexity=%.3f train_perplexity=%.3f\n",
			fit.Seconds(), *iters, d.Train.Entries(), iterRate/1e6, float64(d.Train.Entries())*float64(*iters)/fit.Seconds()/1e6,
			cpu.Seconds(), float64(d.Train.Entries())*float64(*iters)/cpu.Seconds()/1e6, pp, m.Stats.Perplexity)
		if *phiPath != "" {
			check(ldatest.WritePhi(*phiPath, m.TopicWord))
		}
		if *modelPath != "" {
			check(m.WriteFile(*modelPath))
		}
	case "eval":
		d, err := ldatest.Load(*dir)
		check(err)
		phi, err := ldatest.ReadPhi(*phiPath, *k, len(d.Train.Words))
		check(err)
		fmt.Printf("perplexity=%.3f\n", ldatest.Perplexity(phi, d.Test))
	default:
		fmt.Fprintln(os.Stderr, "usage: ldatool gen|train|eval [flags]")
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ldatool:", err)
		os.Exit(1)
	}
}

// cpuTime is the process's user+system CPU time, a measure that the
// machine's load disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
