// Command eval measures how well spot's scores find the attacks in labelled
// data: it runs spot decode -> train -> score on datasets built from
// ../shared/corpus and prints, per dataset and score, ROC AUC, precision@100
// and recall@k (k = the number of attack events), beside a baseline that
// knows nothing of hosts or topics.
//
//	go run ./scripts/eval [-spot bin/spot] [-corpus DIR] [-work DIR] [-seed N]
//
// Datasets (DNS, from dns/generated: dnsperf->NSD on loopback, 23 clients,
// every query labelled benign or tunnel-dns2tcp/-iodine/-dnscapy):
//
//   - dns-sparse: the benign hosts' responses, with tunnel responses (taken
//     in turn from the three tunnelling clients) injected into every benign
//     host, ⌊1%⌋ of that host's count each; the tunnelling hosts' own traffic
//     left out. Apache Spot's home ground: rare events of each host.
//   - dns-dense: the capture as generated, where three hosts mostly tunnel.
//   - flows: nDPI's SYN-scan and web-RCE captures with its 1kxun, alexa-app and
//     gnutella captures (spot decode flow); the baseline is ibyt (small first).
//
// Scores: spot (Apache Spot's Σθφ), population, peer and hybrid (spot
// score --method), and the baseline -len(name)·H(name) (lower = longer,
// higher-entropy question names). Low scores are suspicious.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Config says where things are.
type Config struct {
	Spot   string // the spot binary
	Corpus string // ../shared/corpus
	Work   string // work directory
	Seed   int
	Topics int
	Log    io.Writer
}

// Result is one row of the evaluation table.
type Result struct {
	Dataset, Score string
	N, K           int // events, attack events
	AUC            float64
	PrecAt100      float64
	RecallAtK      float64
	RecallByType   map[string]float64 // recall@k of each attack label
}

// labelled is one event with its label ("benign" or "tunnel-...").
type labelled struct {
	rec   record.DNS
	label string
}

var qtypes = map[string]int32{"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "NULL": 10, "PTR": 12, "MX": 15, "TXT": 16,
	"KEY": 25, "AAAA": 28, "SRV": 33, "ANY": 255, "CAA": 257}

type labelKey struct {
	client, name string
	qtype        int32
}

func readLabels(path string) (map[labelKey]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = 4
	m := map[labelKey]string{}
	for line := 0; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 0 {
			continue
		}
		qt, ok := qtypes[rec[2]]
		if !ok {
			return nil, fmt.Errorf("%s: line %d: unknown qtype %q", path, line+1, rec[2])
		}
		m[labelKey{rec[0], strings.TrimSuffix(strings.ToLower(rec[1]), "."), qt}] = rec[3]
	}
}

func run(c *Config, args ...string) error {
	cmd := exec.Command(c.Spot, args...)
	cmd.Stderr = c.Log
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return nil // finished; malformed input was skipped and counted on stderr
	}
	if err != nil {
		return fmt.Errorf("spot %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func readAll[T any](path string) ([]T, error) {
	in, err := ioformat.Open(path, nil)
	if err != nil {
		return nil, err
	}
	r, err := ioformat.NewReader[T](in)
	if err != nil {
		in.Close()
		return nil, err
	}
	defer r.Close()
	var out []T
	buf := make([]T, ioformat.BatchSize)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func writeAll[T any](path string, meta record.Meta, recs []T) error {
	w, err := ioformat.Create[T](ioformat.Dest{Path: path}, meta)
	if err != nil {
		return err
	}
	if err := w.Write(recs); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Report is the evaluation's outcome.
type Report struct {
	Results  []Result
	Feedback []Round // the feedback loop on dns-sparse
}

// Evaluate runs the whole evaluation.
func Evaluate(c *Config) (*Report, error) {
	if err := os.MkdirAll(c.Work, 0o755); err != nil {
		return nil, err
	}
	pcap := filepath.Join(c.Corpus, "dns/generated/dnsperf-nsd.pcap")
	labelsPath := filepath.Join(c.Corpus, "dns/generated/dnsperf-nsd.labels.csv")
	if _, err := os.Stat(pcap); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	events := filepath.Join(c.Work, "dnsperf.parquet")
	if err := run(c, "decode", "dns", pcap, "-o", events); err != nil {
		return nil, err
	}
	labels, err := readLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	recs, err := readAll[record.DNS](events)
	if err != nil {
		return nil, err
	}
	var all []labelled
	unmatched := 0
	for _, r := range recs {
		l, ok := labels[labelKey{r.IPDst, strings.TrimSuffix(strings.ToLower(r.QryName), "."), r.QryType}]
		if !ok {
			unmatched++
			continue
		}
		all = append(all, labelled{r, l})
	}
	fmt.Fprintf(c.Log, "eval: %d responses decoded, %d labelled, %d without a label (left out)\n", len(recs), len(all), unmatched)

	rep := &Report{}
	for _, ds := range []struct {
		name string
		evs  []labelled
	}{{"dns-sparse", sparse(all)}, {"dns-dense", all}} {
		rs, err := evalDataset(c, ds.name, ds.evs)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, rs...)
		if ds.name == "dns-sparse" {
			label := map[int64]string{}
			for _, e := range ds.evs {
				label[e.rec.EID] = e.label
			}
			for _, dup := range []int{3, 1000} {
				rounds, err := FeedbackLoop(c, ds.name, filepath.Join(c.Work, ds.name+".parquet"), label, dup, 5)
				if err != nil {
					return nil, err
				}
				rep.Feedback = append(rep.Feedback, rounds...)
			}
		}
	}
	rs, err := evalFlows(c)
	if err != nil {
		return nil, err
	}
	rep.Results = append(rep.Results, rs...)
	return rep, nil
}

// The flows dataset: benign captures and attack captures of nDPI's test
// suite, decoded by spot decode flow and put together; a flow is an attack
// when it came from an attack capture.
var (
	benignFlows = []string{"1kxun.pcap", "alexa-app.pcapng", "gnutella.pcap"}
	attackFlows = map[string]string{"synscan.pcap": "syn-scan", "WebattackRCE.pcap": "web-rce"}
)

func evalFlows(c *Config) ([]Result, error) {
	dir := filepath.Join(c.Corpus, "flows/ndpi")
	var all []record.Flow
	label := map[int64]string{}
	names := append(append([]string{}, benignFlows...), "synscan.pcap", "WebattackRCE.pcap")
	for _, name := range names {
		out := filepath.Join(c.Work, "flows-"+name+".parquet")
		if err := run(c, "decode", "flow", filepath.Join(dir, name), "-o", out); err != nil {
			return nil, err
		}
		recs, err := readAll[record.Flow](out)
		if err != nil {
			return nil, err
		}
		l := "benign"
		if a, ok := attackFlows[name]; ok {
			l = a
		}
		for _, r := range recs {
			if _, dup := label[r.EID]; dup {
				return nil, fmt.Errorf("flows: duplicate eid %d", r.EID)
			}
			label[r.EID] = l
		}
		all = append(all, recs...)
	}
	results, err := evalFlowSet(c, "flows", all, label)
	if err != nil {
		return nil, err
	}
	// flows-sparse: every attack flow would be two thirds of the set; keep
	// one attack flow in stride of each capture's, about 1% of the benign
	// flows each, so that attacks are rare, as Spot assumes.
	var benign int
	for _, r := range all {
		if label[r.EID] == "benign" {
			benign++
		}
	}
	var few []record.Flow
	seen := map[string]int{}
	total := map[string]int{}
	for _, r := range all {
		total[label[r.EID]]++
	}
	for _, r := range all {
		l := label[r.EID]
		if l != "benign" {
			stride := max(1, total[l]/max(1, benign/100))
			seen[l]++
			if (seen[l]-1)%stride != 0 {
				continue
			}
		}
		few = append(few, r)
	}
	rs, err := evalFlowSet(c, "flows-sparse", few, label)
	if err != nil {
		return nil, err
	}
	return append(results, rs...), nil
}

// evalFlowSet trains on a set of flows and scores it with every method,
// beside the baseline.
func evalFlowSet(c *Config, name string, all []record.Flow, label map[int64]string) ([]Result, error) {
	path := filepath.Join(c.Work, name+".parquet")
	if err := writeAll(path, record.Flow{}.Meta(), all); err != nil {
		return nil, err
	}
	model := filepath.Join(c.Work, name+".model")
	if err := run(c, "train", path, "--topics", fmt.Sprint(c.Topics), "--seed", fmt.Sprint(c.Seed), "-o", model); err != nil {
		return nil, err
	}
	var results []Result
	for _, method := range []string{"spot", "population", "peer", "hybrid"} {
		out := filepath.Join(c.Work, name+"."+method+".parquet")
		if err := run(c, "score", "-m", model, "--method", method, path, "-o", out); err != nil {
			return nil, err
		}
		scored, err := readAll[record.ScoredFlow](out)
		if err != nil {
			return nil, err
		}
		pts := make([]point, len(scored))
		for i, s := range scored {
			pts[i] = point{score: s.Score, eid: s.EID, label: label[s.EID]}
		}
		results = append(results, metrics(name, method, pts))
	}
	// baseline: bytes sent (small flows first), nothing of hosts or topics
	var pts []point
	for _, r := range all {
		if feature.FlowReject(&r) == "" {
			pts = append(pts, point{score: float64(r.IByt), eid: r.EID, label: label[r.EID]})
		}
	}
	return append(results, metrics(name, "baseline", pts)), nil
}

// sparse keeps the benign hosts and injects into each ⌊1%⌋ of its count of
// tunnel responses, taken in turn from the tunnelling clients' responses.
func sparse(all []labelled) []labelled {
	tunnelHost := map[string]bool{}
	for _, e := range all {
		if e.label != "benign" {
			tunnelHost[e.rec.IPDst] = true
		}
	}
	var benign, tunnels []labelled
	count := map[string]int{}
	var hosts []string
	for _, e := range all {
		switch {
		case tunnelHost[e.rec.IPDst]:
			if e.label != "benign" {
				tunnels = append(tunnels, e)
			}
		default:
			if count[e.rec.IPDst] == 0 {
				hosts = append(hosts, e.rec.IPDst)
			}
			count[e.rec.IPDst]++
			benign = append(benign, e)
		}
	}
	// interleave the tunnel kinds so each host gets a mix
	byKind := map[string][]labelled{}
	var kinds []string
	for _, t := range tunnels {
		if byKind[t.label] == nil {
			kinds = append(kinds, t.label)
		}
		byKind[t.label] = append(byKind[t.label], t)
	}
	sort.Strings(kinds)
	sort.Strings(hosts)
	out := append([]labelled{}, benign...)
	next := 0
	for _, h := range hosts {
		for i := 0; i < count[h]/100; i++ {
			kind := kinds[next%len(kinds)]
			src := byKind[kind][(next/len(kinds))%len(byKind[kind])]
			next++
			e := src
			e.rec.IPDst = h
			e.rec.EID = record.EID("eval-inject", int64(next), []byte(h+e.rec.QryName))
			out = append(out, e)
		}
	}
	return out
}

func evalDataset(c *Config, name string, evs []labelled) ([]Result, error) {
	path := filepath.Join(c.Work, name+".parquet")
	recs := make([]record.DNS, len(evs))
	label := map[int64]string{}
	for i, e := range evs {
		recs[i] = e.rec
		if _, dup := label[e.rec.EID]; dup {
			return nil, fmt.Errorf("%s: duplicate eid %d", name, e.rec.EID)
		}
		label[e.rec.EID] = e.label
	}
	if err := writeAll(path, record.DNS{}.Meta(), recs); err != nil {
		return nil, err
	}
	var results []Result
	// Spot's domain parsing, then the Public Suffix List's (--domain-parser
	// psl), under which www.bbc.co.uk is a name of bbc, not of co.
	for _, parser := range []string{"spot", "psl"} {
		model := filepath.Join(c.Work, name+"."+parser+".model")
		if err := run(c, "train", path, "--topics", fmt.Sprint(c.Topics), "--seed", fmt.Sprint(c.Seed), "--domain-parser", parser, "-o", model); err != nil {
			return nil, err
		}
		methods := []string{"spot", "population", "peer", "hybrid"}
		if parser == "psl" {
			methods = []string{"spot"}
		}
		for _, method := range methods {
			out := filepath.Join(c.Work, name+"."+parser+"."+method+".parquet")
			if err := run(c, "score", "-m", model, "--method", method, path, "-o", out); err != nil {
				return nil, err
			}
			scored, err := readAll[record.ScoredDNS](out)
			if err != nil {
				return nil, err
			}
			pts := make([]point, len(scored))
			for i, s := range scored {
				pts[i] = point{score: s.Score, eid: s.EID, label: label[s.EID]}
			}
			score := method
			if parser == "psl" {
				score += " (psl)"
			}
			results = append(results, metrics(name, score, pts))
		}
	}
	// How rare each event's word is in the whole set (PSL words): the
	// rarity that Spot's score estimates per host, without a model.
	words := filepath.Join(c.Work, name+".words.parquet")
	if err := run(c, "featurize", path, "--domain-parser", "psl", "-o", words); err != nil {
		return nil, err
	}
	feat, err := readAll[record.FeaturizedDNS](words)
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, f := range feat {
		count[f.Word]++
	}
	pts := make([]point, len(feat))
	for i, f := range feat {
		pts[i] = point{score: float64(count[f.Word]), eid: f.EID, label: label[f.EID]}
	}
	results = append(results, metrics(name, "word count", pts))
	pts = make([]point, len(evs))
	for i, e := range evs {
		n := e.rec.QryName
		pts[i] = point{score: -float64(len(n)) * feature.Entropy(n), eid: e.rec.EID, label: e.label}
	}
	results = append(results, metrics(name, "baseline", pts))
	return results, nil
}

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
		if err := run(c, "score", "-m", model, path, "-o", out); err != nil {
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

type point struct {
	score float64
	eid   int64
	label string
}

// metrics computes ROC AUC (attacks should score lower; ties count half),
// precision@100 and recall@k of pts.
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
		if p.label != "benign" {
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
			if pts[t].label != "benign" {
				rankSum += avg
			}
		}
		i = j
	}
	neg := len(pts) - r.K
	if r.K > 0 && neg > 0 {
		u := rankSum - float64(r.K)*float64(r.K+1)/2 // pairs where an attack ranks above (scores higher than) a benign event
		r.AUC = 1 - u/(float64(r.K)*float64(neg))
	}
	hits := 0
	for i := 0; i < len(pts) && i < 100; i++ {
		if pts[i].label != "benign" {
			hits++
		}
	}
	r.PrecAt100 = float64(hits) / math.Min(100, float64(len(pts)))
	typeHits := map[string]int{}
	hits = 0
	for i := 0; i < len(pts) && i < r.K; i++ {
		if pts[i].label != "benign" {
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

// Print writes the results as a table.
func Print(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%-11s %-10s %7s %5s %7s %8s %8s  %s\n", "dataset", "score", "events", "k", "ROC AUC", "prec@100", "recall@k", "recall@k by attack type")
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
		fmt.Fprintf(w, "%-11s %-10s %7d %5d %7.3f %8.2f %8.2f  %s\n", r.Dataset, r.Score, r.N, r.K, r.AUC, r.PrecAt100, r.RecallAtK, strings.Join(by, ", "))
	}
}
