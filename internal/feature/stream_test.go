package feature

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// The streaming featurizers (spot featurize) against the per-record rules:
// every kept event's words in order, the (document, word) counts, each
// rejected row counted by reason and written out, batches never empty, and
// errors (read, write, cancel) returned.

// chunkReader hands out recs chunk at a time, then end (io.EOF when nil)
// with the last chunk.
type chunkReader[T any] struct {
	recs  []T
	chunk int
	end   error
}

func (r *chunkReader[T]) Read(buf []T) (int, error) {
	n := copy(buf[:min(len(buf), r.chunk)], r.recs)
	r.recs = r.recs[n:]
	if len(r.recs) == 0 {
		if r.end != nil {
			return n, r.end
		}
		return n, io.EOF
	}
	return n, nil
}

func (r *chunkReader[T]) Close() error { return nil }

type sliceWriter[T any] struct {
	got     []T
	batches []int
	fail    error
}

func (w *sliceWriter[T]) Write(recs []T) error {
	w.batches = append(w.batches, len(recs))
	if w.fail != nil {
		return w.fail
	}
	w.got = append(w.got, recs...)
	return nil
}

func (w *sliceWriter[T]) Close() error { return nil }
func (w *sliceWriter[T]) Abort()       {}

// cancelWriter cancels its context on its first batch.
type cancelWriter[T any] struct {
	sliceWriter[T]
	cancel func()
	n      int
}

func (w *cancelWriter[T]) Write(recs []T) error {
	w.n++
	w.cancel()
	return nil
}

func noEmptyBatch(t *testing.T, what string, batches []int) {
	t.Helper()
	for _, n := range batches {
		if n == 0 {
			t.Errorf("%s: an empty batch written (batches %v)", what, batches)
		}
	}
}

var errBoom = errors.New("boom")

func testFlows() (all, kept, rejected []record.Flow, reasons map[string]int64) {
	reasons = map[string]int64{}
	for i := range 40 {
		f := record.Flow{TReceived: "2016-01-01 00:00:00", TrHour: int32(i % 24), SIP: fmt.Sprintf("10.0.0.%d", i%3),
			DIP: fmt.Sprintf("10.0.1.%d", i%5), SPort: int32(1000 + 7*i), DPort: int32(53 + i%3), Proto: "UDP", IByt: int64(60 * i), IPkt: int64(i)}
		why := ""
		switch i % 9 {
		case 4:
			f.TrHour, why = 24, "trhour out of 0-23"
		case 7:
			f.SIP, why = "", "no sip"
		}
		all = append(all, f)
		if why != "" {
			rejected = append(rejected, f)
			reasons[why]++
		} else {
			kept = append(kept, f)
		}
	}
	return
}

func TestFeaturizeFlowsStream(t *testing.T) {
	all, kept, rejected, reasons := testFlows()
	w := &sliceWriter[record.FeaturizedFlow]{}
	rw := &sliceWriter[record.Flow]{}
	counts := NewCounter()
	rej := &Rejects[record.Flow]{W: rw}
	n, err := FeaturizeFlows(context.Background(), &chunkReader[record.Flow]{recs: all, chunk: 7}, w, counts, rej)
	if err != nil || n != int64(len(all)) {
		t.Fatalf("n %d, err %v; want %d", n, err, len(all))
	}
	var want []record.FeaturizedFlow
	wantCounts := map[[2]string]int64{}
	for _, f := range kept {
		src, dst := FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		want = append(want, record.FeaturizedFlow{Flow: f, SrcWord: src, DstWord: dst})
		wantCounts[[2]string{f.SIP, src}]++
		wantCounts[[2]string{f.DIP, dst}]++
	}
	if !reflect.DeepEqual(w.got, want) {
		t.Errorf("featurized flows differ from FlowWords (%d, want %d)", len(w.got), len(want))
	}
	noEmptyBatch(t, "flows", w.batches)
	checkCounts(t, counts, wantCounts)
	if rej.Count != int64(len(rejected)) || !reflect.DeepEqual(rej.Reasons, reasons) || !reflect.DeepEqual(rw.got, rejected) {
		t.Errorf("rejects %d %v (%d written); want %d %v", rej.Count, rej.Reasons, len(rw.got), len(rejected), reasons)
	}
	noEmptyBatch(t, "rejected flows", rw.batches)

	// counting alone, nothing kept of the rejects
	counts2 := NewCounter()
	if n, err := FeaturizeFlows(context.Background(), &chunkReader[record.Flow]{recs: all, chunk: 1024}, nil, counts2, nil); err != nil || n != int64(len(all)) {
		t.Errorf("counts only: %d, %v", n, err)
	}
	checkCounts(t, counts2, wantCounts)
	streamErrors(t, "flows", all, func(ctx context.Context, r ioformat.Reader[record.Flow], w ioformat.Writer[record.FeaturizedFlow], rej *Rejects[record.Flow]) error {
		_, err := FeaturizeFlows(ctx, r, w, nil, rej)
		return err
	})
}

// streamErrors: a read error, a write error, a rejects writer's error and
// a cancelled context each end the stream with that error.
func streamErrors[E, F any](t *testing.T, what string, all []E, run func(context.Context, ioformat.Reader[E], ioformat.Writer[F], *Rejects[E]) error) {
	t.Helper()
	ctx := context.Background()
	if err := run(ctx, &chunkReader[E]{recs: all, chunk: 5, end: errBoom}, &sliceWriter[F]{}, nil); err != errBoom {
		t.Errorf("%s, read error: %v", what, err)
	}
	if err := run(ctx, &chunkReader[E]{recs: all, chunk: 5}, &sliceWriter[F]{fail: errBoom}, nil); err != errBoom {
		t.Errorf("%s, write error: %v", what, err)
	}
	if err := run(ctx, &chunkReader[E]{recs: all, chunk: 5}, nil, &Rejects[E]{W: &sliceWriter[E]{fail: errBoom}}); err != errBoom {
		t.Errorf("%s, rejects write error: %v", what, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	w := &sliceWriter[F]{}
	if err := run(cancelled, &chunkReader[E]{recs: all, chunk: 5}, w, nil); err != context.Canceled || len(w.got) != 0 {
		t.Errorf("%s, cancelled: %v, %d written", what, err, len(w.got))
	}
}

func checkCounts(t *testing.T, c *Counter, want map[[2]string]int64) {
	t.Helper()
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Errorf("%d pairs, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if want[[2]string{r.Doc, r.Word}] != r.Count {
			t.Errorf("(%s, %s): %d, want %d", r.Doc, r.Word, r.Count, want[[2]string{r.Doc, r.Word}])
		}
		if i > 0 && (rows[i-1].Doc > r.Doc || rows[i-1].Doc == r.Doc && rows[i-1].Word >= r.Word) {
			t.Errorf("rows not sorted by document, then word: %v before %v", rows[i-1], r)
		}
	}
}

func TestFeaturizeDNSStream(t *testing.T) {
	f := New(record.KindDNS, Options{TopDomains: []string{"example"}})
	var all, kept, rejected []record.DNS
	reasons := map[string]int64{}
	for i := range 30 {
		r := record.DNS{FrameTime: fmt.Sprintf("Jul 13, 2016 %02d:45:03.123456000 UTC", i%24), FrameLen: int32(70 + 13*i),
			IPDst: fmt.Sprintf("10.0.0.%d", i%4), IPSrc: "10.0.9.9", QryName: fmt.Sprintf("h%d.sub%d.example.com", i, i%3), QryType: 1, Response: true, TsNs: int64(i + 1)}
		why := ""
		switch i % 7 {
		case 2:
			r.QryName, why = "", "no dns_qry_name"
		case 5:
			r.FrameTime, why = "Jul 13", "frame_time has no HH: in its 4th field (word_error)"
		}
		all = append(all, r)
		if why != "" {
			rejected, reasons[why] = append(rejected, r), reasons[why]+1
		} else {
			kept = append(kept, r)
		}
	}
	w := &sliceWriter[record.FeaturizedDNS]{}
	rw := &sliceWriter[record.DNS]{}
	counts := NewCounter()
	rej := &Rejects[record.DNS]{W: rw}
	n, err := f.FeaturizeDNS(context.Background(), &chunkReader[record.DNS]{recs: all, chunk: 4}, w, counts, rej)
	if err != nil || n != int64(len(all)) {
		t.Fatalf("n %d, err %v", n, err)
	}
	var want []record.FeaturizedDNS
	wantCounts := map[[2]string]int64{}
	for i := range kept {
		word := f.DNSWord(&kept[i])
		want = append(want, record.FeaturizedDNS{DNS: kept[i], Doc: kept[i].IPDst, Word: word})
		wantCounts[[2]string{kept[i].IPDst, word}]++
	}
	if !reflect.DeepEqual(w.got, want) {
		t.Errorf("featurized DNS differs from DNSWord (%d, want %d)", len(w.got), len(want))
	}
	noEmptyBatch(t, "dns", w.batches)
	checkCounts(t, counts, wantCounts)
	if rej.Count != int64(len(rejected)) || !reflect.DeepEqual(rej.Reasons, reasons) || !reflect.DeepEqual(rw.got, rejected) {
		t.Errorf("rejects %d %v; want %d %v", rej.Count, rej.Reasons, len(rejected), reasons)
	}
	counts2 := NewCounter()
	if _, err := f.FeaturizeDNS(context.Background(), &chunkReader[record.DNS]{recs: all, chunk: 1024}, nil, counts2, nil); err != nil {
		t.Error(err)
	}
	checkCounts(t, counts2, wantCounts)
	streamErrors(t, "dns", all, func(ctx context.Context, r ioformat.Reader[record.DNS], w ioformat.Writer[record.FeaturizedDNS], rej *Rejects[record.DNS]) error {
		_, err := f.FeaturizeDNS(ctx, r, w, nil, rej)
		return err
	})
}

// Proxy words need the user-agent counts of the lines kept (or a model's);
// lines are written in batches of ioformat.BatchSize; the first 10
// rejected lines are logged at debug level with their line number.
func TestFeaturizeProxyStream(t *testing.T) {
	var lines []record.Proxy
	agents := []string{"curl/8.0", "", "Mozilla/5.0", "curl/8.0"}
	for i := range 2*ioformat.BatchSize + 100 {
		p := record.Proxy{PDate: "2016-07-13", PTime: fmt.Sprintf("%02d:10:00", i%24), ClientIP: fmt.Sprintf("10.0.0.%d", i%7), Host: "www.example.com",
			FullURI: fmt.Sprintf("http://www.example.com/%d", i%11), ReqMethod: "GET", UserAgent: agents[i%4], RespCode: "200"}
		if i%100 == 3 {
			p.Host = "" // rejected: its agent is not counted
			p.UserAgent = "rare/1.0"
		}
		lines = append(lines, p)
	}
	ua := map[string]int64{}
	var kept, rejected []record.Proxy
	for _, p := range lines {
		if p.Host == "" {
			rejected = append(rejected, p)
			continue
		}
		kept = append(kept, p)
		a := p.UserAgent
		if a == "" {
			a = "-"
		}
		ua[a]++
	}
	if got := UserAgentCounts(lines); !reflect.DeepEqual(got, ua) {
		t.Errorf("UserAgentCounts %v, want %v", got, ua)
	}
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	for _, model := range []map[string]int64{nil, {"curl/8.0": 1000, "-": 2}} {
		f := New(record.KindProxy, Options{UserAgents: model})
		counts := ua
		if model != nil {
			counts = model
		}
		w := &sliceWriter[record.FeaturizedProxy]{}
		rw := &sliceWriter[record.Proxy]{}
		c := NewCounter()
		rej := &Rejects[record.Proxy]{W: rw}
		logs.Reset()
		if err := f.FeaturizeProxy(context.Background(), lines, w, c, rej); err != nil {
			t.Fatal(err)
		}
		var want []record.FeaturizedProxy
		wantCounts := map[[2]string]int64{}
		for i := range kept {
			word := f.ProxyWord(&kept[i], counts[ProxyAgent(&kept[i])])
			want = append(want, record.FeaturizedProxy{Proxy: kept[i], Doc: kept[i].ClientIP, Word: word})
			wantCounts[[2]string{kept[i].ClientIP, word}]++
		}
		if !reflect.DeepEqual(w.got, want) {
			t.Errorf("model %v: featurized lines differ from ProxyWord", model)
		}
		noEmptyBatch(t, "proxy", w.batches)
		if max := (len(lines)+ioformat.BatchSize-1)/ioformat.BatchSize + 1; len(w.batches) > max {
			t.Errorf("%d batches written, want at most %d", len(w.batches), max)
		}
		checkCounts(t, c, wantCounts)
		if rej.Count != int64(len(rejected)) || rej.Reasons["no host"] != int64(len(rejected)) || !reflect.DeepEqual(rw.got, rejected) {
			t.Errorf("rejects %d %v", rej.Count, rej.Reasons)
		}
		// lines 4, 104, ...: the first ten are logged, by line number
		logged := strings.Count(logs.String(), "row rejected")
		if logged != 10 || !strings.Contains(logs.String(), "row=4 ") || !strings.Contains(logs.String(), "row=904 ") || strings.Contains(logs.String(), "row=1004 ") {
			t.Errorf("%d rejected rows logged, want rows 4 to 904:\n%s", logged, logs.String())
		}
	}
	f := New(record.KindProxy, Options{})
	if err := f.FeaturizeProxy(context.Background(), lines, nil, nil, nil); err != nil {
		t.Error(err)
	}
	if err := f.FeaturizeProxy(context.Background(), lines, &sliceWriter[record.FeaturizedProxy]{fail: errBoom}, nil, nil); err != errBoom {
		t.Errorf("write error: %v", err)
	}
	if err := f.FeaturizeProxy(context.Background(), lines, nil, nil, &Rejects[record.Proxy]{W: &sliceWriter[record.Proxy]{fail: errBoom}}); err != errBoom {
		t.Errorf("rejects write error: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.FeaturizeProxy(cancelled, lines, nil, nil, nil); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
	// cancelled while it runs (by its first batch): it stops at the next
	// check, every ioformat.BatchSize lines
	midway, stop := context.WithCancel(context.Background())
	defer stop()
	w := &cancelWriter[record.FeaturizedProxy]{cancel: stop}
	if err := f.FeaturizeProxy(midway, lines, w, nil, nil); err != context.Canceled || w.n != 1 {
		t.Errorf("cancelled midway: %v after %d batches, want context.Canceled after 1", err, w.n)
	}
	// no lines: nothing written, not even an empty batch
	empty := &sliceWriter[record.FeaturizedProxy]{}
	if err := f.FeaturizeProxy(context.Background(), nil, empty, nil, nil); err != nil || len(empty.batches) != 0 {
		t.Errorf("no lines: %v, batches %v", err, empty.batches)
	}

	got, err := ReadAllProxy(context.Background(), &chunkReader[record.Proxy]{recs: lines, chunk: 300})
	if err != nil || !reflect.DeepEqual(got, lines) {
		t.Errorf("ReadAllProxy: %d lines, %v", len(got), err)
	}
	if _, err := ReadAllProxy(context.Background(), &chunkReader[record.Proxy]{recs: lines, chunk: 300, end: errBoom}); err != errBoom {
		t.Errorf("ReadAllProxy, read error: %v", err)
	}
	if _, err := ReadAllProxy(cancelled, &chunkReader[record.Proxy]{recs: lines, chunk: 300}); err != context.Canceled {
		t.Errorf("ReadAllProxy, cancelled: %v", err)
	}
}

// The rejects' warning: none for no rows; the reasons and the hint said.
func TestLogRejects(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	LogRejects(record.KindFlow, 0, nil, HintFeaturize)
	if logs.Len() != 0 {
		t.Errorf("no rejected rows, yet: %s", logs.String())
	}
	(&Rejects[record.Flow]{Count: 3, Reasons: map[string]int64{"no sip": 2, "negative port": 1}}).Log(record.KindFlow, HintRejectsFlag)
	got := logs.String()
	if !strings.Contains(got, "rows Apache Spot would reject were left out (--rejects FILE writes them out)") ||
		!strings.Contains(got, `rows=3 "negative port"=1 "no sip"=2`) {
		t.Errorf("warning: %s", got)
	}
	logs.Reset()
	LogRejects(record.KindDNS, 1, map[string]int64{"no dip": 1}, "")
	if got := logs.String(); !strings.Contains(got, `msg="rows Apache Spot would reject were left out" `) {
		t.Errorf("warning without hint: %s", got)
	}
	var nilRejects *Rejects[record.Flow]
	nilRejects.Log(record.KindFlow, "") // counts nothing, says nothing
}

// The ID methods and Add count into one pair.
func TestCounterIDsAndAdd(t *testing.T) {
	c := NewCounter()
	c.Add("h", "w", 2)
	c.AddID(c.DocID("h"), c.WordID("w"), 3)
	if rows, err := c.Rows(); err != nil || len(rows) != 1 || rows[0].Count != 5 {
		t.Errorf("rows %v (%v), want (h, w, 5)", rows, err)
	}
}
