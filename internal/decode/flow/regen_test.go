package flow

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/netflow"
	"github.com/spot-hunt/spot/internal/record"
)

// TestFreshExportsMatchNfdump makes new exports at test time, as the
// corpus's regen-netflow.sh does (no root needed here): softflowd reads a
// traffic capture and exports NetFlow v9 and IPFIX to this test over
// loopback; the test keeps each datagram and forwards it to nfcapd. spot's
// decode of the datagrams must equal nfdump's records of nfcapd's file.
func TestFreshExportsMatchNfdump(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	capture := filepath.Join(corpusDir(t, "flows/ndpi"), "WebattackRCE.pcap")
	softflowd := needTool(t, "softflowd")
	softflowctl := needTool(t, "softflowctl")
	nfcapd := needTool(t, "nfcapd")
	nfdump := needTool(t, "nfdump")
	for _, v := range []string{"5", "9", "10"} {
		t.Run("v"+v, func(t *testing.T) {
			dir := t.TempDir()
			// nfcapd on a free port.
			fwd, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			nport := fwd.LocalAddr().(*net.UDPAddr).Port
			fwd.Close()
			nf := exec.Command(nfcapd, "-b", "127.0.0.1", "-p", fmt.Sprint(nport), "-w", dir, "-t", "3600")
			var nfOut bytes.Buffer
			nf.Stdout, nf.Stderr = &nfOut, &nfOut
			if err := nf.Start(); err != nil {
				t.Fatal(err)
			}
			defer nf.Process.Kill()
			nfExited := make(chan error, 1)
			go func() { nfExited <- nf.Wait() }()
			// Our relay: keep and forward every datagram.
			relay, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", nport))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var grams [][]byte
			go func() {
				buf := make([]byte, 65536)
				for {
					n, _, err := relay.ReadFromUDP(buf)
					if err != nil {
						return
					}
					mu.Lock()
					grams = append(grams, append([]byte(nil), buf[:n]...))
					mu.Unlock()
					out.Write(buf[:n])
				}
			}()
			waitBound(t, nport, nf, nfExited, &nfOut) // nfcapd is listening
			args := []string{"-d", "-a", "-r", capture, "-n", relay.LocalAddr().String(), "-v", v,
				"-c", filepath.Join(dir, "sf.ctl"), "-p", filepath.Join(dir, "sf.pid")}
			if v != "5" {
				args = append(args, "-6")
			}
			if v == "10" {
				args = append(args, "-A", "milli")
			}
			sf := exec.Command(softflowd, args...)
			var sfOut bytes.Buffer
			sf.Stdout, sf.Stderr = &sfOut, &sfOut
			if err := sf.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- sf.Wait() }()
			// softflowd 1.1.0 with -r waits on its control socket before it
			// reads the file: poke it until it has run (see regen-netflow.sh).
			deadline := time.After(60 * time.Second)
		poke:
			for {
				select {
				case <-exited:
					break poke
				case <-deadline:
					sf.Process.Kill()
					t.Fatalf("softflowd did not finish:\n%s", sfOut.String())
				case <-time.After(200 * time.Millisecond):
					if _, err := os.Stat(filepath.Join(dir, "sf.ctl")); err == nil {
						exec.Command(softflowctl, "-c", filepath.Join(dir, "sf.ctl"), "statistics").Run()
					}
				}
			}
			time.Sleep(2 * time.Second) // the relay and nfcapd drain their sockets
			relay.Close()
			nf.Process.Signal(os.Interrupt)
			<-nfExited
			files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
			if len(files) != 1 {
				t.Fatalf("nfcapd files: %v", files)
			}
			want := nfdumpRecords(t, nfdump, files[0])
			mu.Lock()
			defer mu.Unlock()
			d := netflow.New("fresh")
			var recs []record.Flow
			for _, g := range grams {
				var err error
				recs, err = d.Decode(netip.MustParseAddr("127.0.0.1"), g, recs)
				if err != nil {
					t.Errorf("datagram: %v", err)
				}
			}
			if d.Flush() != 0 {
				t.Errorf("data sets without templates")
			}
			var got []string
			for i := range recs {
				got = append(got, spotKey(&recs[i]))
			}
			if len(want) == 0 {
				t.Fatal("nfdump read no records")
			}
			if v == "9" {
				for i, k := range got {
					if strings.Contains(k, "|58|") {
						got[i] = dropField(k, 5)
					}
				}
				for i, k := range want {
					if strings.Contains(k, "|58|") {
						want[i] = dropField(k, 5)
					}
				}
				matchTimeZero(t, got, want)
			}
			compareKeys(t, got, want)
			t.Logf("v%s: %d datagrams, %d records", v, len(grams), len(recs))
		})
	}
}

// waitBound waits until something listens on UDP port 127.0.0.1:port.
// waitBound waits until nfcapd has bound port (a loaded machine may take
// seconds), failing with its output if it exits first or never binds.
func waitBound(t *testing.T, port int, nf *exec.Cmd, exited <-chan error, out *bytes.Buffer) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		l, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			time.Sleep(200 * time.Millisecond) // taken: give it a moment more to read
			return
		}
		l.Close()
		select {
		case err := <-exited:
			t.Fatalf("nfcapd exited before binding udp port %d (%v):\n%s", port, err, out.String())
		case <-deadline:
			nf.Process.Kill()
			<-exited // its output is complete
			t.Fatalf("nothing listens on udp port %d after 60 s; nfcapd said:\n%s", port, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
