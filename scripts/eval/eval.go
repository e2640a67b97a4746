// Command eval measures how well spot ranks the attacks in labelled data.
// For each dataset it runs spot train and spot score with every method (the
// fused ranking, Apache Spot's score and its variants, and the fused
// ranking with one detector at a time), joins the scored events to their
// labels by event id, and prints ROC AUC, precision@100, recall@k (k = the
// number of attack events) and recall@k per attack type, beside a baseline
// that knows nothing of hosts, topics or subjects; then where each
// attack's subject ranks among its detector's findings.
//
//	go run ./scripts/eval [-spot bin/spot] [-corpus DIR] [-data DIR] [-work DIR] [-seed N] [-only NAME]
//
// The fused ranking of flows decoded from a capture is given the DNS
// records of the same capture (score --lookups), and measured without them
// too ("fused, no lookups"); DNS is measured without and with the
// capture's flows (--contacts).
//
// Datasets (see datasets.go): the corpus's dnsperf capture as generated
// (dns-dense) and with tunnels spread thin (dns-sparse); nDPI's attack
// captures among its benign ones (flows, flows-sparse); every labelled
// capture in testdata/eval (made with real tools by scripts/eval/gen); and
// the held-out set, a labelled Zeek conn.log of a real infection
// (CTU-SME-11) among flows-lab's benign flows (zeekMixes).
//
// Labels join by event id: a scored event whose id has no label is an
// error, and each score must cover every event of its dataset but those
// Apache Spot's filters reject. Anything not labelled benign is an attack,
// but for events a labeller left undecided (gen.Unknown): scored, not
// measured.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/scripts/eval/gen"
)

const benign = "benign"

// Config says where things are.
type Config struct {
	Spot   string // the spot binary
	Corpus string // ../shared/corpus
	Data   string // testdata/eval: labelled captures made by scripts/eval/gen
	Work   string // work directory
	Seed   int
	Topics int
	Only   string // evaluate only the datasets whose name contains this
	Quick  bool   // only the fused ranking, Apache Spot's score and the baseline
	Log    io.Writer
}

// Report is the evaluation's outcome.
type Report struct {
	Results  []Result
	Ranks    []SubjectRank
	Beacons  []BeaconPairs          // flow datasets with beacons
	Feedback []Round                // the feedback loop on dns-sparse
	Kinds    map[string]record.Kind // each dataset's kind
}

// dataset is a set of labelled events of one kind.
type dataset struct {
	name     string
	kind     record.Kind
	path     string           // the events, Parquet
	labels   map[int64]string // event id -> label, for every event measured
	unknown  map[int64]bool   // events in the data that no label judges (gen.Unknown): scored, not measured
	rejected int              // events Apache Spot's filters reject (never scored)
	baseline []point          // the baseline's scores
	feedback bool             // play the feedback loop on it
	contacts string           // DNS: the flows of the same capture, for the fused ranking with --contacts
	lookups  string           // flows: the DNS records of the same capture, which the fused ranking is given (--lookups)
}

func (d *dataset) attacks() []string {
	seen := map[string]bool{}
	for _, l := range d.labels {
		if l != benign {
			seen[l] = true
		}
	}
	var out []string
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
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

// Evaluate runs the whole evaluation.
func Evaluate(c *Config) (*Report, error) {
	if err := os.MkdirAll(c.Work, 0o755); err != nil {
		return nil, err
	}
	sets, err := datasets(c)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kinds: map[string]record.Kind{}}
	for _, d := range sets {
		if c.Only != "" && !strings.Contains(d.name, c.Only) {
			continue
		}
		fmt.Fprintf(c.Log, "eval: %s: %d events, %d attacks (%s)\n", d.name, len(d.labels), countAttacks(d.labels), strings.Join(d.attacks(), ", "))
		rep.Kinds[d.name] = d.kind
		rs, ranks, beacons, err := evalDataset(c, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		rep.Results = append(rep.Results, rs...)
		rep.Ranks = append(rep.Ranks, ranks...)
		if beacons != nil {
			rep.Beacons = append(rep.Beacons, *beacons)
		}
		if d.feedback && !c.Quick {
			for _, dup := range []int{3, 1000} {
				rounds, err := FeedbackLoop(c, d.name, d.path, d.labels, dup, 5)
				if err != nil {
					return nil, err
				}
				rep.Feedback = append(rep.Feedback, rounds...)
			}
		}
	}
	return rep, nil
}

func countAttacks(labels map[int64]string) int {
	n := 0
	for _, l := range labels {
		if l != benign {
			n++
		}
	}
	return n
}

// detectorsOf are the detectors that judge events of a kind.
var detectorsOf = map[record.Kind][]string{
	record.KindDNS:   {"dns-tunnel", "beacon"},
	record.KindFlow:  {"beacon", "scan", "exfil", "long-conn", "brute-force"},
	record.KindProxy: {"beacon", "exfil", "rare-agent"},
}

// evalDataset trains on a dataset, scores it every way and measures each.
func evalDataset(c *Config, d *dataset) ([]Result, []SubjectRank, *BeaconPairs, error) {
	model := filepath.Join(c.Work, d.name+".model")
	if err := run(c, "train", d.path, "--topics", fmt.Sprint(c.Topics), "--seed", fmt.Sprint(c.Seed), "-o", model); err != nil {
		return nil, nil, nil, err
	}
	type variant struct {
		name string
		args []string
	}
	vs := []variant{{"fused", []string{"--method", "fused"}}}
	if d.contacts != "" {
		vs = append(vs, variant{"fused + contacts", []string{"--method", "fused", "--contacts", d.contacts}})
	}
	if d.lookups != "" {
		// flows of a capture are scored with its DNS records, as a sensor
		// that keeps both would; the row without them says what they add
		vs[0].args = append(vs[0].args, "--lookups", d.lookups)
		vs = append(vs, variant{"fused, no lookups", []string{"--method", "fused"}})
	}
	vs = append(vs, variant{"spot", []string{"--method", "spot"}})
	if !c.Quick {
		for _, m := range []string{"population", "peer", "hybrid"} {
			vs = append(vs, variant{m, []string{"--method", m}})
		}
		for _, det := range detectorsOf[d.kind] {
			vs = append(vs, variant{"fused: " + det + " alone", []string{"--method", "fused", "--detectors", det}})
		}
	}
	var results []Result
	var ranks []SubjectRank
	var beacons *BeaconPairs
	for i, v := range vs {
		out := filepath.Join(c.Work, fmt.Sprintf("%s.scored-%d.parquet", d.name, i))
		args := append([]string{"score", "-m", model, d.path, "-o", out}, v.args...)
		findings := ""
		if v.name == "fused" {
			findings = filepath.Join(c.Work, d.name+".findings.parquet")
			args = append(args, "--findings", findings)
		}
		if err := run(c, args...); err != nil {
			return nil, nil, nil, err
		}
		pts, subjects, err := scored(d, out)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", v.name, err)
		}
		results = append(results, metrics(d.name, v.name, pts))
		if findings != "" {
			fs, err := readAll[record.Finding](findings)
			if err != nil {
				return nil, nil, nil, err
			}
			ranks = subjectRanks(d, subjects, fs)
			beacons = beaconPairs(d.name, subjects, fs)
		}
	}
	results = append(results, metrics(d.name, "baseline", slices.Clone(d.baseline)))
	return results, ranks, beacons, nil
}

// explained is what a scored event said of its subject.
type explained struct {
	detector, subject, label string
	pair                     string // a flow's (source, destination, port, protocol), as detect writes it
}

// scored reads a score's output and joins it to the labels by event id.
func scored(d *dataset, path string) ([]point, []explained, error) {
	var pts []point
	var subjects []explained
	skipped := 0
	add := func(eid int64, score float64, x *record.Explanation) error {
		if d.unknown[eid] {
			skipped++
			subjects = append(subjects, explained{detector: x.Detector, subject: x.Subject, label: gen.Unknown})
			return nil
		}
		l, ok := d.labels[eid]
		if !ok {
			return fmt.Errorf("scored event %d has no label", eid)
		}
		pts = append(pts, point{score: score, eid: eid, label: l})
		subjects = append(subjects, explained{detector: x.Detector, subject: x.Subject, label: l})
		return nil
	}
	var err error
	switch d.kind {
	case record.KindDNS:
		var rs []record.ScoredDNS
		if rs, err = readAll[record.ScoredDNS](path); err == nil {
			for i := range rs {
				if err = add(rs[i].EID, rs[i].Score, &rs[i].Explanation); err != nil {
					break
				}
			}
		}
	case record.KindFlow:
		var rs []record.ScoredFlow
		if rs, err = readAll[record.ScoredFlow](path); err == nil {
			for i := range rs {
				if err = add(rs[i].EID, rs[i].Score, &rs[i].Explanation); err != nil {
					break
				}
				r := &rs[i]
				subjects[len(subjects)-1].pair = fmt.Sprintf("%s > %s:%d/%s", r.SIP, r.DIP, r.DPort, r.Proto)
			}
		}
	case record.KindProxy:
		var rs []record.ScoredProxy
		if rs, err = readAll[record.ScoredProxy](path); err == nil {
			for i := range rs {
				if err = add(rs[i].EID, rs[i].Score, &rs[i].Explanation); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if want := len(d.labels) + len(d.unknown) - d.rejected; len(pts)+skipped != want {
		return nil, nil, fmt.Errorf("%d events scored, want %d (%d events, %d rejected by Apache Spot's filters)", len(pts)+skipped, want, len(d.labels)+len(d.unknown), d.rejected)
	}
	return pts, subjects, nil
}

// subjectRanks finds, for each attack, its subject: of the subjects whose
// events are mostly the attack's, the one that explains most of its events
// (a resolver's pair that also carries the host's benign lookups is not the
// attack's subject; when no subject is mostly the attack's, the one that
// explains most), and where that subject ranks among its detector's
// findings: 1 + the number scoring higher by more than 0.005 (a scan of 18
// hosts makes 18 subjects scored alike to the third decimal: they share a
// rank).
func subjectRanks(d *dataset, ex []explained, fs []record.Finding) []SubjectRank {
	var out []SubjectRank
	all := map[[2]string]int{}
	for _, e := range ex {
		if e.detector != "" {
			all[[2]string{e.detector, e.subject}]++
		}
	}
	for _, a := range d.attacks() {
		count := map[[2]string]int{}
		total := 0
		for _, e := range ex {
			if e.label != a {
				continue
			}
			total++
			if e.detector != "" && e.detector != "host" { // a host verdict is no finding: the finding it comes from is
				count[[2]string{e.detector, e.subject}]++
			}
		}
		var best [2]string
		better := func(k [2]string, n int) bool {
			own, bestOwn := 2*n > all[k], 2*count[best] > all[best]
			if own != bestOwn {
				return own
			}
			return n > count[best] || (n == count[best] && (k[0] < best[0] || k[0] == best[0] && k[1] < best[1]))
		}
		for k, n := range count {
			if count[best] == 0 || better(k, n) {
				best = k
			}
		}
		r := SubjectRank{Dataset: d.name, Attack: a}
		if count[best] > 0 {
			r.Detector, r.Subject, r.Share = best[0], best[1], float64(count[best])/float64(total)
			var score float64
			for _, f := range fs {
				if f.Detector == best[0] && f.Subject == best[1] {
					score = f.DetectorScore
				}
			}
			for _, f := range fs {
				if f.Detector != best[0] {
					continue
				}
				r.Of++
				if f.DetectorScore > score+0.005 {
					r.Rank++
				}
			}
			r.Rank++
		}
		out = append(out, r)
	}
	return out
}

// beaconPairs measures the beacon detector on a flow dataset whose attacks
// include beacons (labels beacon-*): the floor is recall 0.9 of the
// beaconing pairs with 12 events or more, with at most one benign pair per
// 100 pairs ranked above the last of them.
func beaconPairs(name string, ex []explained, fs []record.Finding) *BeaconPairs {
	type tally struct{ beacon, all int }
	pairs := map[string]*tally{}
	for _, e := range ex {
		if e.pair == "" {
			continue
		}
		t := pairs[e.pair]
		if t == nil {
			t = &tally{}
			pairs[e.pair] = t
		}
		t.all++
		if strings.HasPrefix(e.label, "beacon") {
			t.beacon++
		}
	}
	b := &BeaconPairs{Dataset: name, Pairs: len(pairs)}
	for _, t := range pairs {
		if t.beacon >= 12 && 2*t.beacon > t.all {
			b.Beaconing++
		}
	}
	if b.Beaconing == 0 {
		return nil
	}
	benign := 0
	for _, f := range fs { // strongest first
		t := pairs[f.Subject]
		if f.Detector != "beacon" || t == nil {
			continue
		}
		if t.beacon >= 12 && 2*t.beacon > t.all {
			b.Found++
			b.BenignAbove = benign
		} else if t.beacon == 0 {
			benign++
		}
	}
	return b
}
