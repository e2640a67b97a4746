// Package hunt_test runs the job scripts (scripts/parallel/hunt.sh with GNU
// parallel, scripts/slurm/hunt.sh on a real one-node Slurm cluster started
// for the test) on days made of corpus files, and checks that the sharded
// run gives the model file, byte for byte, the detectors' findings and the
// top N rows of the fused ranking, every field, of one process run over the
// same files; and that a corrupt file fails
// its shard visibly, the others finish, and rerunning after fixing it
// completes the day.
package hunt_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/cli"
	"github.com/spot-hunt/spot/internal/testenv"
)

// TestMain makes this test binary spot when it is called by that name: the
// job scripts run the spot of this very commit without a build.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "spot" {
		os.Exit(cli.Main())
	}
	os.Exit(m.Run())
}

const topN = 50

// spotBin returns the path of a spot command: a link to this test binary.
func spotBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "spot")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// day is a folder of one kind's files, as a job script gets it.
type day struct {
	kind       string
	dir        string
	files      []string
	decodeArgs []string
	trainArgs  []string
}

// flowDay is NetFlow v5/v9/IPFIX export captures (softflowd's datagrams,
// and vendors' v5 datagrams, replayed to nfcapd), nfcapd's files and
// nfdump's CSV of the same flows, and raw traffic captures from which flows
// are assembled: 29 files of mixed kinds and years, copied so that a test
// can corrupt one. Each
// export capture holds its own templates, as a day's files must (each is
// decoded on its own); the corpus's v9/IPFIX vendor replays are left out:
// they all came from one exporter address, whose template ids collide when
// one process reads them all.
func flowDay(t *testing.T) day {
	t.Helper()
	corpus := testenv.Corpus(t, "")
	var files []string
	for _, pattern := range []string{"netflow/generated/*.pcap", "netflow/generated/*.nfcapd", "netflow/generated/*.nfdump.csv", "netflow/logstash-replay/netflow5*.pcap",
		"flows/ndpi/1kxun.pcap", "flows/ndpi/WebattackRCE.pcap", "flows/ndpi/alexa-app.pcapng", "flows/ndpi/synscan.pcap", "flows/ndpi/malware.pcap", "flows/ndpi/http_ipv6.pcap"} {
		m, err := filepath.Glob(filepath.Join(corpus, pattern))
		if err != nil || len(m) == 0 {
			t.Fatalf("corpus: nothing matches %s", pattern)
		}
		files = append(files, m...)
	}
	d := day{kind: "flow", dir: filepath.Join(t.TempDir(), "flowday"),
		decodeArgs: []string{"--ports", "2055,29995,29996,29997,29998"}, trainArgs: []string{"--topics", "8", "--seed", "3"}}
	for _, f := range files {
		dst := filepath.Join(d.dir, filepath.Base(filepath.Dir(f)), filepath.Base(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d.files = append(d.files, dst)
	}
	slices.Sort(d.files)
	return d
}

// dnsDay is the corpus's labelled dnsperf capture (34,049 packets: 20
// benign clients and 3 tunnels, UDP and TCP) split as Apache Spot's ingest
// split DNS captures, with editcap -c, into 12 files, the i-th moved 2i
// hours later (editcap -t) so that the day spans 24 hourly partitions.
func dnsDay(t *testing.T) day {
	t.Helper()
	src := filepath.Join(testenv.Corpus(t, "dns/generated"), "dnsperf-nsd.pcap")
	editcap := testenv.Tool(t, "editcap")
	tmp := t.TempDir()
	run(t, "", editcap, "-c", "2900", src, filepath.Join(tmp, "piece.pcap"))
	pieces, _ := filepath.Glob(filepath.Join(tmp, "piece_*.pcap"))
	slices.Sort(pieces)
	if len(pieces) != 12 {
		t.Fatalf("editcap made %d pieces, want 12", len(pieces))
	}
	d := day{kind: "dns", dir: filepath.Join(t.TempDir(), "dnsday"), trainArgs: []string{"--topics", "6", "--seed", "5"}}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range pieces {
		dst := filepath.Join(d.dir, fmt.Sprintf("dns-%02d.pcap", 2*i))
		run(t, "", editcap, "-t", fmt.Sprint(2*i*3600), p, dst)
		d.files = append(d.files, dst)
	}
	return d
}

// run runs a command and returns its stdout; it fails the test when the
// command fails.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, err := command(dir, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// command runs a command with extra environment variables and returns its
// output (stdout and stderr).
func command(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// results are what a day's hunt gives: the model file, and the findings and
// the top N rows as NDJSON.
type results struct{ model, findings, top []byte }

// reference runs the hunt in one process per stage over the whole day.
func reference(t *testing.T, spot string, d day) (r results) {
	t.Helper()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	run(t, "", spot, append(append(append([]string{"decode", d.kind}, d.decodeArgs...), d.files...), "-o", p("events.parquet"))...)
	run(t, "", spot, "featurize", "--counts", p("events.parquet"), "-o", p("counts.parquet"))
	run(t, "", spot, append(append([]string{"train"}, d.trainArgs...), p("counts.parquet"), "-o", p("model"))...)
	run(t, "", spot, "score", "-m", p("model"), p("events.parquet"), "-o", p("scored.parquet"))
	r.top = []byte(run(t, "", spot, "filter", "--top", fmt.Sprint(topN), p("scored.parquet")))
	run(t, "", spot, "detect", p("events.parquet"), "-o", p("findings.parquet"))
	r.findings = []byte(run(t, "", spot, "filter", p("findings.parquet")))
	var err error
	if r.model, err = os.ReadFile(p("model")); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(r.top, []byte("\n")); n != topN {
		t.Fatalf("the reference top holds %d rows, want %d", n, topN)
	}
	// The fused ranking ran, and its detectors found something to agree on.
	if !bytes.Contains(r.top, []byte(`"method":"fused"`)) || !bytes.Contains(r.top, []byte(`"detector":"`)) {
		t.Fatalf("the reference top was not ranked by the fused method with its detectors:\n%s", head(string(r.top), 3))
	}
	if len(r.findings) == 0 {
		t.Fatal("the reference run found nothing: the findings would agree vacuously")
	}
	return r
}

// checkSame compares a job script's results in out with the reference's.
func checkSame(t *testing.T, spot string, d day, out string, want results) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(out, "model", d.kind+".model"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.model) {
		t.Errorf("%s: the sharded run's model (%d bytes) differs from one process's (%d bytes)", d.kind, len(got), len(want.model))
	}
	rows := run(t, "", spot, "filter", filepath.Join(out, "top.parquet"))
	if rows != string(want.top) {
		t.Errorf("%s: the sharded run's top %d differs from one process's:\n%s\nwant:\n%s", d.kind, topN, head(rows, 3), head(string(want.top), 3))
	}
	findings := run(t, "", spot, "filter", filepath.Join(out, "findings.parquet"))
	if findings != string(want.findings) {
		t.Errorf("%s: the sharded run's findings differ from one process's:\n%s\nwant:\n%s", d.kind, head(findings, 3), head(string(want.findings), 3))
	}
	csv, err := os.ReadFile(filepath.Join(out, "top.csv"))
	if err != nil || bytes.Count(csv, []byte("\n")) != topN+1 {
		t.Errorf("%s: top.csv: %d lines (%v), want a header and %d rows", d.kind, bytes.Count(csv, []byte("\n")), err, topN)
	}
	// Every partition was counted and scored.
	parts, _ := filepath.Glob(filepath.Join(out, "events", "y=*", "m=*", "d=*", "h=*"))
	scored, _ := filepath.Glob(filepath.Join(out, "scored", "y=*", "m=*", "d=*", "h=*", "scored.parquet"))
	states, _ := filepath.Glob(filepath.Join(out, "detect", "y=*", "m=*", "d=*", "h=*", "detect.state"))
	if len(parts) < 8 || len(scored) != len(parts) || len(states) != len(parts) {
		t.Errorf("%s: %d hourly partitions, %d scored, %d with detectors' state", d.kind, len(parts), len(scored), len(states))
	}
}

func head(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// script is the path of a job script of this repository.
func script(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(testenv.ModuleRoot(t), "scripts", rel)
}

// hunter runs a job script over a day into out and returns its output and
// whether it completed.
type hunter func(t *testing.T, d day, out string) (string, bool)

func scriptArgs(spot string, d day, shards int) []string {
	return []string{"--kind", d.kind, "--shards", fmt.Sprint(shards), "--top", fmt.Sprint(topN), "--spot", spot,
		"--decode-args", strings.Join(d.decodeArgs, " "), "--train-args", strings.Join(d.trainArgs, " ")}
}

// testDay runs a day through hunt and compares it with the reference; it
// returns the hunt's output folder.
func testDay(t *testing.T, spot string, d day, hunt hunter) string {
	want := reference(t, spot, d)
	out := filepath.Join(t.TempDir(), "out")
	log, ok := hunt(t, d, out)
	if !ok {
		t.Fatalf("%s: the day did not complete:\n%s", d.kind, log)
	}
	checkSame(t, spot, d, out, want)
	return out
}

// testContacts judges a DNS day's hunt again with contacts (CONTACTS, as
// plan keeps it): flow records saying each client contacted the answers of
// every other name it resolved. merge runs again alone and gives the
// findings of one process given the same contacts; contacts that are no
// flows fail the merge, naming why: it reads them.
func testContacts(t *testing.T, spot string, out string) {
	dir := t.TempDir()
	var flows strings.Builder
	for i, line := range strings.Split(run(t, "", spot, "filter", filepath.Join(out, "events")), "\n") {
		var r struct {
			Client string `json:"ip_dst"`
			A      string `json:"dns_a"`
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.A != "" && i%2 == 0 {
			fmt.Fprintf(&flows, `{"kind":"flow","sip":%q,"dip":%q,"sport":40000,"dport":443,"proto":"TCP"}`+"\n", r.Client, r.A)
		}
	}
	contacts := filepath.Join(dir, "contacts.ndjson")
	if err := os.WriteFile(contacts, []byte(flows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(out, "plan", "settings.sh")
	plan, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	rejudge := func(contacts string) (string, error) {
		if err := os.WriteFile(settings, append(append([]byte{}, plan...), fmt.Sprintf("CONTACTS=%s\n", contacts)...), 0o644); err != nil {
			t.Fatal(err)
		}
		return command("", nil, script(t, "hunt/step.sh"), out, "merge")
	}
	if log, err := rejudge(contacts); err != nil || !strings.Contains(log, "merge: done") {
		t.Fatalf("merge with contacts: %v\n%s", err, log)
	}
	run(t, "", spot, "detect", filepath.Join(out, "events"), "--contacts", contacts, "-o", filepath.Join(dir, "findings.parquet"))
	if got, want := run(t, "", spot, "filter", filepath.Join(out, "findings.parquet")), run(t, "", spot, "filter", filepath.Join(dir, "findings.parquet")); got != want {
		t.Errorf("findings judged with contacts by merge:\n%s\none process:\n%s", head(got, 3), head(want, 3))
	}
	if log, err := rejudge(filepath.Join(out, "events")); err == nil {
		t.Errorf("merge with DNS events as contacts succeeded:\n%s", log)
	} else if b, _ := os.ReadFile(filepath.Join(out, "logs", "merge.log")); !strings.Contains(string(b), "contacts are flows") {
		t.Errorf("merge with DNS events as contacts: merge.log says\n%s", b)
	}
}

// testCorrupt runs a day one of whose files is cut short (a capture whose
// disk filled up): its shard fails and says which file and where the log
// is, the other files are decoded, and nothing after decode runs. Once the
// file is whole again, rerunning decodes it alone and completes the day as
// one process would have.
func testCorrupt(t *testing.T, spot string, d day, hunt hunter) string {
	want := reference(t, spot, d)
	victim := d.files[slices.IndexFunc(d.files, func(f string) bool { return filepath.Base(f) == "gnutella.softflowd-v9.pcap" })]
	whole, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, whole[:len(whole)*3/5], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	log, ok := hunt(t, d, out)
	if ok {
		t.Fatalf("a day with a corrupt file completed:\n%s", log)
	}
	if !regexp.MustCompile(`FAILED: decode/gnutella.softflowd-v9.pcap: exit status 3.*log: \S+/logs/decode/gnutella.softflowd-v9.pcap.log`).MatchString(log) {
		t.Errorf("the failure does not name the file and its log:\n%s", log)
	}
	sigs, _ := filepath.Glob(filepath.Join(out, "state", "decode", "*.sig"))
	if len(sigs) != len(d.files)-1 {
		t.Errorf("%d files decoded besides the corrupt one, want %d", len(sigs), len(d.files)-1)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "events", "*", "*", "*", "*", "gnutella.softflowd-v9.pcap.parquet")); len(left) > 0 {
		t.Errorf("the failed file's records stayed in the day: %v", left)
	}
	if _, err := os.Stat(filepath.Join(out, "model")); err == nil {
		t.Error("train ran although decode failed")
	}

	if err := os.WriteFile(victim, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	log, ok = hunt(t, d, out)
	if !ok {
		t.Fatalf("the day did not complete once the file was fixed:\n%s", log)
	}
	if n := strings.Count(log, ": up to date"); !strings.Contains(log, "decode/gnutella.softflowd-v9.pcap: done") ||
		strings.Count(log, "decode/") < len(d.files) || n < len(d.files)-1 {
		t.Errorf("the rerun should decode the fixed file alone (%d units up to date):\n%s", n, log)
	}
	checkSame(t, spot, d, out, want)
	return out
}

// testLookups hunts a flow day in out again with the DNS records of its
// captures as lookups (--lookups, LOOKUPS in the plan): every partition is
// scored again and nothing before, and the top is one process's given the
// same lookups; lookups that are no DNS records fail the scores, naming
// why: they are read.
func testLookups(t *testing.T, spot string, d day, out string) {
	dir := t.TempDir()
	var captures []string
	for _, f := range d.files {
		if filepath.Base(filepath.Dir(f)) == "ndpi" {
			captures = append(captures, f)
		}
	}
	dns := filepath.Join(dir, "dns")
	if err := os.MkdirAll(dns, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "", spot, append(append([]string{"decode", "dns"}, captures...), "-o", filepath.Join(dns, "lookups.parquet"))...)
	hunt := func(lookups string) (string, error) {
		return command("", nil, script(t, "parallel/hunt.sh"), append(scriptArgs(spot, d, 8), "--jobs", "2", "--lookups", lookups, d.dir, out)...)
	}
	log, err := hunt(dns)
	if err != nil {
		t.Fatalf("the day with lookups did not complete: %v\n%s", err, log)
	}
	parts, _ := filepath.Glob(filepath.Join(out, "events", "y=*", "m=*", "d=*", "h=*"))
	scored := regexp.MustCompile(`score/\S+: done`).FindAllString(log, -1)
	if len(scored) != len(parts) || strings.Contains(log, "train: done") || strings.Contains(log, "merge: done") {
		t.Errorf("with lookups, %d of %d partitions were scored again (want all, and no train or merge):\n%s", len(scored), len(parts), log)
	}
	run(t, "", spot, "score", "-m", filepath.Join(out, "model", "flow.model"), "--lookups", dns, filepath.Join(out, "events"), "-o", filepath.Join(dir, "scored.parquet"))
	if got, want := run(t, "", spot, "filter", filepath.Join(out, "top.parquet")), run(t, "", spot, "filter", "--top", fmt.Sprint(topN), filepath.Join(dir, "scored.parquet")); got != want {
		t.Errorf("the top scored with lookups by the hunt:\n%s\none process:\n%s", head(got, 3), head(want, 3))
	}
	if log, err := hunt(filepath.Join(out, "events")); err == nil {
		t.Errorf("the day with flows as lookups completed:\n%s", log)
	} else if !strings.Contains(log, "FAILED: score/") {
		t.Errorf("the day with flows as lookups: no score failed:\n%s", log)
	}
	logs, _ := filepath.Glob(filepath.Join(out, "logs", "score", "*.log"))
	if len(logs) == 0 {
		t.Fatal("no score logs")
	}
	if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "lookups are DNS records") {
		t.Errorf("score with flows as lookups: %s says\n%s", logs[0], b)
	}
}

func parallelHunt(spot string) hunter {
	return func(t *testing.T, d day, out string) (string, bool) {
		args := append(scriptArgs(spot, d, 8), "--jobs", "2", d.dir, out)
		log, err := command("", nil, script(t, "parallel/hunt.sh"), args...)
		return log, err == nil
	}
}

func TestParallel(t *testing.T) {
	testenv.Tool(t, "parallel")
	spot := spotBin(t)
	t.Run("flow", func(t *testing.T) {
		d := flowDay(t)
		testLookups(t, spot, d, testCorrupt(t, spot, d, parallelHunt(spot)))
	})
	t.Run("dns", func(t *testing.T) { testContacts(t, spot, testDay(t, spot, dnsDay(t), parallelHunt(spot))) })
}

// step.sh tells Go the memory of the Slurm task it runs in (GOMEMLIMIT, 90%
// of it), from --mem or --mem-per-cpu; a limit the user set wins, and
// outside Slurm none is set.
func TestStepMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	dayDir, out := filepath.Join(dir, "day"), filepath.Join(dir, "out")
	if err := os.MkdirAll(dayDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dayDir, "a.pcap"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a spot that tells its version, and otherwise notes the limit it was
	// given and fails
	fake, seen := filepath.Join(dir, "spot"), filepath.Join(dir, "seen")
	sh := "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'spot test'; exit 0; }\necho \"GOMEMLIMIT=${GOMEMLIMIT:-}\" >>" + seen + "\nexit 1\n"
	if err := os.WriteFile(fake, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	step := script(t, "hunt/step.sh")
	plan := exec.Command(step, out, "plan", dayDir)
	plan.Env = append(os.Environ(), "SPOT="+fake, "SHARDS=1")
	if b, err := plan.CombinedOutput(); err != nil {
		t.Fatalf("plan: %v\n%s", err, b)
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"SLURM_MEM_PER_NODE=2048"}, "GOMEMLIMIT=1843MiB"},
		{[]string{"SLURM_MEM_PER_CPU=1000", "SLURM_CPUS_PER_TASK=2"}, "GOMEMLIMIT=1800MiB"},
		{[]string{"SLURM_MEM_PER_NODE=2048", "GOMEMLIMIT=500MiB"}, "GOMEMLIMIT=500MiB"},
		{nil, "GOMEMLIMIT="},
	} {
		os.Remove(seen)
		cmd := exec.Command(step, out, "decode", "0")
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool {
			return strings.HasPrefix(e, "SLURM_") || strings.HasPrefix(e, "GOMEMLIMIT=")
		}), c.env...)
		cmd.Run() // the fake spot fails the shard
		b, err := os.ReadFile(seen)
		if err != nil {
			t.Fatalf("%v: spot never ran: %v", c.env, err)
		}
		if got := strings.TrimSpace(string(b)); got != c.want {
			t.Errorf("%v: spot ran with %q, want %q", c.env, got, c.want)
		}
	}
}
