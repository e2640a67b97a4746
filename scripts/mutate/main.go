// Command mutate runs mutation testing over the packages that decide what
// spot finds (make mutate): go-gremlins/gremlins changes one operator or
// boundary at a time (+ -, < <=, == !=, ++ --, -x) in a package's code and
// runs that package's tests; a mutant the tests do not notice survives.
//
// Each package runs on its own, one mutant at a time (the machine is
// shared), with GOFLAGS=-short (corpus-wide oracles skipped) and
// SPOT_TSHARK_CACHE set, so that oracle tests read tshark's output for an
// unchanged capture from a cache instead of running tshark per mutant. It
// prints every survivor, then a table. Survivors are the mutants that
// lived and the mutants no test of the package reaches (gremlins' NOT
// COVERED): both would go unnoticed. It exits 1 when a package's survivors
// exceed -max percent of its mutants.
//
//	go run ./scripts/mutate [-max 10] [-workers 1] [package dir...]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// Packages are the defaults: word rules, top-N and thresholds, scores, the
// DNS and NetFlow decoders, and the detectors when they are there.
var Packages = []string{
	"internal/feature",
	"internal/filter",
	"internal/score",
	"internal/decode/dns",
	"internal/decode/netflow",
	"internal/detect",
}

// gremlinsVersion is the go-gremlins/gremlins release used.
const gremlinsVersion = "v0.6.0"

type result struct {
	Files []struct {
		Filename  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type counts struct {
	pkg                                            string
	total, killed, lived, notCovered, timedOut, nv int
}

func (c counts) survivors() int { return c.lived + c.notCovered }

func (c counts) percent() float64 {
	n := c.total - c.nv
	if n == 0 {
		return 0
	}
	return 100 * float64(c.survivors()) / float64(n)
}

func main() {
	max := flag.Float64("max", 10, "fail when a package's survivors exceed this percent of its mutants")
	workers := flag.Int("workers", 1, "mutants tested at once")
	coef := flag.Int("timeout-coefficient", 5, "a mutant's tests may take this many times the unmutated run")
	gremlins := flag.String("gremlins", "", "the gremlins binary (default: bin/tools/gremlins, installed when missing)")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		for _, p := range Packages {
			if _, err := os.Stat(p); err == nil {
				pkgs = append(pkgs, p)
			}
		}
	}
	root, err := os.Getwd()
	check(err)
	if *gremlins == "" {
		*gremlins = filepath.Join(root, "bin", "tools", "gremlins")
		if _, err := os.Stat(*gremlins); err != nil {
			install := exec.Command("go", "install", "github.com/go-gremlins/gremlins/cmd/gremlins@"+gremlinsVersion)
			install.Env = append(os.Environ(), "GOBIN="+filepath.Dir(*gremlins))
			install.Stdout, install.Stderr = os.Stderr, os.Stderr
			check(install.Run())
		}
	}
	cache := filepath.Join(os.TempDir(), "spot-tshark-cache")
	check(os.MkdirAll(cache, 0o755))
	out, err := os.MkdirTemp("", "spot-mutate-")
	check(err)
	defer os.RemoveAll(out)

	var all []counts
	failed := false
	for _, pkg := range pkgs {
		fmt.Printf("== %s\n", pkg)
		report := filepath.Join(out, strings.ReplaceAll(pkg, "/", "_")+".json")
		cmd := exec.Command(*gremlins, "unleash", "--workers", fmt.Sprint(*workers),
			"--timeout-coefficient", fmt.Sprint(*coef), "-S", "lc", "-o", report)
		cmd.Dir = filepath.Join(root, pkg)
		// -timeout: gremlins runs the unmutated tests (to measure coverage) with go
		// test's default of 10 minutes, too short on a loaded machine
		cmd.Env = append(os.Environ(), "GOFLAGS=-short -timeout=60m", "SPOT_TSHARK_CACHE="+cache)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "mutate: %s: gremlins: %v\n", pkg, err)
			failed = true
			continue
		}
		c, survivors := summarize(pkg, report)
		for _, s := range survivors {
			fmt.Println("  survived:", s)
		}
		all = append(all, c)
		if c.percent() > *max {
			failed = true
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tmutants\tkilled\ttimed out\tlived\tnot covered\tsurvivors\t")
	for _, c := range all {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t\n", c.pkg, c.total-c.nv, c.killed, c.timedOut, c.lived, c.notCovered, c.percent())
	}
	tw.Flush()
	if failed {
		fmt.Printf("mutate: survivors above %.0f%% (or a run failed)\n", *max)
		os.Exit(1)
	}
}

// summarize reads a gremlins report: the counts and each survivor as
// "file:line:col TYPE STATUS".
func summarize(pkg, path string) (counts, []string) {
	b, err := os.ReadFile(path)
	check(err)
	var r result
	check(json.Unmarshal(b, &r))
	c := counts{pkg: pkg}
	var survivors []string
	for _, f := range r.Files {
		for _, m := range f.Mutations {
			c.total++
			switch m.Status {
			case "KILLED":
				c.killed++
			case "TIMED OUT":
				c.timedOut++
			case "NOT VIABLE", "SKIPPED":
				c.nv++
			case "LIVED":
				c.lived++
			case "NOT COVERED":
				c.notCovered++
			}
			if m.Status == "LIVED" || m.Status == "NOT COVERED" {
				survivors = append(survivors, fmt.Sprintf("%s:%d:%d %s %s", f.Filename, m.Line, m.Column, m.Type, m.Status))
			}
		}
	}
	sort.Strings(survivors)
	return c, survivors
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}
