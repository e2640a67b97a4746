package flow

import (
	"cmp"
	"context"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

// quietFrames hands out frames stamped with the wall clock, as a live
// capture does, then waits, as a quiet interface does, until end is
// closed.
type quietFrames struct {
	frames [][]byte
	next   int
	end    chan struct{}
}

func (q *quietFrames) ReadFrame() ([]byte, int64, int, error) {
	if q.next == len(q.frames) {
		<-q.end
		return nil, 0, 0, io.EOF
	}
	f := q.frames[q.next]
	q.next++
	return f, time.Now().UnixNano(), len(f), nil
}

func (q *quietFrames) Buffered() bool { return q.next < len(q.frames) }

// TestLiveFlowsEndWhenQuiet: on a live capture, flows end by the wall
// clock once their timeouts pass, while the interface stays quiet (no
// later packet moves time on), and are handed on then, Idle called after;
// they are the flows the same packets make when the capture ends, and none
// is written twice.
func TestLiveFlowsEndWhenQuiet(t *testing.T) {
	f, err := os.Open("../../../testdata/flow/conn-size.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := pcap.NewSource(f, "conn-size.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	link := pcap.LinkEthernet
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		frames, link = append(frames, slices.Clone(p.Data)), p.LinkType
	}
	o := Options{Assemble: AssembleOptions{IdleTimeout: 300 * time.Millisecond, FinTimeout: 200 * time.Millisecond}}
	decode := func(r pcap.FrameReader, o Options, emit func([]record.Flow) error) (Result, error) {
		return DecodePackets(context.Background(), pcap.NewFrameSource(r, link, "test"), "test", o, emit)
	}
	// What the packets make when the capture ends at once.
	ended := make(chan struct{})
	close(ended)
	var want []record.Flow
	if _, err := decode(&quietFrames{frames: frames, end: ended}, o, func(b []record.Flow) error {
		want = append(want, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) < 2 {
		t.Fatalf("%d flows from %d frames", len(want), len(frames))
	}

	var mu sync.Mutex
	var got []record.Flow
	var idle atomic.Int32
	o.Idle = func() error {
		idle.Add(1)
		return nil
	}
	q := &quietFrames{frames: frames, end: make(chan struct{})}
	var res Result
	done := make(chan error)
	go func() {
		var err error
		res, err = decode(q, o, func(b []record.Flow) error {
			mu.Lock()
			got = append(got, b...)
			mu.Unlock()
			return nil
		})
		done <- err
	}()
	n := 0
	for start := time.Now(); time.Since(start) < 10*time.Second && n < len(want); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n = len(got)
		mu.Unlock()
	}
	if n != len(want) || idle.Load() == 0 {
		t.Errorf("while the capture was quiet, %d of %d flows were handed on (Idle called %d times)", n, len(want), idle.Load())
	}
	close(q.end)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Records != int64(len(want)) || len(got) != len(want) {
		t.Fatalf("%d records (%d counted) in all, want %d", len(got), res.Records, len(want))
	}
	// The same flows: times and event ids (which hash the start) aside.
	key := func(rs []record.Flow) []record.Flow {
		out := make([]record.Flow, len(rs))
		for i, r := range rs {
			out[i] = record.Flow{SIP: r.SIP, DIP: r.DIP, SPort: r.SPort, DPort: r.DPort, Proto: r.Proto, Flag: r.Flag,
				IPkt: r.IPkt, IByt: r.IByt, OPkt: r.OPkt, OByt: r.OByt, Source: r.Source, Tunnel: r.Tunnel}
		}
		slices.SortFunc(out, func(x, y record.Flow) int {
			return cmp.Or(cmp.Compare(x.SIP, y.SIP), cmp.Compare(x.DIP, y.DIP), cmp.Compare(x.Proto, y.Proto),
				cmp.Compare(x.SPort, y.SPort), cmp.Compare(x.DPort, y.DPort), cmp.Compare(x.IPkt, y.IPkt))
		})
		return out
	}
	if g, w := key(got), key(want); !slices.Equal(g, w) {
		t.Errorf("flows ended by the wall clock differ from those ended by the capture's end:\n got %+v\nwant %+v", g, w)
	}
}
