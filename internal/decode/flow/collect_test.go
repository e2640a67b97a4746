package flow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// TestCollector sends real export datagrams to the collector over loopback,
// across an hour boundary (a fake clock), stops it, and reads back its
// partitions.
func TestCollector(t *testing.T) {
	dir := t.TempDir()
	files := []string{"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat", "alexa-app.softflowd-v5.pcap"}
	tpl, _ := os.ReadFile(filepath.Join("../../../testdata/flow", files[0]))
	data, _ := os.ReadFile(filepath.Join("../../../testdata/flow", files[1]))
	v5, _ := os.ReadFile("../../../testdata/flow/netflow5_test_invalid01.dat")
	if len(tpl) == 0 || len(data) == 0 || len(v5) == 0 {
		t.Fatal("fixtures missing")
	}
	var sent atomic.Int64
	clock := func() time.Time {
		// The first two datagrams in one hour, the rest in the next.
		if sent.Load() < 2 {
			return time.Date(2026, 1, 1, 13, 59, 59, 0, time.UTC)
		}
		return time.Date(2026, 1, 1, 14, 0, 1, 0, time.UTC)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	var st CollectStats
	var err error
	var unwritten atomic.Int64
	done := make(chan struct{})
	go func() {
		st, err = Collect(ctx, CollectOptions{Listen: "udp://127.0.0.1:0", Dir: dir, Now: clock, Ready: func(a net.Addr) { ready <- a }, Unwritten: &unwritten})
		close(done)
	}()
	addr := <-ready
	conn, derr := net.Dial("udp", addr.String())
	if derr != nil {
		t.Fatal(derr)
	}
	for i, b := range [][]byte{tpl, data, data, v5} {
		conn.Write(b)
		time.Sleep(100 * time.Millisecond)
		sent.Store(int64(i + 1))
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if st.Datagrams != 4 || st.Records != 28 || st.Malformed != 1 || st.Files != 2 {
		t.Fatalf("%+v", st)
	}
	if n := unwritten.Load(); n != 0 {
		t.Errorf("%d records counted as not written after a clean stop", n)
	}
	if st.KernelDrops != 0 {
		t.Errorf("kernel drops %d (want 0, read from /proc/net/udp)", st.KernelDrops)
	}
	for _, c := range []struct {
		hour string
		n    int
	}{{"h=13", 14}, {"h=14", 14}} {
		m, _ := filepath.Glob(filepath.Join(dir, "y=2026/m=01/d=01", c.hour, "*.parquet"))
		if len(m) != 1 {
			t.Fatalf("%s: %v", c.hour, m)
		}
		in, err := ioformat.Open(m[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ioformat.NewReader[record.Flow](in)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]record.Flow, 100)
		n, _ := r.Read(buf)
		r.Close()
		if n != c.n || buf[0].Source != "netflow9" || buf[0].RIP != "127.0.0.1" {
			t.Errorf("%s: %d records, first %+v", c.hour, n, buf[0])
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*/*/*/*/.*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestCollectorQueueMemory floods a collector whose decoder is stalled (its
// warning about a malformed datagram blocks): the datagrams waiting for the
// decoder must hold a few MiB whatever their size. A 64 KiB buffer for each
// one held 256 MiB once the 4096-deep queue was full.
func TestCollectorQueueMemory(t *testing.T) {
	bad, _ := os.ReadFile("../../../testdata/flow/netflow5_test_invalid01.dat")
	data, _ := os.ReadFile("../../../testdata/flow/netflow9_test_cisco_asa_1_data.dat")
	if len(bad) == 0 || len(data) == 0 {
		t.Fatal("fixtures missing")
	}
	big := make([]byte, 60000) // as large as UDP allows, nearly
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	for _, c := range []struct {
		gram  []byte
		count int
	}{{data, 3 * queueBytes / len(data)}, {big, 3 * queueBytes / len(big)}} {
		t.Run(fmt.Sprintf("%d-byte datagrams", len(c.gram)), func(t *testing.T) {
			var received atomic.Int64
			stalled, resume := make(chan struct{}), make(chan struct{})
			var once sync.Once
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan net.Addr, 1)
			done := make(chan error, 1)
			go func() {
				_, err := Collect(ctx, CollectOptions{Listen: "udp://127.0.0.1:0", Dir: t.TempDir(),
					Now:   func() time.Time { received.Add(1); return time.Now() },
					Ready: func(a net.Addr) { ready <- a },
					Warn:  func(netip.AddrPort, error) { once.Do(func() { close(stalled); <-resume }) },
				})
				done <- err
			}()
			defer func() { cancel(); <-done }()
			conn, err := net.Dial("udp", (<-ready).String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write(bad)
			<-stalled
			defer close(resume)
			var ms runtime.MemStats
			runtime.GC() // twice: pooled buffers survive one
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			// Sent in steps the reader keeps up with, so that the queue
			// rather than the kernel holds them.
			for i := range c.count {
				conn.Write(c.gram)
				if i%(64<<10/len(c.gram)+1) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			// Until the reader has taken all it will take.
			for n, still := received.Load(), 0; still < 20; still++ {
				time.Sleep(10 * time.Millisecond)
				if m := received.Load(); m != n {
					n, still = m, 0
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			held := int64(ms.HeapAlloc) - int64(base)
			t.Logf("%d datagrams received while the decoder was stalled; they hold %.1f MiB", received.Load()-1, float64(held)/(1<<20))
			if held > 2*queueBytes {
				t.Errorf("the stalled decoder's queue holds %.1f MiB (%d datagrams of %d bytes), over %d MiB",
					float64(held)/(1<<20), received.Load()-1, len(c.gram), 2*queueBytes>>20)
			}
		})
	}
}
