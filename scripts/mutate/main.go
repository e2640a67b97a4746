// Command mutate runs mutation testing over the packages that decide what
// spot finds (make mutate): one operator or boundary changed at a time
// (+ -, < <=, == !=, ++ --, -x), then the package's tests; a mutant the
// tests do not notice lives.
//
// go-gremlins/gremlins (unleash --dry-run) lists the mutants, with its
// default mutators. This command tests every one of them itself, because
// gremlins never tests a mutant outside the blocks of `go test -cover`
// (switch case expressions, constants: its NOT COVERED), though tests do
// reach most of them. Each mutant is tested by `go test -overlay` (the
// source tree is never written, so an interrupted run leaves nothing
// behind) with the package's own tests (and Related ones: the nfdump
// oracles for NetFlow), -short (corpus-wide oracles skipped), -vet=off,
// -failfast, no DWARF, a timeout of -timeout-coefficient times the
// unmutated run (of the schema binary, for its mutants), and
// SPOT_TSHARK_CACHE (the DNS oracle reads tshark's output for an unchanged
// capture from a cache). Builds go to a
// private copy of the build cache (hard links), deleted at the end, so the
// mutants' objects do not pile up in the shared one.
//
// A mutant is KILLED (a test failed), TIMED OUT (twice: the second time
// with four times the time, as a loaded machine can slow a run; counted as
// killed and tested again by a rerun with -results),
// LIVED (every test passed) or NOT VIABLE (it does not compile, e.g. "-" on
// strings; left out of the ratio). gremlins lists a binary minus twice
// (ARITHMETIC_BASE and INVERT_NEGATIVES both make it "+"): the same program
// is tested and counted once. Each result is printed as it comes; the
// survivors (with their source line) and a table per package follow. It
// exits 1 when a package's lived mutants exceed -max percent of its viable
// mutants.
//
// With -results DIR each package's results are kept in DIR; a later run with
// the same DIR takes over the killed and not-viable results of unchanged
// source files and tests only the others (after adding tests for the
// survivors). Delete DIR for a full run.
//
//	go run ./scripts/mutate [-max 10] [-results DIR] [package dir...]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Packages are the defaults: word rules, top-N and thresholds, scores, the
// DNS and NetFlow decoders, and the detectors.
var Packages = []string{
	"internal/feature",
	"internal/filter",
	"internal/score",
	"internal/decode/dns",
	"internal/decode/netflow",
	"internal/detect",
}

// Related are other packages' tests that check a package, by package: the
// nfdump oracles of NetFlow decoding live in decode/flow (-run selects them).
var Related = map[string][]suite{
	"internal/decode/netflow": {{"internal/decode/flow", "Nfdump|IPFIX|Collector$"}},
}

// A suite is a package's tests, those of -run when set.
type suite struct{ pkg, run string }

func suites(pkg string) []suite { return append([]suite{{pkg, ""}}, Related[pkg]...) }

// gremlinsVersion is the go-gremlins/gremlins release used.
const gremlinsVersion = "v0.6.0"

// mutations are gremlins' token mutations for its default mutators
// (internal/engine/mappings.go of gremlinsVersion).
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE": {
		token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL,
		token.REM: token.MUL, token.SUB: token.ADD,
	},
	"CONDITIONALS_BOUNDARY": {
		token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ,
	},
	"CONDITIONALS_NEGATION": {
		token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ,
		token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL,
	},
	"INCREMENT_DECREMENT": {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_NEGATIVES":    {token.SUB: token.ADD},
}

// Statuses of a tested mutant.
const (
	killed    = "KILLED"
	timedOut  = "TIMED OUT"
	lived     = "LIVED"
	notViable = "NOT VIABLE"
)

// A mutant is one changed token in one file.
type mutant struct {
	rel        string // file, relative to the package directory
	line, col  int
	types      []string // gremlins' mutator types that make this program
	notCovered bool     // gremlins marked it NOT COVERED
	offset     int
	old, new   token.Token
	src        []byte // the mutated file
	key        string // hash of the unmutated file, offset and new token
	text       string // the unmutated source line, trimmed

	status  string
	seconds float64
	reused  bool
	detail  string // first line of the compiler's error, for NOT VIABLE
}

func (m *mutant) String() string {
	return fmt.Sprintf("%s:%d:%d %s (%s → %s)", m.rel, m.line, m.col, strings.Join(m.types, "+"), m.old, m.new)
}

// gremlinsReport is the part of gremlins' JSON report read here.
type gremlinsReport struct {
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

type tally struct {
	pkg                                  string
	killed, timedOut, lived, nv, reused  int
	notCovered, notCoveredLived, pending int
}

func (t tally) viable() int { return t.killed + t.timedOut + t.lived }

func (t tally) percent() float64 {
	if t.viable() == 0 {
		return 0
	}
	return 100 * float64(t.lived) / float64(t.viable())
}

func main() {
	max := flag.Float64("max", 10, "fail when a package's lived mutants exceed this percent of its viable mutants")
	coef := flag.Float64("timeout-coefficient", 5, "a mutant's tests may take this many times the unmutated run (at least a minute)")
	gremlins := flag.String("gremlins", "", "the gremlins binary (default: bin/tools/gremlins, installed when missing)")
	results := flag.String("results", "", "keep each package's results in this directory and reuse its killed ones")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = Packages
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
	work, err := os.MkdirTemp("", "spot-mutate-")
	check(err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &runner{root: root, work: work, coef: *coef, ctx: ctx}
	r.env = append(os.Environ(), "SPOT_TSHARK_CACHE="+filepath.Join(os.TempDir(), "spot-tshark-cache"),
		"GOCACHE="+privateCache(filepath.Join(work, "gocache")))
	check(os.MkdirAll(filepath.Join(os.TempDir(), "spot-tshark-cache"), 0o755))
	if *results != "" {
		check(os.MkdirAll(*results, 0o755))
	}

	var all []tally
	failed := false
	for _, pkg := range pkgs {
		if ctx.Err() != nil {
			break
		}
		pkg = filepath.Clean(pkg)
		fmt.Printf("== %s\n", pkg)
		t, err := r.run(pkg, *gremlins, *results)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mutate: %s: %v\n", pkg, err)
			failed = true
		}
		all = append(all, t)
		if t.percent() > *max || t.pending > 0 {
			failed = true
		}
	}
	os.RemoveAll(work)

	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tviable\tkilled\ttimed out\tlived\tlived %\tnot viable\tnot tested\tgremlins' NOT COVERED (lived)\treused\t")
	for _, t := range all {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f%%\t%d\t%d\t%d (%d)\t%d\t\n", t.pkg, t.viable(), t.killed, t.timedOut,
			t.lived, t.percent(), t.nv, t.pending, t.notCovered, t.notCoveredLived, t.reused)
	}
	tw.Flush()
	if failed {
		fmt.Printf("mutate: lived above %.0f%%, mutants not tested, or a run failed\n", *max)
		os.Exit(1)
	}
}

type runner struct {
	root, work string
	env        []string
	coef       float64
	ctx        context.Context
	retrying   bool // a timed-out mutant's second run
}

// run lists a package's mutants with gremlins and tests each.
func (r *runner) run(pkg, gremlins, results string) (tally, error) {
	t := tally{pkg: pkg}
	dir := filepath.Join(r.root, pkg)
	ms, err := r.list(dir, gremlins)
	if err != nil {
		return t, err
	}
	var resultsFile string
	earlier := map[string]string{}
	if results != "" {
		resultsFile = filepath.Join(results, strings.ReplaceAll(pkg, "/", "_")+".tsv")
		earlier = readResults(resultsFile)
	}

	// the unmutated run: it must pass, and its time sets the timeout
	start := time.Now()
	if out, status := r.test(pkg, "", time.Hour); status != lived {
		return t, fmt.Errorf("the unmutated tests do not pass (%s):\n%s", status, out)
	}
	base := time.Since(start)
	timeout := max(time.Duration(r.coef*float64(base)), time.Minute)
	fmt.Printf("%d mutants; unmutated tests %.1fs, timeout %s\n", len(ms), base.Seconds(), timeout.Round(time.Second))

	sch := r.buildSchema(pkg, dir, ms)
	schemaTimeout := timeout
	if sch != nil {
		start := time.Now()
		if out, status := r.testSchema(sch, 0, timeout); status != lived {
			fmt.Printf("schema: its tests fail with no mutant on (%s); each mutant is compiled on its own:\n%s\n", status, out)
			sch = nil
		}
		// no build in a schema's runs: their timeout is the coefficient
		// times the schema's own unmutated run
		schemaTimeout = max(time.Duration(r.coef*float64(time.Since(start))), 20*time.Second)
		fmt.Printf("schema: unmutated tests %.1fs, timeout %s\n", time.Since(start).Seconds(), schemaTimeout.Round(time.Second))
	}

	var out *os.File
	if resultsFile != "" {
		// appended: an interrupted run keeps what it found; the last line of a
		// mutant wins
		out, err = os.OpenFile(resultsFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return t, err
		}
		defer out.Close()
	}
	for i, m := range ms {
		if s, ok := earlier[m.key]; ok && (s == killed || s == notViable) {
			m.status, m.reused = s, true
		} else if r.ctx.Err() != nil {
			t.pending++
			continue
		} else {
			start := time.Now()
			var output string
			if id, ok := sch.id(m); ok {
				output, m.status = r.testSchema(sch, id, schemaTimeout)
			} else {
				overlay, err := r.overlay(dir, m, i)
				if err != nil {
					return t, err
				}
				output, m.status = r.test(pkg, overlay, timeout)
			}
			m.seconds = time.Since(start).Seconds()
			if r.ctx.Err() != nil {
				t.pending++
				continue
			}
			if m.status == notViable {
				m.detail = firstError(output)
			}
		}
		switch m.status {
		case killed:
			t.killed++
		case timedOut:
			t.timedOut++
		case lived:
			t.lived++
		case notViable:
			t.nv++
		}
		if m.reused {
			t.reused++
		}
		if m.notCovered {
			t.notCovered++
			if m.status == lived {
				t.notCoveredLived++
			}
		}
		from := fmt.Sprintf("%.1fs", m.seconds)
		if m.reused {
			from = "earlier run"
		}
		fmt.Printf("[%d/%d] %-10s %s  %s  (lived %d of %d)\n", i+1, len(ms), m.status, m, from, t.lived, t.viable())
		if m.detail != "" {
			fmt.Printf("        %s\n", m.detail)
		}
		if out != nil {
			fmt.Fprintf(out, "%s\t%s\t%s\n", m.key, m.status, m)
		}
	}
	for _, m := range ms {
		if m.status == lived {
			fmt.Printf("  lived: %s: %s\n", m, m.text)
		}
	}
	return t, nil
}

// list runs gremlins' dry run in dir and returns its mutants, one per
// distinct mutated program, in file and position order.
func (r *runner) list(dir, gremlins string) ([]*mutant, error) {
	report := filepath.Join(r.work, "gremlins.json")
	cmd := exec.CommandContext(r.ctx, gremlins, "unleash", "--dry-run", "--silent", "-o", report)
	cmd.Dir = dir
	// gremlins measures coverage with go test; its default timeout of 10
	// minutes is too short on a loaded machine
	cmd.Env = append(r.env, "GOFLAGS=-short -vet=off -timeout=60m "+os.Getenv("GOFLAGS"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gremlins: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	var rep gremlinsReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("gremlins' report: %v", err)
	}
	byKey := map[string]*mutant{}
	var ms []*mutant
	for _, f := range rep.Files {
		src, err := os.ReadFile(filepath.Join(dir, f.Filename))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(src)
		for _, g := range f.Mutations {
			m, err := mutate(src, g.Line, g.Column, g.Type)
			if err != nil {
				return nil, fmt.Errorf("%s:%d:%d %s: %v", f.Filename, g.Line, g.Column, g.Type, err)
			}
			m.rel = f.Filename
			m.key = fmt.Sprintf("%s:%d:%s", hex.EncodeToString(sum[:8]), m.offset, m.new)
			if prev, ok := byKey[m.key]; ok {
				prev.types = append(prev.types, g.Type)
				prev.notCovered = prev.notCovered || g.Status == "NOT COVERED"
				continue
			}
			m.notCovered = g.Status == "NOT COVERED"
			byKey[m.key] = m
			ms = append(ms, m)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].rel != ms[j].rel {
			return ms[i].rel < ms[j].rel
		}
		if ms[i].offset != ms[j].offset {
			return ms[i].offset < ms[j].offset
		}
		return ms[i].new < ms[j].new
	})
	return ms, nil
}

// mutate applies mutator typ to the token at line:col of src.
func mutate(src []byte, line, col int, typ string) (*mutant, error) {
	table, ok := mutations[typ]
	if !ok {
		return nil, errors.New("unknown mutator type")
	}
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return nil, errors.New("no token there")
		}
		p := fset.Position(pos)
		if p.Line != line || p.Column != col {
			continue
		}
		to, ok := table[tok]
		if !ok {
			return nil, fmt.Errorf("%s is not mutated by this type", tok)
		}
		off := p.Offset
		out := make([]byte, 0, len(src)+1)
		out = append(out, src[:off]...)
		out = append(out, to.String()...)
		out = append(out, src[off+len(tok.String()):]...)
		start := bytes.LastIndexByte(src[:off], '\n') + 1
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		text := strings.TrimSpace(string(src[start : off+end]))
		return &mutant{line: line, col: col, types: []string{typ}, offset: off, old: tok, new: to, src: out, text: text}, nil
	}
}

// overlay writes the mutated file and the overlay naming it for go test.
func (r *runner) overlay(dir string, m *mutant, i int) (string, error) {
	f := filepath.Join(r.work, fmt.Sprintf("mutant%d.go", i))
	if err := os.WriteFile(f, m.src, 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, m.rel): f}})
	if err != nil {
		return "", err
	}
	o := filepath.Join(r.work, "overlay.json")
	return o, os.WriteFile(o, b, 0o644)
}

// test runs the package's tests and related ones (with the overlay, if
// any) and says what became of them: lived when all pass.
func (r *runner) test(pkg, overlay string, timeout time.Duration) (string, string) {
	var all strings.Builder
	for _, s := range suites(pkg) {
		args := []string{"test", "-count=1", "-short", "-vet=off", "-failfast", "-ldflags=-w",
			"-timeout", timeout.String()}
		if overlay != "" {
			args = append(args, "-overlay", overlay)
		}
		if s.run != "" {
			args = append(args, "-run", s.run)
		}
		out, status := r.run1(exec.Command("go", append(args, "./"+s.pkg)...), r.root, nil, timeout+5*time.Minute)
		if status == timedOut && !r.retrying {
			// a loaded machine, or a loop? once more with four times the time
			r.retrying = true
			defer func() { r.retrying = false }()
			return r.test(pkg, overlay, 4*timeout)
		}
		all.WriteString(out)
		if status != lived {
			return all.String(), status
		}
	}
	return all.String(), lived
}

// run1 runs a test command in dir within limit (killing its process
// group past it) and says what became of its tests.
func (r *runner) run1(cmd *exec.Cmd, dir string, env []string, limit time.Duration) (string, string) {
	ctx, cancel := context.WithTimeout(r.ctx, limit)
	defer cancel()
	cmd.Dir = dir
	cmd.Env = append(r.env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return err.Error(), notViable
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	out := buf.String()
	switch {
	case err == nil:
		return out, lived
	case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
		return out, notViable
	case ctx.Err() != nil || strings.Contains(out, "panic: test timed out"):
		return out, timedOut
	}
	return out, killed
}

// firstError is the first compiler error in go test's output.
func firstError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "FAIL") || strings.TrimSpace(l) == "" {
			continue
		}
		return strings.TrimSpace(l)
	}
	return ""
}

// readResults reads an earlier run's results: status by mutant key.
func readResults(path string) map[string]string {
	res := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return res
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, rest, ok := strings.Cut(s.Text(), "\t"); ok { // the last line of a key wins
			status, _, _ := strings.Cut(rest, "\t")
			res[k] = status
		}
	}
	return res
}

// privateCache makes dir a copy of the go build cache made of hard links
// (no space taken), so that what the mutants add is deleted with dir. If
// links cannot be made, dir starts empty.
func privateCache(dir string) string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	shared := strings.TrimSpace(string(out))
	if err != nil || shared == "" || shared == "off" {
		return dir
	}
	err = filepath.WalkDir(shared, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(shared, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return os.Link(p, filepath.Join(dir, rel))
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutate: a fresh build cache (%v)\n", err)
		os.RemoveAll(dir)
		check(os.MkdirAll(dir, 0o755))
	}
	return dir
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}
