// Command chaos is spot's hostile-input campaign (make chaos): mutants of
// every kind of input through every stage that reads it, interrupts at
// random times, second signals, a full disk and a collector flood. Each run
// is checked for what must never happen (a panic, a hang, an exit status
// outside 0, 1, 3 and 130, a temporary file left behind, an old output
// lost, peak RSS over -rss) and the counts are printed; it exits 1 if any
// is not 0. It runs the binary named by -spot; inputs come from testdata.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat/parquettest"
)

var (
	spot     = flag.String("spot", "bin/spot", "the spot binary")
	testdata = flag.String("testdata", "testdata", "the repository's testdata folder")
	mutants  = flag.Int("mutants", 2000, "how many mutated inputs")
	signals  = flag.Int("interrupts", 50, "how many random interrupts")
	seed     = flag.Uint64("seed", 1, "random seed (the same seed makes the same mutants)")
	timeout  = flag.Duration("timeout", 60*time.Second, "a run longer than this is a hang")
	maxRSS   = flag.Int64("rss", 256, "peak RSS allowed, in MB")
)

// counts are the campaign's tallies; the faults are the ones that must be 0.
type counts struct {
	mu                                   sync.Mutex
	runs, exit0, exit1, exit3, exit130   int
	panics, hangs, stray, leftover, lost int
	overRSS                              int
	early                                int // interrupts that came before spot could catch them
	peakRSS                              int64
	peakWhat                             string
	kinds                                map[string]int
	faults                               []string
}

var tally = counts{kinds: map[string]int{}}

// outcome is one process's end.
type outcome struct {
	code   int // -1: killed by a signal
	stderr string
	rss    int64 // KB
	hung   bool
}

func main() {
	flag.Parse()
	// Runs happen in folders of their own: both paths made absolute.
	abs, err := filepath.Abs(*testdata)
	check(err)
	*testdata = abs
	bin, err := exec.LookPath(*spot)
	check(err)
	*spot, err = filepath.Abs(bin)
	check(err)
	rng := rand.New(rand.NewPCG(*seed, 0xc4a05))
	work, err := os.MkdirTemp("", "spot-chaos-")
	check(err)
	workDir = work
	start := time.Now()

	seeds := loadSeeds(work)
	model := filepath.Join(work, "m.model")
	mustRun(work, "train", "--iterations", "5", filepath.Join(work, "flows.ndjson"), "-o", model)

	fmt.Printf("chaos: %d mutants over %d seed inputs\n", *mutants, len(seeds))
	runMutants(work, seeds, model, rng)
	fmt.Printf("chaos: %d random interrupts, then second signals\n", *signals)
	runInterrupts(work, model, rng)
	fmt.Println("chaos: a full disk")
	runFullDisk(work)
	fmt.Println("chaos: a collector flood, stopped by two signals")
	runCollector(work)
	// Last: building a footer of 20,001 row groups takes the campaign's
	// own memory to about 100 MB (see selfPeakRSS).
	fmt.Println("chaos: hostile inputs (long lines, lying Parquet footers)")
	runHostile(work, seeds, model)

	t := &tally
	fmt.Printf("\nchaos: %d runs in %s\n", t.runs, time.Since(start).Round(time.Second))
	var kinds []string
	for k := range t.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Printf("  %-28s %6d\n", k, t.kinds[k])
	}
	fmt.Printf("  exit 0 %d, exit 1 %d, exit 3 %d, exit 130 %d, killed by a signal sent before spot caught signals %d\n",
		t.exit0, t.exit1, t.exit3, t.exit130, t.early)
	fmt.Printf("  panics %d, hangs %d, stray exit codes %d, leftover temporary files %d, old outputs lost %d, over %d MB RSS %d\n",
		t.panics, t.hangs, t.stray, t.leftover, t.lost, *maxRSS, t.overRSS)
	fmt.Printf("  peak RSS %d MB (%s)\n", t.peakRSS>>10, t.peakWhat)
	// The runs' peaks are theirs only above the campaign's own (see
	// selfPeakRSS): over -rss, the check of every run would be void.
	self := selfPeakRSS()
	fmt.Printf("  the campaign's own peak RSS %d MB (a run's peak below it is at most it)\n", self>>10)
	if self>>10 >= *maxRSS {
		fault(&t.overRSS, fmt.Sprintf("the campaign itself peaked at %d MB RSS, over %d MB: the runs' RSS checks cannot be trusted", self>>10, *maxRSS))
	}
	for _, f := range t.faults {
		fmt.Println("FAULT:", f)
	}
	if len(t.faults) > 0 {
		exit(1)
	}
	exit(0)
}

// workDir is the campaign's work folder, removed however it ends.
var workDir string

// exit removes the work folder and ends the campaign with code (os.Exit
// would skip a deferred removal).
func exit(code int) {
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		exit(2)
	}
}

// seedInput is one input the mutants start from, and the stages reading it.
type seedInput struct {
	name   string // file name in work (its extension matters to no stage)
	data   []byte
	stages [][]string // argument lists; "IN" is the input, "OUT" the output
}

func loadSeeds(work string) []seedInput {
	var seeds []seedInput
	add := func(glob string, stages ...[]string) {
		files, _ := filepath.Glob(filepath.Join(*testdata, glob))
		if len(files) == 0 {
			check(fmt.Errorf("no %s under %s", glob, *testdata))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			check(err)
			name := filepath.Base(f)
			if strings.HasSuffix(name, ".gz") { // mutate what the decoder reads
				zr, err := gzip.NewReader(bytes.NewReader(data))
				check(err)
				data, err = io.ReadAll(zr)
				check(err)
				name = strings.TrimSuffix(name, ".gz")
			}
			if len(data) > 2<<20 {
				data = data[:2<<20]
			}
			seeds = append(seeds, seedInput{name, data, stages})
		}
	}
	dns := []string{"decode", "dns", "IN", "-o", "OUT.parquet"}
	flow := []string{"decode", "flow", "IN", "-o", "OUT.parquet"}
	add("dns/*.pcap*", dns)
	add("pcapng/*.pcapng", dns, flow)
	add("flow/*.pcap", flow, []string{"decode", "flow", "--from", "exports", "IN", "-o", "OUT.parquet"})
	add("flow/*.nfdump.csv*", flow)
	add("nfcapd/*.nfcapd", flow)
	add("proxy/*.log", []string{"decode", "proxy", "IN", "-o", "OUT.parquet"})

	// Record streams: flows as NDJSON and Parquet, through every stage.
	raw, err := os.ReadFile(filepath.Join(*testdata, "hunt", "flows.ndjson.gz"))
	check(err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	check(err)
	flows, err := io.ReadAll(zr)
	check(err)
	check(os.WriteFile(filepath.Join(work, "flows.ndjson"), flows, 0o644))
	mustRun(work, "filter", filepath.Join(work, "flows.ndjson"), "-o", filepath.Join(work, "flows.parquet"))
	pq, err := os.ReadFile(filepath.Join(work, "flows.parquet"))
	check(err)
	model := filepath.Join(work, "m.model")
	streams := [][]string{
		{"filter", "IN", "-o", "OUT.parquet"},
		{"filter", "--where", "dport < 1024", "IN", "-o", "OUT.ndjson"},
		{"featurize", "IN", "-o", "OUT.parquet"},
		{"score", "-m", model, "IN", "-o", "OUT.parquet"},
		{"train", "--iterations", "2", "IN", "-o", "OUT.model"},
	}
	seeds = append(seeds, seedInput{"flows.ndjson", flows, streams}, seedInput{"flows.parquet", pq, streams})
	return seeds
}

// mutate returns a damaged copy of data: bits flipped, bytes set to edge
// values, a cut, an insertion, a duplicated or zeroed span, or several.
func mutate(rng *rand.Rand, data []byte) ([]byte, string) {
	b := append([]byte(nil), data...)
	var what []string
	for range 1 + rng.IntN(3) {
		if len(b) == 0 {
			b = []byte{0}
		}
		i := rng.IntN(len(b))
		switch rng.IntN(6) {
		case 0:
			for range 1 + rng.IntN(8) {
				b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
			}
			what = append(what, "flip")
		case 1:
			edge := []byte{0, 0xff, 0x7f, 0x80, 0x01, 0xfe}
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] = edge[rng.IntN(len(edge))]
			}
			what = append(what, "edge")
		case 2:
			b = b[:i]
			what = append(what, "cut")
		case 3:
			ins := make([]byte, 1+rng.IntN(64))
			for k := range ins {
				ins[k] = byte(rng.Uint32())
			}
			b = append(b[:i], append(ins, b[i:]...)...)
			what = append(what, "insert")
		case 4:
			j := min(len(b), i+1+rng.IntN(4096))
			b = append(b[:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
			what = append(what, "duplicate")
		case 5:
			j := min(len(b), i+1+rng.IntN(256))
			clear(b[i:j])
			what = append(what, "zero")
		}
	}
	return b, strings.Join(what, "+")
}

func runMutants(work string, seeds []seedInput, model string, rng *rand.Rand) {
	type job struct {
		n     int
		data  []byte
		name  string
		stage []string
		what  string
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				dir := filepath.Join(work, fmt.Sprintf("m%d-%d", w, j.n))
				check(os.MkdirAll(dir, 0o755))
				in := filepath.Join(dir, j.name)
				check(os.WriteFile(in, j.data, 0o644))
				args, outs := fill(j.stage, in, filepath.Join(dir, "out"))
				o := run(dir, nil, nil, args...)
				label := fmt.Sprintf("mutant %d (%s of %s) spot %s", j.n, j.what, j.name, strings.Join(j.stage[:min(2, len(j.stage))], " "))
				judge("mutant "+j.stage[0], label, o, dir, append(outs, in), []int{0, 1, 3})
				os.RemoveAll(dir)
			}
		}()
	}
	for n := range *mutants {
		s := seeds[n%len(seeds)]
		if n%3 == 0 { // a third on the record streams, through every stage
			s = seeds[len(seeds)-1-n/3%2]
		}
		data, what := mutate(rng, s.data)
		jobs <- job{n, data, s.name, s.stages[rng.IntN(len(s.stages))], what}
		if n%250 == 249 {
			fmt.Printf("  %d mutants\n", n+1)
		}
	}
	close(jobs)
	wg.Wait()
}

// fill puts the input and output paths into a stage's arguments.
func fill(stage []string, in, out string) (args, outs []string) {
	for _, a := range stage {
		switch {
		case a == "IN":
			a = in
		case strings.HasPrefix(a, "OUT"):
			a = out + strings.TrimPrefix(a, "OUT")
			outs = append(outs, a)
		}
		args = append(args, a)
	}
	return args, outs
}

// runHostile runs the inputs the campaign of issue #21 found: NDJSON lines
// of 64 MB and 1 GB, Parquet footers that list one chunk 20,001 times or
// declare a chunk of 2^40 bytes.
func runHostile(work string, seeds []seedInput, model string) {
	dir := filepath.Join(work, "hostile")
	check(os.MkdirAll(dir, 0o755))
	head := `{"kind":"flow","sip":"10.0.0.1"}` + "\n" + `{"kind":"flow","sip":"`
	for _, size := range []int64{64 << 20, 1 << 30} {
		path := filepath.Join(dir, fmt.Sprintf("line%dM.ndjson", size>>20))
		f, err := os.Create(path)
		check(err)
		f.WriteString(head)
		check(f.Truncate(int64(len(head)) + size)) // a hole reads as zero bytes, in no disk
		f.Close()
		for _, stage := range [][]string{{"filter", path, "-o", filepath.Join(dir, "out.parquet")}, {"featurize", path, "-o", filepath.Join(dir, "out.ndjson")}} {
			o := run(dir, nil, nil, stage...)
			judge("hostile long line", fmt.Sprintf("spot %s on a %d MB line", stage[0], size>>20), o, dir, []string{path, filepath.Join(dir, "out.parquet"), filepath.Join(dir, "out.ndjson")}, []int{3})
		}
		// and from a pipe
		o := run(dir, pipeFrom(path), nil, "filter", "-o", filepath.Join(dir, "out.parquet"))
		judge("hostile long line", fmt.Sprintf("spot filter on a %d MB line from a pipe", size>>20), o, dir, []string{path, filepath.Join(dir, "out.parquet"), filepath.Join(dir, "out.ndjson")}, []int{3})
		os.Remove(path)
		os.Remove(filepath.Join(dir, "out.parquet"))
		os.Remove(filepath.Join(dir, "out.ndjson"))
	}
	var pq []byte
	for _, s := range seeds {
		if s.name == "flows.parquet" {
			pq = s.data
		}
	}
	shared, err := parquettest.SharedRowGroups(pq, 20001)
	check(err)
	huge, err := parquettest.HugeChunk(pq, 1<<40)
	check(err)
	for name, data := range map[string][]byte{"shared.parquet": shared, "huge.parquet": huge} {
		path := filepath.Join(dir, name)
		check(os.WriteFile(path, data, 0o644))
		for _, stage := range [][]string{{"filter", path, "-o", "OUT"}, {"score", "-m", model, path, "-o", "OUT"}, {"featurize", path, "-o", "OUT"}} {
			args, outs := fill(stage, path, filepath.Join(dir, "out.parquet"))
			o := run(dir, nil, nil, args...)
			judge("hostile Parquet footer", "spot "+stage[0]+" "+name, o, dir, append(outs, path), []int{1})
			// and from a pipe, spooled
			o = run(dir, pipeFrom(path), nil, append(args[:len(args)-3:len(args)-3], "-o", outs[0])...)
			judge("hostile Parquet footer", "spot "+stage[0]+" "+name+" from a pipe", o, dir, append(outs, path), []int{1})
		}
		os.Remove(path)
	}
}

// runInterrupts signals stages at random times, once or twice, over an old
// output: exit 0 must leave a new output, 130 the old one, byte for byte.
func runInterrupts(work, model string, rng *rand.Rand) {
	dir := filepath.Join(work, "interrupts")
	check(os.MkdirAll(dir, 0o755))
	flows, err := os.ReadFile(filepath.Join(work, "flows.ndjson"))
	check(err)
	big := filepath.Join(dir, "big.ndjson")
	f, err := os.Create(big)
	check(err)
	for range 40 {
		_, err = f.Write(flows)
		check(err)
	}
	check(f.Close())
	pcap, _ := filepath.Glob(filepath.Join(*testdata, "hunt", "*.pcap*"))
	stages := [][]string{
		{"filter", big, "-o", "OUT.parquet"},
		{"featurize", big, "-o", "OUT.ndjson"},
		{"score", "-m", model, big, "-o", "OUT.parquet"},
		{"train", "--iterations", "10", big, "-o", "OUT.model"},
		{"decode", "flow", pcap[0], "-o", "OUT.parquet"},
	}
	for n := range *signals + *signals/2 {
		twice := n >= *signals
		stage := stages[n%len(stages)]
		args, outs := fill(stage, "", filepath.Join(dir, "out"))
		old := []byte(fmt.Sprintf("old output %d\n", n))
		check(os.WriteFile(outs[0], old, 0o644))
		delay := time.Duration(rng.IntN(1500)) * time.Millisecond
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[rng.IntN(2)]
		o := run(dir, nil, func(c *exec.Cmd) {
			time.Sleep(delay)
			c.Process.Signal(sig)
			if twice {
				time.Sleep(5 * time.Millisecond)
				c.Process.Signal(sig)
			}
		}, args...)
		kind := "interrupt"
		if twice {
			kind = "second signal"
		}
		label := fmt.Sprintf("spot %s, %v after %v", strings.Join(stage[:2], " "), sig, delay)
		// -1: killed by the signal before spot could catch it (exec and
		// the Go runtime's start, before internal/interrupt's init);
		// nothing was written then, as the checks of the old output and
		// of leftovers confirm. Counted apart.
		judge(kind, label, o, dir, append(outs, big), []int{0, 130, -1})
		if o.code == -1 {
			tally.mu.Lock()
			tally.early++
			tally.mu.Unlock()
			fmt.Printf("  %s: killed by the signal\n", label)
		}
		isOld, size := holds(outs[0], old)
		switch {
		case o.code == 130 && !isOld:
			fault(&tally.lost, label+": exit 130 but the old output was replaced or lost")
		case o.code == 0 && (size == 0 || isOld):
			fault(&tally.lost, label+": exit 0 but no new output")
		}
		os.Remove(outs[0])
	}
}

// holds reports whether the file at path holds exactly want, and its size,
// reading no more of it than want's length (a new output can be large, and
// the campaign's memory must stay small: see selfPeakRSS).
func holds(path string, want []byte) (bool, int64) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, 0
	}
	if st.Size() != int64(len(want)) {
		return false, st.Size()
	}
	got := make([]byte, len(want))
	_, err = io.ReadFull(f, got)
	return err == nil && bytes.Equal(got, want), st.Size()
}

// runFullDisk writes outputs to a tmpfs of 16 KiB (in a mount namespace of
// its own): each run must fail with exit 1, say so, and keep the old output.
func runFullDisk(work string) {
	if os.Geteuid() != 0 {
		fault(&tally.stray, "full disk: needs root (mount namespaces); not run")
		return
	}
	dir := filepath.Join(work, "fulldisk")
	check(os.MkdirAll(dir, 0o755))
	flows := filepath.Join(work, "flows.ndjson")
	for _, stage := range [][]string{
		{"filter", flows, "-o", "OUT.parquet"},
		{"filter", flows, "-o", "OUT.ndjson"},
		{"featurize", flows, "-o", "OUT.parquet"},
		{"train", "--iterations", "2", flows, "-o", "OUT.model"},
	} {
		args, outs := fill(stage, "", filepath.Join(dir, "out"))
		script := `dir=$0 out=$1
shift
mount -t tmpfs -o size=16k s21-chaos "$dir" || exit 97
printf 'old output\n' > "$out"
"$@"
rc=$?
[ $rc = 0 ] || [ "$(cat "$out")" = "old output" ] || { echo "chaos: old output lost" >&2; rc=98; }
ls -A "$dir" | grep -vx "$(basename "$out")" | sed 's/^/chaos: left /' >&2
exit $rc`
		full := append([]string{"-m", "sh", "-c", script, dir, outs[0], *spot}, args...)
		o := runCmd(dir, "unshare", nil, nil, full...)
		label := "spot " + stage[0] + " -o " + filepath.Base(outs[0]) + " on a full disk"
		judge("full disk", label, o, "", nil, []int{1})
		if o.code == 98 {
			fault(&tally.lost, label+": old output lost")
		}
		if strings.Contains(o.stderr, "chaos: left") {
			fault(&tally.leftover, label+": "+o.stderr)
		}
		if o.code == 1 && !strings.Contains(o.stderr, "no space left on device") {
			fault(&tally.stray, label+": exit 1 without saying the disk is full: "+o.stderr)
		}
	}
}

// runCollector floods a collector on loopback with NetFlow v9 for a
// second, then sends SIGTERM twice: everything it decoded must be written.
func runCollector(work string) {
	tpl, err1 := os.ReadFile(filepath.Join(*testdata, "flow", "netflow9_test_cisco_asa_1_tpl.dat"))
	data, err2 := os.ReadFile(filepath.Join(*testdata, "flow", "netflow9_test_cisco_asa_1_data.dat"))
	check(errors.Join(err1, err2))
	for round := range 3 {
		dir := filepath.Join(work, fmt.Sprintf("collector%d", round))
		check(os.MkdirAll(dir, 0o755))
		var stderr syncBuffer
		var sent int
		o := run(dir, func(c *exec.Cmd) { c.Stderr = &stderr }, func(c *exec.Cmd) {
			addr := waitFor(&stderr, regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`))
			if addr == "" {
				return
			}
			conn, err := net.Dial("udp", addr)
			if err != nil {
				return
			}
			conn.Write(tpl)
			for stop := time.Now().Add(time.Second); time.Now().Before(stop); sent++ {
				conn.Write(data)
			}
			c.Process.Signal(syscall.SIGTERM)
			waitFor(&stderr, regexp.MustCompile(`(stopping)`))
			c.Process.Signal(syscall.SIGTERM)
		}, "decode", "flow", "--listen", "udp://127.0.0.1:0", "-o", dir, "-v")
		label := fmt.Sprintf("collector flood %d (%d datagrams)", round, sent)
		judge("collector flood", label, o, "", nil, []int{0, 3})
		m := regexp.MustCompile(`decoded (\d+) flow records into (\d+) files`).FindStringSubmatch(o.stderr)
		if m == nil {
			fault(&tally.lost, label+": no counts on stderr")
			continue
		}
		var decoded, written int64
		fmt.Sscan(m[1], &decoded)
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".parquet") {
				fault(&tally.leftover, label+": left "+path)
				return nil
			}
			n, err := countLines(exec.Command(*spot, "filter", path, "-f", "ndjson"))
			if err != nil {
				fault(&tally.lost, label+": "+path+" unreadable: "+err.Error())
			}
			written += n
			return nil
		})
		if written != decoded || decoded == 0 {
			fault(&tally.lost, fmt.Sprintf("%s: decoded %d records, wrote %d", label, decoded, written))
		}
		fmt.Printf("  %s: %d records decoded, %d written, peak RSS %d MB (the campaign's so far: %d MB)\n",
			label, decoded, written, o.rss>>10, selfPeakRSS()>>10)
	}
}

// countLines runs cmd and counts the lines it prints, as they come: the
// campaign's own memory must stay small (see selfPeakRSS).
func countLines(cmd *exec.Cmd) (int64, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := out.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err != nil {
			break
		}
	}
	return n, cmd.Wait()
}

// selfPeakRSS is the campaign's own peak RSS in KB (VmHWM), -1 unknown.
// Linux counts it in the peak RSS (ru_maxrss) of every process the
// campaign starts after reaching it, since Go starts a process with vfork
// and the kernel takes the parent's peak at exec. A run's measured peak is
// therefore its own only where it is above the campaign's; below, it is at
// most that.
func selfPeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	m := regexp.MustCompile(`VmHWM:\s*(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	var kb int64
	fmt.Sscan(string(m[1]), &kb)
	return kb
}

// run runs spot in dir with a timeout; setup (if not nil) prepares the
// command, started (if not nil) runs on a goroutine of its own once it is.
func run(dir string, setup, started func(*exec.Cmd), args ...string) outcome {
	return runCmd(dir, *spot, setup, started, args...)
}

func runCmd(dir, bin string, setup, started func(*exec.Cmd), args ...string) outcome {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	tmp := filepath.Join(dir, ".tmpdir")
	check(os.MkdirAll(tmp, 0o755))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if setup != nil {
		setup(cmd)
	}
	check(cmd.Start())
	if started != nil {
		go started(cmd)
	}
	var hung atomic.Bool
	timer := time.AfterFunc(*timeout, func() { hung.Store(true); cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	if c, ok := cmd.Stdin.(io.Closer); ok {
		c.Close()
	}
	o := outcome{stderr: stderr.String(), hung: hung.Load()}
	if s, ok := cmd.Stderr.(fmt.Stringer); ok {
		o.stderr = s.String()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.rss = ru.Maxrss
	}
	o.code = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		check(err)
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		o.stderr += "\nchaos: left in TMPDIR: " + e.Name()
	}
	os.RemoveAll(tmp)
	return o
}

// judge counts an outcome and records its faults; dir is checked for files
// other than keep.
func judge(kind, label string, o outcome, dir string, keep []string, codes []int) {
	t := &tally
	t.mu.Lock()
	t.runs++
	t.kinds[kind]++
	switch o.code {
	case 0:
		t.exit0++
	case 1:
		t.exit1++
	case 3:
		t.exit3++
	case 130:
		t.exit130++
	}
	if o.rss > t.peakRSS {
		t.peakRSS, t.peakWhat = o.rss, label
	}
	t.mu.Unlock()
	switch {
	case o.hung:
		fault(&t.hangs, label+": no exit within "+timeout.String())
	case strings.Contains(o.stderr, "panic:") || strings.Contains(o.stderr, "fatal error:") || strings.Contains(o.stderr, "goroutine "):
		fault(&t.panics, label+": "+firstLines(o.stderr))
	case !contains(codes, o.code):
		fault(&t.stray, fmt.Sprintf("%s: exit %d (want one of %v): %s", label, o.code, codes, firstLines(o.stderr)))
	}
	if o.rss>>10 > *maxRSS {
		fault(&t.overRSS, fmt.Sprintf("%s: peak RSS %d MB", label, o.rss>>10))
	}
	if strings.Contains(o.stderr, "chaos: left in TMPDIR") {
		fault(&t.leftover, label+": "+firstLines(o.stderr[strings.Index(o.stderr, "chaos: left"):]))
	}
	if dir == "" {
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !contains(keep, p) && e.Name() != ".tmpdir" {
			fault(&t.leftover, label+": left "+e.Name())
			os.RemoveAll(p)
		}
	}
}

// pipeFrom makes a command read path through a pipe, as from cat.
func pipeFrom(path string) func(*exec.Cmd) {
	return func(c *exec.Cmd) {
		f, err := os.Open(path)
		check(err)
		c.Stdin = struct{ io.ReadCloser }{f}
	}
}

func fault(n *int, msg string) {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	*n++
	tally.faults = append(tally.faults, msg)
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func firstLines(s string) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", 4)
	return strings.Join(lines[:min(3, len(lines))], " | ")
}

func mustRun(dir string, args ...string) {
	out, err := exec.Command(*spot, args...).CombinedOutput()
	if err != nil {
		check(fmt.Errorf("spot %v: %v\n%s", args, err, out))
	}
}

// syncBuffer is a bytes.Buffer written by a process and read as it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor returns re's first group once s holds it ("" after 20 s).
func waitFor(s *syncBuffer, re *regexp.Regexp) string {
	for stop := time.Now().Add(20 * time.Second); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.String()); m != nil {
			return m[1]
		}
	}
	return ""
}
