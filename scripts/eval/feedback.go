package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/spot-hunt/spot/internal/record"
)

// Round is one round of the feedback loop.
type Round struct {
	DupFactor, Round int
	Tunnels          int // tunnels among the round's 100 reviewed events
	Found            int // tunnels found so far
}

// FeedbackLoop plays Spot's feedback loop on a dataset, as an analyst would
// use it: each round the model is trained with the marks so far added
// dup times (Spot's DUPFACTOR), and the analyst reviews the 100
// lowest-scored events not yet reviewed, marking a tunnel severity 1 and a
// benign event severity 3 (the noise Spot's feedback removes).
func FeedbackLoop(c *Config, name, path string, label map[int64]string, dup, rounds int) ([]Round, error) {
	var marks []record.FeedbackDNS
	reviewed := map[int64]bool{}
	fbPath := filepath.Join(c.Work, fmt.Sprintf("%s.feedback-%d.parquet", name, dup))
	model := filepath.Join(c.Work, fmt.Sprintf("%s.feedback-%d.model", name, dup))
	out := filepath.Join(c.Work, fmt.Sprintf("%s.feedback-%d.scored.parquet", name, dup))
	var rs []Round
	found := 0
	for round := 1; round <= rounds; round++ {
		args := []string{"train", path, "--topics", fmt.Sprint(c.Topics), "--seed", fmt.Sprint(c.Seed), "--domain-parser", "psl", "-o", model}
		if len(marks) > 0 {
			if err := writeAll(fbPath, record.FeedbackDNS{}.Meta(), marks); err != nil {
				return nil, err
			}
			args = append(args, "--feedback", fbPath, "--dup-factor", fmt.Sprint(dup))
		}
		if err := run(c, args...); err != nil {
			return nil, err
		}
		if err := run(c, "score", "-m", model, "--method", "spot", path, "-o", out); err != nil {
			return nil, err
		}
		scored, err := readAll[record.ScoredDNS](out)
		if err != nil {
			return nil, err
		}
		sort.Slice(scored, func(i, j int) bool {
			if scored[i].Score != scored[j].Score {
				return scored[i].Score < scored[j].Score
			}
			return scored[i].EID < scored[j].EID
		})
		r := Round{DupFactor: dup, Round: round}
		n := 0
		for _, s := range scored {
			if n == 100 {
				break
			}
			if reviewed[s.EID] {
				continue
			}
			reviewed[s.EID] = true
			n++
			sev := int32(3)
			if label[s.EID] != "benign" {
				sev = 1
				r.Tunnels++
			}
			marks = append(marks, record.FeedbackDNS{ScoredDNS: s, Feedback: record.Feedback{Severity: sev, Analyst: "eval", NotedAt: "2026-01-01T00:00:00Z"}})
		}
		found += r.Tunnels
		r.Found = found
		rs = append(rs, r)
	}
	return rs, nil
}

// PrintRounds writes the feedback loop's rounds as a table.
func PrintRounds(w io.Writer, rs []Round) {
	fmt.Fprintf(w, "\nfeedback loop on dns-sparse (spot score, PSL words; 100 events reviewed a round):\n")
	fmt.Fprintf(w, "%10s %5s %16s %13s\n", "dup-factor", "round", "tunnels in round", "tunnels found")
	for _, r := range rs {
		fmt.Fprintf(w, "%10d %5d %16d %13d\n", r.DupFactor, r.Round, r.Tunnels, r.Found)
	}
}
