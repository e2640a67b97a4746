package lda_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/lda/ldatest"
)

// BenchmarkTrain reports (document, word) pairs per second per iteration on
// the synthetic corpus in $LDA_BENCH_DIR (ldatool gen), or a small
// generated one.
func BenchmarkTrain(b *testing.B) {
	var c *lda.Corpus
	if dir := os.Getenv("LDA_BENCH_DIR"); dir != "" {
		d, err := ldatest.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		c = d.Train
	} else {
		c = ldatest.Generate(ldatest.Spec{Docs: 5000, Words: 2000, Topics: 20, MeanLength: 60, Alpha: 0.1, Beta: 0.05, Seed: 1}).Train
	}
	s := lda.DefaultSettings()
	s.Iterations = 10
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if _, err := lda.Train(context.Background(), c, s, nil); err != nil {
			b.Fatal(err)
		}
	}
	pairs := float64(c.Entries()) * float64(s.Iterations) * float64(b.N)
	b.ReportMetric(pairs/b.Elapsed().Seconds()/1e6, "Mpairs/s")
	b.ReportMetric(pairs/(cpuTime()-cpu0).Seconds()/1e6, "Mpairs/cpu-s")
}

// cpuTime is the process's user+system CPU time: on a loaded machine,
// pairs per CPU-second measure the code where wall time measures the load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
