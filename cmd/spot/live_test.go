package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/testenv"
)

// TestLiveCapture: "decode dns --interface" and "decode flow --interface"
// on the server's end of a veth pair between two network namespaces the
// test makes (s18-*) and deletes: nsd serves a zone, dig queries it (UDP
// over IPv4 and IPv6, and TCP), tcpdump captures the same interface. After
// SIGINT the records spot wrote equal those it decodes from tcpdump's
// capture, but for event ids and frame numbers (tcpdump keeps frames the
// kernel filter drops) and times, which differ by microseconds where the
// kernel stamps each capture's copy itself (TCP on veth). A second "decode
// flow --interface", with short timeouts, writes to a pipe the flows that
// ended while the interface was quiet, before the signal; "decode dns
// --interface any" gets the records of --interface a.
func TestLiveCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "the live capture test makes network namespaces: it needs root")
	}
	ip, nsd, dig, tcpdump := testenv.Tool(t, "ip"), testenv.Tool(t, "nsd"), testenv.Tool(t, "dig"), testenv.Tool(t, "tcpdump")
	bin := buildSpot(t)
	dir := t.TempDir()

	id := strconv.Itoa(os.Getpid() % 100000)
	srv, cli, a, b := "s18-"+id+"-srv", "s18-"+id+"-cli", "s18a"+id, "s18b"+id
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	sh("netns", "add", srv)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", srv).Run() })
	sh("netns", "add", cli)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", cli).Run() }) // and the veth pair with it
	sh("link", "add", a, "type", "veth", "peer", "name", b)
	sh("link", "set", a, "netns", srv)
	sh("link", "set", b, "netns", cli)
	for _, c := range [][]string{
		{"-n", srv, "addr", "add", "10.18.0.1/24", "dev", a},
		{"-n", srv, "addr", "add", "2001:db8:18::1/64", "dev", a, "nodad"},
		{"-n", cli, "addr", "add", "10.18.0.2/24", "dev", b},
		{"-n", cli, "addr", "add", "2001:db8:18::2/64", "dev", b, "nodad"},
		{"-n", srv, "link", "set", a, "up"},
		{"-n", cli, "link", "set", b, "up"},
	} {
		sh(c...)
	}
	inNS := func(ns string, args ...string) *exec.Cmd {
		return exec.Command(ip, append([]string{"netns", "exec", ns}, args...)...)
	}

	zone := `$ORIGIN example.test.
$TTL 300
@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@ IN NS ns
ns IN A 10.18.0.1
www IN A 10.18.0.10
www IN AAAA 2001:db8::10
mail IN MX 10 mx
mx IN A 10.18.0.11
txt IN TXT "live capture"
`
	conf := fmt.Sprintf(`server:
  ip-address: 10.18.0.1
  ip-address: 2001:db8:18::1
  port: 53
  username: ""
  chroot: ""
  zonesdir: %[1]q
  pidfile: "%[1]s/nsd.pid"
  database: ""
  xfrdfile: "%[1]s/xfrd.state"
  zonelistfile: "%[1]s/zone.list"
  rrl-ratelimit: 0
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: zone
`, dir)
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zone), 0o644)
	os.WriteFile(filepath.Join(dir, "nsd.conf"), []byte(conf), 0o644)
	server := inNS(srv, nsd, "-d", "-c", filepath.Join(dir, "nsd.conf"))
	var nsdLog bytes.Buffer
	server.Stdout, server.Stderr = &nsdLog, &nsdLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	for i := 0; ; i++ {
		out, _ := inNS(cli, dig, "+short", "+tries=1", "+time=1", "@10.18.0.1", "www.example.test").Output()
		if strings.TrimSpace(string(out)) == "10.18.0.10" {
			break
		}
		if i == 30 {
			t.Fatalf("nsd does not answer: %s", nsdLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The captures, each ready once it says so. On a busy machine tcpdump
	// lost a fifth of the messages (635 of 804, 30 s after the last): a
	// snapshot of one MTU (not 256 KiB) and a 16 MiB buffer give its ring
	// room for many more frames.
	td := filepath.Join(dir, "tcpdump.pcap")
	procs := []*capture{
		startCapture(t, inNS(srv, tcpdump, "-i", a, "-n", "-U", "--immediate-mode", "-s", "1500", "-B", "16384", "--time-stamp-precision=nano", "-w", td), "listening on"),
		startCapture(t, inNS(srv, bin, "--log-level", "info", "decode", "dns", "--queries", "--interface", a, "-o", filepath.Join(dir, "dns.ndjson")), "capturing"),
		startCapture(t, inNS(srv, bin, "--log-level", "info", "decode", "flow", "--from", "packets", "--interface", a, "-o", filepath.Join(dir, "flows.ndjson")), "capturing"),
	}
	// "any": every interface of the namespace, IP packets without their
	// link headers (here only a's carry DNS).
	procs = append(procs, startCapture(t, inNS(srv, bin, "--log-level", "info", "decode", "dns", "--queries", "--interface", "any", "-o", filepath.Join(dir, "any.ndjson")), "capturing"))
	short := []string{"--idle-timeout", "2s", "--fin-timeout", "1s"}
	quiet := &syncBuffer{}
	quietCmd := inNS(srv, append([]string{bin, "--log-level", "info", "decode", "flow", "--from", "packets", "--interface", a, "-f", "ndjson"}, short...)...)
	quietCmd.Stdout = quiet
	procs = append(procs, startCapture(t, quietCmd, "capturing"))

	var queries strings.Builder
	for i := range 40 {
		fmt.Fprintf(&queries, "www.example.test A\nwww.example.test AAAA\nmail.example.test MX\ntxt.example.test TXT\nnx%d.example.test A\n", i)
	}
	qf := filepath.Join(dir, "queries.txt")
	os.WriteFile(qf, []byte(queries.String()), 0o644)
	for _, args := range [][]string{
		{"@10.18.0.1", "-f", qf},
		{"@2001:db8:18::1", "-f", qf},
		{"@10.18.0.1", "+tcp", "www.example.test"},
		{"@2001:db8:18::1", "+tcp", "mail.example.test", "MX"},
	} {
		if out, err := inNS(cli, append([]string{dig, "+tries=1", "+time=3"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("dig %v: %v: %s", args, err, out)
		}
	}
	// tcpdump loses what it has not written when a signal comes (spot reads
	// what the kernel queued), and on a busy machine it lags: wait until its
	// capture holds every message, 2 per query (at most 30 s).
	want := 2 * (2*strings.Count(queries.String(), "\n") + 2)
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
		out, _ := exec.Command(bin, "decode", "dns", "--queries", "-q", td).Output()
		if bytes.Count(out, []byte("\n")) >= want {
			break
		}
	}
	spot := func(args ...string) []map[string]any {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("spot %v: %v", args, err)
		}
		return ndjson(t, out)
	}
	// Flows of UDP and TCP only: IPv6's neighbour discovery may come as a
	// capture starts or stops.
	transport := func(rs []map[string]any) (out []map[string]any) {
		for _, r := range rs {
			if r["proto"] == "UDP" || r["proto"] == "TCP" {
				out = append(out, r)
			}
		}
		return out
	}
	// The flows of short timeouts are written while the interface is
	// quiet: all of them before the signal (at most 30 s).
	wantQuiet := transport(spot(append([]string{"decode", "flow", "--from", "packets"}, append(short, td)...)...))
	var quietBefore int
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
		b := []byte(quiet.String())
		if quietBefore = len(transport(ndjson(t, b[:bytes.LastIndexByte(b, '\n')+1]))); quietBefore >= len(wantQuiet) {
			break
		}
	}
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGINT)
	}
	for _, p := range procs {
		if err := p.wait(); err != nil {
			t.Fatalf("%s: %v\n%s", p.cmd.Args[3], err, p.stderr())
		}
	}
	for _, p := range procs[1:] {
		if !strings.Contains(p.stderr(), "0 of them dropped by the kernel") {
			t.Errorf("spot did not report its counts, or the kernel dropped packets: %s", p.stderr())
		}
	}

	// The same records from tcpdump's capture.
	read := func(name string) []map[string]any {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return ndjson(t, b)
	}
	gotDNS, wantDNS := read("dns.ndjson"), spot("decode", "dns", "--queries", td)
	gotFlows, wantFlows := read("flows.ndjson"), spot("decode", "flow", "--from", "packets", td)
	var tcp, v6 int
	for _, r := range wantDNS {
		if r["transport"] == "tcp" {
			tcp++
		}
		if strings.Contains(r["ip_src"].(string), ":") {
			v6++
		}
	}
	if len(wantDNS) < 600 || tcp < 4 || v6 < 300 {
		t.Fatalf("tcpdump's capture holds %d DNS messages (%d over TCP, %d over IPv6): the traffic did not flow, or tcpdump did not write it\n%s",
			len(wantDNS), tcp, v6, procs[0].stderr())
	}
	sameRecords(t, "dns", gotDNS, wantDNS, []string{"eid", "frame", "frame_time", "unix_tstamp"}, []string{"ts_ns"})
	// On "any" a frame is its IP packet: 14 bytes less than on Ethernet.
	anyDNS := read("any.ndjson")
	for _, r := range anyDNS {
		r["frame_len"] = r["frame_len"].(float64) + 14
	}
	sameRecords(t, "dns (any)", anyDNS, wantDNS, []string{"eid", "frame", "frame_time", "unix_tstamp"}, []string{"ts_ns"})
	times := []string{"eid", "treceived", "unix_tstamp", "tryear", "trmonth", "trday", "trhour", "trminute", "trsec", "tdur"}
	sameRecords(t, "flow", transport(gotFlows), transport(wantFlows), times, []string{"tstart_ns", "tend_ns"})
	if quietBefore < len(wantQuiet) {
		t.Errorf("with --idle-timeout 2s, %d of %d flows were written while the interface was quiet (the rest at the signal)", quietBefore, len(wantQuiet))
	}
	sameRecords(t, "flow (short timeouts)", transport(ndjson(t, []byte(quiet.String()))), wantQuiet, times, []string{"tstart_ns", "tend_ns"})
	t.Logf("%d DNS records (%d TCP, %d IPv6) and %d flows, as from tcpdump's capture; %d flows of short timeouts written before the signal",
		len(gotDNS), tcp, v6, len(gotFlows), quietBefore)
}

func ndjson(t *testing.T, b []byte) (out []map[string]any) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// sameRecords compares records without the fields ignored, and with the
// times (ns) within 50 ms of each other.
func sameRecords(t *testing.T, what string, got, want []map[string]any, ignore, times []string) {
	t.Helper()
	key := func(r map[string]any) string {
		c := map[string]any{}
		for k, v := range r {
			if !slices.Contains(ignore, k) && !slices.Contains(times, k) {
				c[k] = v
			}
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	sorted := func(rs []map[string]any) []map[string]any {
		rs = slices.Clone(rs)
		slices.SortStableFunc(rs, func(x, y map[string]any) int {
			if c := strings.Compare(key(x), key(y)); c != 0 {
				return c
			}
			return int(x[times[0]].(float64) - y[times[0]].(float64))
		})
		return rs
	}
	got, want = sorted(got), sorted(want)
	if len(got) != len(want) {
		t.Errorf("%s: %d records live, %d from tcpdump's capture", what, len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		same := key(got[i]) == key(want[i])
		for _, f := range times {
			if d := got[i][f].(float64) - want[i][f].(float64); d > 50e6 || d < -50e6 {
				same = false
			}
		}
		if !same && bad < 3 {
			bad++
			t.Errorf("%s record %d:\n live %v\n pcap %v", what, i, got[i], want[i])
		}
	}
}

// capture is a capturing process, its stderr kept.
type capture struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	err  bytes.Buffer
	done chan struct{}
}

// startCapture starts cmd and waits until its stderr says ready.
func startCapture(t *testing.T, cmd *exec.Cmd, ready string) *capture {
	t.Helper()
	c := &capture{cmd: cmd, done: make(chan struct{})}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done })
	up := make(chan struct{})
	go func(up chan struct{}) {
		defer close(c.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			c.mu.Lock()
			c.err.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if up != nil && strings.Contains(sc.Text(), ready) {
				close(up)
				up = nil
			}
		}
		io.Copy(io.Discard, pipe)
	}(up)
	select {
	case <-up:
	case <-c.done:
		t.Fatalf("%v ended before it was ready: %s", cmd.Args, c.stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("%v not ready after 30 s: %s", cmd.Args, c.stderr())
	}
	return c
}

func (c *capture) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err.String()
}

// wait waits for the process to end (30 s at most) and its stderr to be read.
func (c *capture) wait() error {
	timer := time.AfterFunc(30*time.Second, func() { c.cmd.Process.Kill() })
	defer timer.Stop()
	<-c.done
	return c.cmd.Wait()
}
