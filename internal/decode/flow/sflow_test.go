package flow

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// sflowGrams reads the sFlow datagrams pmacct's sfprobe exported from
// nDPI's gnutella.pcap at 1 in 10 (testdata/flow/sflow): 56 datagrams, 393
// flow samples, 3 counter samples.
func sflowGrams(t *testing.T) [][]byte {
	src, err := pcap.Open("../../../testdata/flow/sflow/gnutella.sfprobe-r10.pcap", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var grams [][]byte
	for {
		p, err := src.Next()
		if err == io.EOF {
			return grams
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP {
			grams = append(grams, append([]byte(nil), p.Payload...))
		}
	}
}

func flowKeys(recs []record.Flow) map[string]int {
	m := map[string]int{}
	for i := range recs {
		f := recs[i]
		f.TReceived, f.UnixTstamp, f.TrYear, f.TrMonth, f.TrDay, f.TrHour, f.TrMinute, f.TrSec = "", 0, 0, 0, 0, 0, 0, 0
		f.TStartNs, f.TEndNs, f.EID, f.RIP = 0, 0, 0, ""
		m[spotKey(&f)+"|"+f.Source]++
	}
	return m
}

// TestSFlowInputs: the same sFlow datagrams decode to the same records
// from a capture (to a port given by --ports), from a file of raw
// datagrams, and through the collector.
func TestSFlowInputs(t *testing.T) {
	grams := sflowGrams(t)
	capture, res := decodeFile(t, "../../../testdata/flow/sflow/gnutella.sfprobe-r10.pcap", Options{Ports: []int{16344}})
	if len(capture) != 393 || res.SFlow.CounterSamples != 3 || res.Skipped != 0 || res.Kind != "exports" {
		t.Fatalf("capture: %d records, %+v", len(capture), res)
	}
	for _, r := range capture {
		if r.Sampling != 10 || r.Source != "sflow" || r.RIP != "127.0.0.1" || r.IPkt != 10 || r.TStartNs == 0 {
			t.Fatalf("record %+v", r)
		}
	}
	want := flowKeys(capture)

	// Raw datagrams back to back, as "nc -u -l > file" writes them.
	raw := filepath.Join(t.TempDir(), "sflow.dat")
	var all []byte
	for _, g := range grams {
		all = append(all, g...)
	}
	writeFile(t, raw, all)
	fromRaw, res := decodeFile(t, raw, Options{})
	if res.Kind != "datagrams" || res.Skipped != 0 {
		t.Fatalf("raw datagrams: %+v", res)
	}
	same(t, "raw datagrams", flowKeys(fromRaw), want)

	// The collector.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	var st CollectStats
	var err error
	done := make(chan struct{})
	go func() {
		st, err = Collect(ctx, CollectOptions{Listen: "udp://127.0.0.1:0", Dir: dir, Ready: func(a net.Addr) { ready <- a }})
		close(done)
	}()
	conn, derr := net.Dial("udp", (<-ready).String())
	if derr != nil {
		t.Fatal(derr)
	}
	for _, g := range grams {
		conn.Write(g)
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if st.Datagrams != 56 || st.Records != 393 || st.SFlow.CounterSamples != 3 || st.Malformed != 0 {
		t.Fatalf("collector: %+v", st)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "y=*/m=*/d=*/h=*/*.parquet"))
	var collected []record.Flow
	for _, f := range m {
		in, err := ioformat.Open(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ioformat.NewReader[record.Flow](in)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]record.Flow, 1000)
		n, _ := r.Read(buf)
		r.Close()
		collected = append(collected, buf[:n]...)
	}
	same(t, "collector", flowKeys(collected), want)
}

func same(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	n := 0
	for k, c := range want {
		if got[k] != c {
			t.Errorf("%s: %q %d times, from the capture %d", what, k, got[k], c)
			if n++; n > 5 {
				return
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d distinct records, from the capture %d", what, len(got), len(want))
	}
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSFlowByContent: sFlow datagrams to a port outside the --ports (pmacct's
// sfprobe sent these to 16343-16346) are found by their content and decoded
// as they are with the port named, not as UDP flows from agent to collector
// (#20 item 2).
func TestSFlowByContent(t *testing.T) {
	for name, port := range map[string]int{
		"http_ipv6.sfprobe-r1.pcap":  16343,
		"gnutella.sfprobe-r10.pcap":  16344,
		"6in4tunnel.sfprobe-r1.pcap": 16345,
		"synscan.sfprobe-r4.pcap":    16346,
	} {
		t.Run(name, func(t *testing.T) {
			pcap := "../../../testdata/flow/sflow/" + name
			named, _ := decodeFile(t, pcap, Options{Ports: []int{port}})
			if len(named) == 0 {
				t.Fatal("no records with the port named")
			}
			sameByContent(t, pcap, named, port)
		})
	}
}
