package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	c := &Config{Log: os.Stderr}
	flag.StringVar(&c.Spot, "spot", "bin/spot", "the spot `BINARY`")
	flag.StringVar(&c.Corpus, "corpus", os.Getenv("SPOT_CORPUS"), "the corpus `DIR` (default $SPOT_CORPUS, else ../shared/corpus)")
	flag.StringVar(&c.Data, "data", "testdata/eval", "labelled captures made by scripts/eval/gen, `DIR`")
	flag.StringVar(&c.Work, "work", filepath.Join(os.TempDir(), "spot-eval"), "work `DIR`")
	flag.IntVar(&c.Seed, "seed", 1, "training seed")
	flag.IntVar(&c.Topics, "topics", 20, "topics")
	flag.StringVar(&c.Only, "only", "", "evaluate only datasets whose name contains `TEXT`")
	flag.BoolVar(&c.Quick, "quick", false, "only the fused ranking, Apache Spot's score and the baseline")
	flag.Parse()
	if c.Corpus == "" {
		c.Corpus = "../shared/corpus"
	}
	rep, err := Evaluate(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
	Print(os.Stdout, rep.Results)
	fmt.Println()
	PrintRanks(os.Stdout, rep.Ranks)
	if len(rep.Beacons) > 0 {
		fmt.Println()
		PrintBeacons(os.Stdout, rep.Beacons)
	}
	if len(rep.Feedback) > 0 {
		PrintRounds(os.Stdout, rep.Feedback)
	}
}
