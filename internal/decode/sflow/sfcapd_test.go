package sflow_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/sflow"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// datagram is a UDP payload of a capture.
type datagram struct {
	tsNs int64
	src  netip.Addr
	data []byte
}

// datagrams reads the UDP payloads of a capture.
func datagrams(t testing.TB, path string) []datagram {
	t.Helper()
	src, err := pcap.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []datagram
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP {
			out = append(out, datagram{p.TsNs, p.Src, append([]byte(nil), p.Payload...)})
		}
	}
}

// sfcapd feeds the datagrams to nfdump's sFlow collector on loopback and
// returns nfdump's records of them.
func sfcapd(t *testing.T, grams []datagram) [][]string {
	t.Helper()
	sfcapd := testenv.Tool(t, "sfcapd")
	nfdump := testenv.Tool(t, "nfdump")
	dir := t.TempDir()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	cmd := exec.Command(sfcapd, "-b", "127.0.0.1", "-p", fmt.Sprint(port), "-w", dir, "-t", "3600")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// sfcapd binds after it starts: send the first datagram until it is
	// counted (its log says so only at the end, so wait for the socket).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			break // bound by sfcapd
		} else {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("sfcapd did not bind port %d: %s", port, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, g := range grams {
		if _, err := conn.Write(g.data); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // a small gap: sfcapd's socket buffer never fills
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("sfcapd did not stop: %s", log.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.*"))
	if len(files) != 1 {
		t.Fatalf("sfcapd wrote %v: %s", files, log.String())
	}
	out, err := exec.Command(nfdump, "-r", files[0], "-o", "csv", "-q").Output()
	if err != nil {
		t.Fatalf("nfdump: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("nfdump CSV: %v", err)
	}
	return rows
}

// nfdumpKey is what is compared of a row of nfdump's CSV: all but the
// times (sfcapd's are its receive times) and the router address (sfcapd's
// socket peer, 127.0.0.1 here, where spot's is the capture's sender).
// sfcapd keeps an IPv4 ICMP type in the source port and its code in the
// destination port (sflowtool's way): it is turned into spot's (and
// NetFlow's) type*256+code in dport. It keeps no ICMPv6 type or code at
// all: those are compared without them.
func nfdumpKey(r []string) string {
	// ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,...
	sp, dp, pr := r[5], r[6], r[7]
	switch pr {
	case "ICMP":
		var typ, code int
		fmt.Sscan(sp, &typ)
		fmt.Sscan(dp, &code)
		sp, dp = "0", fmt.Sprint(typ*256+code)
	case "ICMP6":
		sp, dp = "0", "-"
	}
	proto, _ := flowrec.ProtoNumber(pr)
	return strings.Join([]string{r[3], r[4], sp, dp, fmt.Sprint(proto), r[8], r[10], r[11], r[12], r[15], r[16]}, "|")
}

func spotKey(f *record.Flow) string {
	proto, _ := flowrec.ProtoNumber(f.Proto)
	dport := fmt.Sprint(f.DPort)
	if f.Proto == "ICMP6" {
		dport = "-"
	}
	return strings.Join([]string{f.SIP, f.DIP, fmt.Sprint(f.SPort), dport, fmt.Sprint(proto), f.Flag,
		fmt.Sprint(f.STos), fmt.Sprint(f.IPkt), fmt.Sprint(f.IByt), fmt.Sprint(f.Input), fmt.Sprint(f.Output)}, "|")
}

// TestMatchesSfcapd: the sFlow that pmacct's sfprobe exported from corpus
// captures (testdata/flow/sflow, made by scripts/sflow/regen.sh) and nDPI's
// sflow.pcap decode, record for record, to what nfdump's sfcapd makes of
// the same datagrams sent to it on loopback.
func TestMatchesSfcapd(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.Testdata(t, "flow/sflow"), "*.pcap"))
	if corpus := os.Getenv("SPOT_CORPUS"); corpus != "" || testenv.InCI() {
		files = append(files, filepath.Join(testenv.Corpus(t, "netflow/ndpi"), "sflow.pcap"))
	}
	if len(files) < 4 {
		t.Fatalf("sFlow captures: %v", files)
	}
	total := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			grams := datagrams(t, file)
			d := sflow.New(filepath.Base(file))
			var recs []record.Flow
			for _, g := range grams {
				var err error
				if recs, err = d.Decode(g.src, g.tsNs, g.data, recs); err != nil {
					t.Errorf("datagram: %v", err)
				}
			}
			want := sfcapd(t, grams)
			var got, exp []string
			for i := range recs {
				got = append(got, spotKey(&recs[i]))
			}
			for _, r := range want {
				exp = append(exp, nfdumpKey(r))
			}
			compare(t, got, exp)
			if int64(len(recs)) != d.Stats.FlowSamples-d.Stats.NoPacket {
				t.Errorf("%d records of %d flow samples (%d without a packet)", len(recs), d.Stats.FlowSamples, d.Stats.NoPacket)
			}
			t.Logf("%d datagrams: %d flow samples, %d counter samples, %d records compared with sfcapd's", d.Stats.Datagrams,
				d.Stats.FlowSamples, d.Stats.CounterSamples, len(recs))
			total += len(recs)
		})
	}
	if total < 1000 {
		t.Errorf("only %d records compared", total)
	}
}

func compare(t *testing.T, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	n := map[string]int{}
	for _, k := range want {
		n[k]++
	}
	var extra, missing []string
	for _, k := range got {
		if n[k] > 0 {
			n[k]--
		} else {
			extra = append(extra, k)
		}
	}
	for _, k := range want {
		if n[k] > 0 {
			n[k]--
			missing = append(missing, k)
		}
	}
	if len(extra)+len(missing) > 0 || len(got) != len(want) {
		t.Errorf("spot %d records, sfcapd %d; %d only in spot, %d only in sfcapd", len(got), len(want), len(extra), len(missing))
		for i := 0; i < len(extra) && i < 6; i++ {
			t.Logf("only spot:   %s", extra[i])
		}
		for i := 0; i < len(missing) && i < 6; i++ {
			t.Logf("only sfcapd: %s", missing[i])
		}
	}
}
