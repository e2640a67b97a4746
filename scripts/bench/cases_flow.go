package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spot-hunt/spot/internal/decode/netflow"
	"github.com/spot-hunt/spot/internal/decode/pcap"
)

// flowCases: NetFlow v5/v9/IPFIX decode against nfdump reading the same
// flows from an nfcapd file, and nfdump CSV parsing.
//
// Inputs are built from the corpus's softflowd export captures (real
// datagrams of real traffic): their datagrams are repeated until there are
// n records, written as a capture (UDP to 2055), and sent once over loopback
// to nfcapd, whose file is what nfdump reads.
func flowCases(env *Env) []Case {
	n := 2_000_000
	if env.Small {
		n = 200_000
	}
	var cases []Case
	for _, v := range []struct{ name, file string }{
		{"NetFlow v5", "gnutella.softflowd-v5.pcap"},
		{"NetFlow v9", "gnutella.softflowd-v9.pcap"},
		{"IPFIX", "gnutella.softflowd-v10.pcap"},
	} {
		base := filepath.Join(env.Dir, fmt.Sprintf("%s-%d", strings.TrimSuffix(v.file, ".pcap"), n))
		capture, nfcapd := base+".pcap", base+".nfcapd"
		src := filepath.Join(env.Corpus, "netflow/generated", v.file)
		setup := func() error {
			if !exists(capture) || !exists(nfcapd) {
				if err := buildExports(src, capture, nfcapd, n); err != nil {
					return err
				}
			}
			return nil
		}
		cases = append(cases,
			Case{Name: fmt.Sprintf("%s decode %s -> Parquet", v.name, si(float64(n))), Items: float64(n), Unit: "records", Setup: setup,
				Ours:     fmt.Sprintf("$SPOT decode flow %s -o $BENCH_DIR/flows-out.parquet", capture),
				Peer:     fmt.Sprintf("TZ=UTC nfdump -r %s -o csv > /dev/null", nfcapd),
				PeerName: "nfdump -o csv"},
			Case{Name: fmt.Sprintf("%s decode %s -> NDJSON", v.name, si(float64(n))), Items: float64(n), Unit: "records", Setup: setup,
				Ours: fmt.Sprintf("$SPOT decode flow %s > /dev/null", capture)},
		)
	}
	// nfdump CSV, as nfdump writes it from the v9 flows.
	v9 := filepath.Join(env.Dir, fmt.Sprintf("gnutella.softflowd-v9-%d.nfcapd", n))
	csv := filepath.Join(env.Dir, fmt.Sprintf("flows-%d.nfdump.csv", n))
	setupCSV := func() error {
		if exists(csv) {
			return nil
		}
		if !exists(v9) {
			return fmt.Errorf("%s missing (run the NetFlow v9 cases first)", v9)
		}
		return shell(fmt.Sprintf("TZ=UTC nfdump -r %s -o csv > %s.tmp && mv %s.tmp %s", v9, csv, csv, csv))
	}
	cases = append(cases,
		Case{Name: fmt.Sprintf("nfdump CSV %s -> Parquet", si(float64(n))), Items: float64(n), Unit: "rows", Setup: setupCSV,
			Ours: fmt.Sprintf("$SPOT decode flow %s -o $BENCH_DIR/csv-out.parquet", csv)},
		Case{Name: fmt.Sprintf("nfdump CSV %s -> NDJSON", si(float64(n))), Items: float64(n), Unit: "rows", Setup: setupCSV,
			Ours: fmt.Sprintf("$SPOT decode flow %s > /dev/null", csv)},
	)
	// Flow assembly from packets against nfpcapd on the same capture: a
	// real desktop capture (brimcap's alerts.pcap, 2000 packets) repeated
	// with its copies 120 s apart (beyond the idle timeout: new flows).
	copies := 1000
	if env.Small {
		copies = 100
	}
	big := filepath.Join(env.Dir, fmt.Sprintf("alerts-x%d.pcap", copies))
	nfdir := filepath.Join(env.Dir, "nfpcapd-out")
	cases = append(cases, Case{
		Name: fmt.Sprintf("flows from packets %s -> Parquet", si(float64(2000*copies))), Items: float64(2000 * copies), Unit: "packets",
		Setup: func() error {
			if exists(big) {
				return nil
			}
			return repeatCapture(filepath.Join(env.Corpus, "flows/brimcap/alerts.pcap"), big, copies, 120*time.Second)
		},
		Ours:     fmt.Sprintf("$SPOT decode flow --from packets %s -o $BENCH_DIR/asm-out.parquet", big),
		Peer:     fmt.Sprintf("rm -rf %s && mkdir -p %s && nfpcapd -r %s -w %s >/dev/null 2>&1", nfdir, nfdir, big, nfdir),
		PeerName: "nfpcapd",
	})
	// The same packets as pcapng, dumpcap's and Wireshark's format
	// (editcap, of tshark's Debian package, converts them).
	bigNg := big + "ng"
	cases = append(cases, Case{
		Name: fmt.Sprintf("flows from packets %s (pcapng) -> Parquet", si(float64(2000*copies))), Items: float64(2000 * copies), Unit: "packets",
		Setup: func() error {
			if exists(bigNg) {
				return nil
			}
			return shell(fmt.Sprintf("editcap -F pcapng %s %s.tmp && mv %s.tmp %s", big, bigNg, bigNg, bigNg))
		},
		Ours:     fmt.Sprintf("$SPOT decode flow --from packets %s -o $BENCH_DIR/asm-out.parquet", bigNg),
		Peer:     fmt.Sprintf("rm -rf %s && mkdir -p %s && nfpcapd -r %s -w %s >/dev/null 2>&1", nfdir, nfdir, bigNg, nfdir),
		PeerName: "nfpcapd",
	})
	// The collector at 100k records/s on loopback for 10 s, from a bounded
	// generator (softflowd's v5 datagrams, paced): the row fails unless every
	// record sent was written.
	rate, secs := 100_000, 10
	gen := filepath.Join(filepath.Dir(os.Args[0]), "netflow_gen.py")
	if !exists(gen) {
		gen = "scripts/bench/netflow_gen.py"
	}
	v5cap := filepath.Join(env.Corpus, "netflow/generated/gnutella.softflowd-v5.pcap")
	cases = append(cases, Case{
		Name: fmt.Sprintf("collector %dk records/s x %ds (zero loss)", rate/1000, secs), Items: float64(rate * secs), Unit: "records",
		Ours: fmt.Sprintf(`d=$BENCH_DIR/collector; rm -rf $d; port=$((20000 + RANDOM %% 20000))
$SPOT decode flow --listen udp://127.0.0.1:$port -o $d 2>$BENCH_DIR/collector.log & pid=$!
sleep 0.5
sent=$(python3 %s %s 127.0.0.1:$port %d %d)
sleep 1; kill -TERM $pid; wait $pid || true
got=$($SPOT filter $d/y=*/m=*/d=*/h=*/*.parquet | wc -l)
[ "$sent" = "$got" ] || { echo "collector: sent $sent records, wrote $got" >&2; cat $BENCH_DIR/collector.log >&2; exit 1; }`, gen, v5cap, rate, secs),
	})
	return cases
}

// repeatCapture writes copies of a classic pcap's records, each copy's
// timestamps shifted by gap more than the last.
func repeatCapture(src, dst string, copies int, gap time.Duration) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		return fmt.Errorf("%s: not a little-endian microsecond pcap", src)
	}
	f, err := os.Create(dst + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(b[:24])
	recs := b[24:]
	for c := 0; c < copies; c++ {
		shift := uint32(time.Duration(c) * gap / time.Second)
		for r := recs; len(r) >= 16; {
			n := int(binary.LittleEndian.Uint32(r[8:]))
			if 16+n > len(r) {
				break
			}
			var h [16]byte
			copy(h[:], r[:16])
			binary.LittleEndian.PutUint32(h[0:], binary.LittleEndian.Uint32(h[0:])+shift)
			w.Write(h[:])
			w.Write(r[16 : 16+n])
			r = r[16+n:]
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	return os.Rename(dst+".tmp", dst)
}

func shell(cmd string) error {
	c := exec.Command("bash", "-o", "pipefail", "-c", cmd)
	c.Stderr = os.Stderr
	return c.Run()
}

// buildExports repeats the export datagrams of src until they carry n
// records, writes them as a capture, and has nfcapd collect them once.
func buildExports(src, capture, nfcapd string, n int) error {
	s, err := pcap.Open(src, nil)
	if err != nil {
		return err
	}
	var grams [][]byte
	records := 0
	dec := netflow.New("bench")
	for {
		p, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP {
			grams = append(grams, append([]byte(nil), p.Payload...))
			out, _ := dec.Decode(p.Src, p.Payload, nil)
			records += len(out)
		}
	}
	s.Close()
	if records == 0 {
		return fmt.Errorf("%s: no export records", src)
	}
	var stream [][]byte
	for total := 0; total < n; total += records {
		stream = append(stream, grams...)
	}
	// The capture.
	f, err := os.Create(capture + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	w.Write(hdr)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, g := range stream {
		frame := udpFrame(g)
		rec := make([]byte, 16)
		t := ts.Add(time.Duration(i) * time.Millisecond)
		binary.LittleEndian.PutUint32(rec[0:], uint32(t.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(t.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		w.Write(rec)
		w.Write(frame)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	// nfcapd collects the same datagrams over loopback.
	dir, err := os.MkdirTemp(filepath.Dir(capture), "nfcapd")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	cmd := exec.Command("nfcapd", "-b", "127.0.0.1", "-p", fmt.Sprint(port), "-w", dir, "-t", "3600")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond)
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		cmd.Process.Kill()
		return err
	}
	for i, g := range stream {
		conn.Write(g)
		if i%50 == 49 {
			time.Sleep(2 * time.Millisecond) // stay below the socket buffer
		}
	}
	conn.Close()
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	if len(files) == 0 {
		return errors.New("nfcapd wrote no file")
	}
	if err := os.Rename(files[0], nfcapd); err != nil {
		return err
	}
	return os.Rename(capture+".tmp", capture)
}

func udpFrame(payload []byte) []byte {
	b := make([]byte, 14+20+8+len(payload))
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 2055)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(udp[8:], payload)
	return b
}
