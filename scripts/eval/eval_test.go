package main

import (
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// TestFloors runs the evaluation (the fused ranking, with the capture's
// flows as contacts too for DNS and with the capture's DNS records as
// lookups for flows, Apache Spot's score and the baseline) on
// every labelled dataset with a fixed seed and
// asserts the detection floors of the fused ranking: on DNS, ROC AUC 0.99,
// precision@100 0.95 (or all the attacks there are, when fewer than 100),
// recall@k 0.9 and 0.8 for each attack type; on flows, ROC AUC 0.95 and
// each attack's subject first among its detector's findings; on flows
// with beacons, 90% of the beaconing pairs found, at most 1 benign pair per
// 100 ranked above the last.
//
// A dataset below a floor would be named in belowFloor, its bar there
// guarding against regressions (README, Detection, saying why); none is.
func TestFloors(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	testenv.Corpus(t, "dns/generated")
	corpus := testenv.Corpus(t, "flows/ndpi")
	root := testenv.ModuleRoot(t)
	bin := filepath.Join(t.TempDir(), "spot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/spot")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var log bytes.Buffer
	c := &Config{Spot: bin, Corpus: filepath.Dir(filepath.Dir(corpus)), Data: filepath.Join(root, "testdata/eval"),
		Work: t.TempDir(), Seed: 1, Topics: 20, Quick: true, Log: &log}
	rep, err := Evaluate(c)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var table bytes.Buffer
	Print(&table, rep.Results)
	PrintRanks(&table, rep.Ranks)
	t.Logf("\n%s", table.String())
	kinds := rep.Kinds
	seen := 0
	for _, r := range rep.Results {
		if r.Score != "fused" && r.Score != "fused + contacts" { // the floors hold with and without contacts
			continue
		}
		seen++
		switch kinds[r.Dataset] {
		case record.KindDNS:
			if r.AUC < 0.99 {
				t.Errorf("%s: ROC AUC %.3f, floor 0.99", r.Dataset, r.AUC)
			}
			if p := math.Min(0.95, float64(r.K)/100); r.PrecAt100 < p {
				t.Errorf("%s: precision@100 %.2f, floor %.2f", r.Dataset, r.PrecAt100, p)
			}
			if r.RecallAtK < 0.9 {
				t.Errorf("%s: recall@k %.2f, floor 0.9", r.Dataset, r.RecallAtK)
			}
			for a, v := range r.RecallByType {
				if v < 0.8 {
					t.Errorf("%s: recall@k of %s %.2f, floor 0.8", r.Dataset, a, v)
				}
			}
		case record.KindFlow:
			floor := 0.95
			if b, ok := belowFloor[r.Dataset]; ok {
				floor = b.auc
				t.Logf("%s: ROC AUC %.3f, below the issue's floor 0.95: %s", r.Dataset, r.AUC, b.why)
			}
			if r.AUC < floor {
				t.Errorf("%s: ROC AUC %.3f, floor %.2f", r.Dataset, r.AUC, floor)
			}
		}
	}
	// the held-out Zeek log: every row measured but its 3 Unknown ones
	// (719 RemcosRAT, 44 benign) among flows-lab's 3,529 benign flows
	held := 0
	for _, r := range rep.Results {
		if r.Dataset == "mix-sme11-flowslab" && r.Score == "fused" {
			held++
			if r.N != 719+44+3529 || r.K != 719 {
				t.Errorf("%s: %d events, %d attacks; want %d, 719", r.Dataset, r.N, r.K, 719+44+3529)
			}
		}
	}
	if held != 1 {
		t.Errorf("the held-out set mix-sme11-flowslab evaluated %d times, want once", held)
	}
	if seen < 4 {
		t.Errorf("fused results for %d datasets, want at least 4", seen)
	}
	if len(rep.Beacons) == 0 {
		t.Error("no flow dataset with beacons evaluated")
	}
	for _, b := range rep.Beacons {
		if float64(b.Found) < 0.9*float64(b.Beaconing) || b.BenignAbove > max(1, b.Pairs/100) {
			t.Errorf("%s: beacon detector found %d of %d beaconing pairs with %d benign ranked above the last (of %d pairs); floor: 90%%, 1 per 100 pairs",
				b.Dataset, b.Found, b.Beaconing, b.BenignAbove, b.Pairs)
		}
	}
	for _, r := range rep.Ranks {
		if kinds[r.Dataset] == record.KindFlow && r.Rank != 1 {
			t.Errorf("%s: the subject of %s ranks %d of %d among %q findings, want first", r.Dataset, r.Attack, r.Rank, r.Of, r.Detector)
		}
	}
}

var belowFloor = map[string]struct {
	auc float64
	why string
}{}

// Labels join by event id: a scored event without a label is an error, and
// so is a score that misses events.
func TestScoredJoin(t *testing.T) {
	dir := t.TempDir()
	d := &dataset{name: "t", kind: record.KindDNS, labels: map[int64]string{1: benign, 2: "tunnel-x"}}
	write := func(eids ...int64) string {
		var rs []record.ScoredDNS
		for _, e := range eids {
			var r record.ScoredDNS
			r.EID = e
			rs = append(rs, r)
		}
		path := filepath.Join(dir, "s.parquet")
		if err := writeAll(path, record.ScoredDNS{}.Meta(), rs); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, _, err := scored(d, write(1, 2)); err != nil {
		t.Errorf("complete scores refused: %v", err)
	}
	if _, _, err := scored(d, write(1, 2, 3)); err == nil {
		t.Error("a scored event without a label accepted")
	}
	if _, _, err := scored(d, write(1)); err == nil {
		t.Error("a score missing an event accepted")
	}
	d.rejected = 1
	if _, _, err := scored(d, write(1)); err != nil {
		t.Errorf("one rejected event of two: %v", err)
	}
	// an event no label judges is scored, not measured, and still counted
	d.rejected, d.unknown = 0, map[int64]bool{3: true}
	if pts, _, err := scored(d, write(1, 2, 3)); err != nil || len(pts) != 2 {
		t.Errorf("an unknown event among scores: %d measured, %v; want 2", len(pts), err)
	}
	if _, _, err := scored(d, write(1, 2)); err == nil {
		t.Error("a score missing an unknown event accepted")
	}
}
