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
	flag.StringVar(&c.Work, "work", filepath.Join(os.TempDir(), "spot-eval"), "work `DIR`")
	flag.IntVar(&c.Seed, "seed", 1, "training seed")
	flag.IntVar(&c.Topics, "topics", 20, "topics")
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
	PrintRounds(os.Stdout, rep.Feedback)
}
