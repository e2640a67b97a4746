package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Result is one row of the evaluation table.
type Result struct {
	Dataset, Score string
	N, K           int // events, attack events
	AUC            float64
	PrecAt100      float64
	RecallAtK      float64
	RecallByType   map[string]float64 // recall@k of each attack label
}

type point struct {
	score float64
	eid   int64
	label string
}

// metrics computes ROC AUC (attacks should score lower; ties count half),
// precision@100 and recall@k of pts, ranked by score, ties by eid.
func metrics(dataset, name string, pts []point) Result {
	sort.Slice(pts, func(i, j int) bool {
		if pts[i].score != pts[j].score {
			return pts[i].score < pts[j].score
		}
		return pts[i].eid < pts[j].eid
	})
	r := Result{Dataset: dataset, Score: name, N: len(pts), RecallByType: map[string]float64{}}
	typeTotal := map[string]int{}
	for _, p := range pts {
		if p.label != benign {
			r.K++
			typeTotal[p.label]++
		}
	}
	// AUC by ranks, ties averaged (Mann-Whitney U).
	var rankSum float64
	for i := 0; i < len(pts); {
		j := i
		for j < len(pts) && pts[j].score == pts[i].score {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 .. j
		for t := i; t < j; t++ {
			if pts[t].label != benign {
				rankSum += avg
			}
		}
		i = j
	}
	neg := len(pts) - r.K
	if r.K > 0 && neg > 0 {
		u := rankSum - float64(r.K)*float64(r.K+1)/2 // pairs where an attack ranks below (after) a benign event
		r.AUC = 1 - u/(float64(r.K)*float64(neg))
	}
	hits := 0
	for i := 0; i < len(pts) && i < 100; i++ {
		if pts[i].label != benign {
			hits++
		}
	}
	r.PrecAt100 = float64(hits) / math.Min(100, float64(len(pts)))
	typeHits := map[string]int{}
	hits = 0
	for i := 0; i < len(pts) && i < r.K; i++ {
		if pts[i].label != benign {
			hits++
			typeHits[pts[i].label]++
		}
	}
	if r.K > 0 {
		r.RecallAtK = float64(hits) / float64(r.K)
	}
	for t, n := range typeTotal {
		r.RecallByType[t] = float64(typeHits[t]) / float64(n)
	}
	return r
}

// SubjectRank is where the subject of one attack's events stands among
// the findings of its detector.
type SubjectRank struct {
	Dataset, Attack string
	Detector        string // "" when no detector found the attack's events
	Subject         string
	Rank, Of        int // 1-based rank among Of findings of Detector
	Share           float64
}

// Print writes the results as a Markdown table.
func Print(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| dataset | score | events | k | ROC AUC | prec@100 | recall@k | recall@k by attack type |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		var types []string
		for t := range r.RecallByType {
			types = append(types, t)
		}
		sort.Strings(types)
		var by []string
		for _, t := range types {
			by = append(by, fmt.Sprintf("%s %.2f", strings.TrimPrefix(t, "tunnel-"), r.RecallByType[t]))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.3f | %.2f | %.2f | %s |\n", r.Dataset, r.Score, r.N, r.K, r.AUC, r.PrecAt100, r.RecallAtK, strings.Join(by, ", "))
	}
}

// PrintRanks writes the subject ranks as a Markdown table.
func PrintRanks(w io.Writer, rs []SubjectRank) {
	fmt.Fprintln(w, "| dataset | attack | detector | subject | rank among its findings | events of the attack it explains |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rs {
		if r.Detector == "" {
			fmt.Fprintf(w, "| %s | %s | none | | | 0%% |\n", r.Dataset, r.Attack)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d of %d | %.0f%% |\n", r.Dataset, r.Attack, r.Detector, r.Subject, r.Rank, r.Of, 100*r.Share)
	}
}

// BeaconPairs is how the beacon detector ranks the beaconing pairs of a
// flow dataset.
type BeaconPairs struct {
	Dataset     string
	Pairs       int // pairs in the dataset
	Beaconing   int // pairs whose 12 or more events are mostly beacons
	Found       int // of those, found by the beacon detector
	BenignAbove int // benign pairs the detector ranks above the last found
}

// PrintBeacons writes the beacon pairs as a Markdown table.
func PrintBeacons(w io.Writer, bs []BeaconPairs) {
	fmt.Fprintln(w, "| dataset | beaconing pairs | found | recall | benign beacons ranked above the last | pairs in all |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, b := range bs {
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %d | %d |\n", b.Dataset, b.Beaconing, b.Found, float64(b.Found)/float64(b.Beaconing), b.BenignAbove, b.Pairs)
	}
}
