// Command bench times whole processes: spot and, where one exists, a peer
// tool doing the same job on the same input, run alternately in the same
// run, and prints a table of medians, rates, peak RSS and ratios.
//
//	go run ./scripts/bench [-run REGEXP] [-n RUNS] [-dir WORKDIR] [-small] [-base BIN [-control]] [-peers=false] [-csv FILE]
//
// -base runs each case's spot command also with another spot binary (a
// build of main, say), alternately with this one, and prints its row with
// the ratio of the medians and, in brackets, the range of the ratios of
// the runs taken side by side, then the ratio of the median CPU times
// (user+system; steadier than wall time on a loaded machine): a change's
// before and after. -control adds a row "spot (A/A)": this binary timed a
// second time in the same rotation, whose ratios show what noise alone
// gives on this machine, so a before/after ratio can be read against it.
// The commands of a case run in an order rotated at each run, so none is
// always first after another case's. -peers=false leaves the peers out
// (before and after only). -csv also writes every run's times, one line a
// run (case, tool, run, wall and CPU seconds), for statistics of one's own.
//
// Each area of spot adds its cases in a file of its own (cases_<area>.go)
// and lists its function in areas below.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Case is one benchmark: spot's command and, optionally, a peer's.
type Case struct {
	Name     string        // e.g. "flow NDJSON -> Parquet (10M)"
	Items    float64       // records or packets one run handles, for rates
	Unit     string        // "records", "packets", ...
	Bytes    int64         // input bytes one run reads, for MB/s (0: Input's size)
	Input    string        // input file one run reads, for MB/s ("": not shown)
	Setup    func() error  // builds the inputs once (skip work already done)
	Ours     string        // shell command for spot ($SPOT is the binary)
	Peer     string        // shell command for the peer ("" = none)
	PeerName string        // e.g. "tshark", "duckdb"
	Note     func() string // after the runs, lines to print under the rows (e.g. an output's size)
}

// Env is what case builders get.
type Env struct {
	Dir    string // work directory for generated inputs (kept between runs)
	Spot   string // path of the spot binary
	Corpus string // $SPOT_CORPUS
	Small  bool   // -small: 1/10 sizes, for a quick look
}

// areas lists the case builders, one per area of spot.
var areas = []func(*Env) []Case{
	ioCases,
	engineCases,
	dnsCases,
	tunnelCases,
	ldaCases,
	proxyCases,
	flowCases,
	reportCases,
	scaleCases,
	logCases,
}

type result struct {
	wall   []time.Duration
	cpu    []time.Duration // user+system, the command and its children
	maxRSS int64           // KiB
	err    error
}

func main() {
	runRe := flag.String("run", "", "only cases whose name matches `REGEXP`")
	runs := flag.Int("n", 3, "runs of each command (the median is shown)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "spot-bench"), "work `DIR` for generated inputs")
	small := flag.Bool("small", false, "1/10 of the input sizes")
	base := flag.String("base", "", "also time spot's commands with the spot binary `BIN`, side by side")
	control := flag.Bool("control", false, "with -base, also time this binary a second time: an A/A row for the noise")
	peers := flag.Bool("peers", true, "also time the peers")
	csvPath := flag.String("csv", "", "also write each run's wall and CPU seconds to `FILE`")
	flag.Parse()

	spot, err := filepath.Abs("bin/spot")
	check(err)
	corpus := os.Getenv("SPOT_CORPUS")
	if corpus == "" {
		corpus, _ = filepath.Abs("../shared/corpus")
	}
	check(os.MkdirAll(*dir, 0o755))
	env := &Env{Dir: *dir, Spot: spot, Corpus: corpus, Small: *small}
	re := regexp.MustCompile(*runRe)
	var raw *csv.Writer
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		check(err)
		defer f.Close()
		raw = csv.NewWriter(f)
		defer raw.Flush()
		check(raw.Write([]string{"case", "tool", "run", "wall_s", "cpu_s"}))
	}

	// Rows are printed as each case ends, so columns have fixed widths.
	tw := os.Stdout
	line(tw, "case", "tool", "median s", "rate/s", "MB/s", "peak RSS MB", "spot speed-up")
	for _, area := range areas {
		for _, c := range area(env) {
			if !re.MatchString(c.Name) {
				continue
			}
			if c.Setup != nil {
				if err := c.Setup(); err != nil {
					fmt.Fprintf(tw, "%-48s (setup failed: %v)\n", c.Name, err)
					continue
				}
			}
			ours, peer, before, again := &result{}, &result{}, &result{}, &result{}
			type slot struct {
				tool, spot, command string
				r                   *result
			}
			slots := []slot{{"spot", env.Spot, c.Ours, ours}}
			if *base != "" {
				slots = append(slots, slot{"spot -base", *base, c.Ours, before})
				if *control {
					slots = append(slots, slot{"spot (A/A)", env.Spot, c.Ours, again})
				}
			}
			if c.Peer != "" && *peers {
				slots = append(slots, slot{c.PeerName, env.Spot, c.Peer, peer})
			}
			for i := range *runs { // alternate, so all see the same machine load
				for j := range slots {
					s := slots[(i+j)%len(slots)]
					run(env, s.spot, s.command, s.r)
					if raw != nil && s.r.err == nil {
						k := len(s.r.wall) - 1
						check(raw.Write([]string{c.Name, s.tool, fmt.Sprint(i + 1),
							fmt.Sprintf("%.4f", s.r.wall[k].Seconds()), fmt.Sprintf("%.4f", s.r.cpu[k].Seconds())}))
					}
				}
			}
			if raw != nil {
				raw.Flush()
			}
			row(tw, c, "spot", ours, nil)
			if *base != "" {
				row(tw, c, "spot -base", before, ours)
				if *control {
					row(tw, c, "spot (A/A)", again, ours)
				}
			}
			if c.Peer != "" && *peers {
				row(tw, c, c.PeerName, peer, ours)
			}
			if c.Note != nil && ours.err == nil {
				for _, line := range strings.Split(strings.TrimRight(c.Note(), "\n"), "\n") {
					fmt.Fprintf(tw, "%-48s %s\n", "", line)
				}
			}
		}
	}
}

func line(w io.Writer, cols ...string) {
	fmt.Fprintf(w, "%-48s %-16s %8s %18s %6s %11s %13s\n", cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
}

func run(env *Env, spot, command string, r *result) {
	if r.err != nil {
		return
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-c", command)
	cmd.Env = append(os.Environ(), "SPOT="+spot, "BENCH_DIR="+env.Dir)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		r.err = fmt.Errorf("%s: %v", command, err)
		return
	}
	r.wall = append(r.wall, time.Since(start))
	r.cpu = append(r.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = max(r.maxRSS, ru.Maxrss)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func row(tw io.Writer, c Case, tool string, r, ours *result) {
	if r.err != nil {
		fmt.Fprintf(tw, "%-48s %-16s failed: %v\n", c.Name, tool, r.err)
		return
	}
	m := median(r.wall).Seconds()
	mbs := ""
	if st, err := os.Stat(c.Input); err == nil && c.Input != "" && c.Bytes == 0 {
		c.Bytes = st.Size()
	}
	if c.Bytes > 0 {
		mbs = fmt.Sprintf("%.0f", float64(c.Bytes)/1e6/m)
	}
	ratio := ""
	if ours != nil && ours.err == nil {
		ratio = fmt.Sprintf("%.1fx", m/median(ours.wall).Seconds())
		if strings.HasPrefix(tool, "spot ") && len(r.wall) == len(ours.wall) {
			lo, hi := math.Inf(1), math.Inf(-1)
			for i := range r.wall {
				x := r.wall[i].Seconds() / ours.wall[i].Seconds()
				lo, hi = min(lo, x), max(hi, x)
			}
			ratio = fmt.Sprintf("%.3fx (%.2f-%.2f) cpu %.3fx", m/median(ours.wall).Seconds(), lo, hi,
				median(r.cpu).Seconds()/median(ours.cpu).Seconds())
		}
	}
	line(tw, c.Name, tool, fmt.Sprintf("%.2f", m), si(c.Items/m)+" "+c.Unit, mbs, fmt.Sprintf("%.0f", float64(r.maxRSS)/1024), ratio)
}

func si(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// exists reports whether path exists (setups skip work already done).
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// goBuild builds a helper command of the bench into out.
func goBuild(pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}
