package columnar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// dictFlow is record.Flow with dictionary-encoded string columns, as files
// written by other tools (and later spot versions) have them.
type dictFlow struct {
	TReceived  string  `parquet:"treceived,dict"`
	UnixTstamp int64   `parquet:"unix_tstamp"`
	TrYear     int32   `parquet:"tryear"`
	TrMonth    int32   `parquet:"trmonth"`
	TrDay      int32   `parquet:"trday"`
	TrHour     int32   `parquet:"trhour"`
	TrMinute   int32   `parquet:"trminute"`
	TrSec      int32   `parquet:"trsec"`
	TDur       float32 `parquet:"tdur"`
	SIP        string  `parquet:"sip,dict"`
	DIP        string  `parquet:"dip"`
	SPort      int32   `parquet:"sport"`
	DPort      int32   `parquet:"dport"`
	Proto      string  `parquet:"proto,dict"`
	Flag       string  `parquet:"flag"`
	Fwd        int32   `parquet:"fwd"`
	STos       int32   `parquet:"stos"`
	IPkt       int64   `parquet:"ipkt"`
	IByt       int64   `parquet:"ibyt"`
	OPkt       int64   `parquet:"opkt"`
	OByt       int64   `parquet:"obyt"`
	Input      int32   `parquet:"input"`
	Output     int32   `parquet:"output"`
	SAS        int32   `parquet:"sas"`
	DAS        int32   `parquet:"das"`
	DTos       int32   `parquet:"dtos"`
	Dir        int32   `parquet:"dir"`
	RIP        string  `parquet:"rip"`
	TStartNs   int64   `parquet:"tstart_ns"`
	TEndNs     int64   `parquet:"tend_ns"`
	Sampling   int32   `parquet:"sampling"`
	Source     string  `parquet:"source"`
	Tunnel     string  `parquet:"tunnel"`
	EID        int64   `parquet:"eid"`
}

func testFlows(n int, seed uint64) []record.Flow {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]record.Flow, n)
	for i := range out {
		f := record.Flow{TReceived: "2026-01-02 03:04:05", TrHour: int32(r.IntN(24)), TrMinute: int32(r.IntN(60)), TrSec: int32(r.IntN(60)),
			SIP: fmt.Sprintf("10.0.0.%d", r.IntN(20)), DIP: fmt.Sprintf("192.168.%d.%d", r.IntN(3), r.IntN(30)),
			SPort: int32(r.IntN(70000) - 1000), DPort: []int32{0, 53, 80, 443, 8080, 50000}[r.IntN(6)],
			Proto: []string{"TCP", "UDP", "ICMP"}[r.IntN(3)], IPkt: int64(r.IntN(100)), IByt: int64(r.IntN(100000)), EID: int64(i)}
		if f.SPort < 0 && r.IntN(2) == 0 {
			f.SPort = -f.SPort // most negative ports become valid; the rest are rejected rows
		}
		if i%97 == 5 {
			f.TrMinute = 61 // rejected
		}
		if i%101 == 7 {
			f.DIP = "" // rejected
		}
		out[i] = f
	}
	return out
}

func toDict(fs []record.Flow) []dictFlow {
	out := make([]dictFlow, len(fs))
	for i, f := range fs {
		out[i] = dictFlow{TReceived: f.TReceived, TrHour: f.TrHour, TrMinute: f.TrMinute, TrSec: f.TrSec, SIP: f.SIP, DIP: f.DIP,
			SPort: f.SPort, DPort: f.DPort, Proto: f.Proto, IPkt: f.IPkt, IByt: f.IByt, EID: f.EID}
	}
	return out
}

func writeParquet[T any](t *testing.T, rows []T, rowGroup int64, opts ...parquet.WriterOption) *parquet.File {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, append([]parquet.WriterOption{parquet.MaxRowsPerRowGroup(rowGroup)}, opts...)...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

func TestFlowsMatchRowPath(t *testing.T) {
	flows := testFlows(5000, 1)
	clean := testFlows(2500, 2) // row groups of 1000, 1000 and 500: constant columns of two lengths
	for i := range clean {      // a file whose row groups have no rejected rows: copied chunks
		clean[i].TrMinute, clean[i].DIP = 1, "192.168.9.9"
		if clean[i].SPort < 0 {
			clean[i].SPort = 7
		}
	}
	m := testModel(t, flows)
	for _, method := range lda.Methods {
		sc, err := lda.NewScorer(m, method, lda.UnseenMean)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ dict, snappy bool }{{false, true}, {true, true}, {true, false}} {
			dict := c.dict
			var opts []parquet.WriterOption
			if c.snappy { // as spot writes: clean row groups are copied; other codecs are re-encoded
				opts = append(opts, parquet.Compression(&parquet.Snappy))
			}
			var files []*parquet.File
			if dict {
				files = []*parquet.File{writeParquet(t, toDict(flows), 700, opts...), writeParquet(t, toDict(clean), 1000, opts...)}
			} else {
				files = []*parquet.File{writeParquet(t, flows, 700, opts...), writeParquet(t, clean, 1000, opts...)}
			}
			full := parquet.SchemaOf(new(record.ScoredFlow))
			p, ok := Flows(files, full)
			if !ok {
				t.Fatal("no columnar plan")
			}
			var out bytes.Buffer
			run := &Runner{Scorer: sc, Method: string(method), Workers: 3, Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta())}
			st, err := run.Run(context.Background(), files, p, full, ExtraSchema(full), &out)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll[record.ScoredFlow](t, out.Bytes())
			var want []record.ScoredFlow
			var knownWords, knownHosts int64
			for _, f := range append(append([]record.Flow{}, flows...), clean...) {
				if feature.FlowReject(&f) != "" {
					continue
				}
				sw, dw := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
				if sc.Word(sw) >= 0 && sc.Word(dw) >= 0 {
					knownWords++
				}
				if sc.Doc(f.SIP) >= 0 || sc.Doc(f.DIP) >= 0 {
					knownHosts++
				}
				src, dst, low := sc.Flow(f.SIP, sw, f.DIP, dw)
				want = append(want, record.ScoredFlow{FeaturizedFlow: record.FeaturizedFlow{Flow: f, SrcWord: sw, DstWord: dw},
					SrcScore: src.Score, DstScore: dst.Score,
					Explanation: record.Explanation{Score: low.Score, LDAScore: low.Score, Method: string(method), TopTopic: low.TopTopic, TopTopicWeight: low.TopTopicWeight}})
			}
			if wantCopied := map[bool]int{true: 3, false: 0}[c.snappy]; st.Copied != wantCopied {
				t.Errorf("%s %+v: %d row groups copied, want %d", method, c, st.Copied, wantCopied)
			}
			if int(st.Rows) != len(want) || len(got) != len(want) || st.Rejected == 0 {
				t.Fatalf("%s dict=%v: rows %d (stats %d, rejected %d), want %d", method, dict, len(got), st.Rows, st.Rejected, len(want))
			}
			// what the model knew (#20 item 7): the clean file's words are
			// partly unseen, its destination host wholly
			if st.KnownWords != knownWords || st.KnownHosts != knownHosts || knownWords == int64(len(want)) || knownWords == 0 {
				t.Errorf("%s dict=%v: rows with known words %d, hosts %d; want %d, %d (of %d)", method, dict, st.KnownWords, st.KnownHosts, knownWords, knownHosts, len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s dict=%v: row %d:\n got %+v\nwant %+v", method, dict, i, got[i], want[i])
				}
			}
		}
	}
}

// testModel is a model of 3 random topics over the words of flows.
func testModel(t *testing.T, flows []record.Flow) *lda.Model {
	c := feature.NewCounter()
	for _, f := range flows {
		if feature.FlowReject(&f) == "" {
			s, d := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			c.Add(f.SIP, s, 1)
			c.Add(f.DIP, d, 1)
		}
	}
	docs, words := map[string]int{}, map[string]int{}
	var m lda.Model
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if _, ok := docs[row.Doc]; !ok {
			docs[row.Doc] = len(m.Docs)
			m.Docs = append(m.Docs, row.Doc)
		}
		if _, ok := words[row.Word]; !ok {
			words[row.Word] = len(m.Words)
			m.Words = append(m.Words, row.Word)
		}
	}
	const k = 3
	r := rand.New(rand.NewPCG(3, 3))
	for range m.Docs {
		th := []float32{r.Float32(), r.Float32(), r.Float32()}
		s := th[0] + th[1] + th[2]
		m.DocTopic = append(m.DocTopic, []float32{th[0] / s, th[1] / s, th[2] / s})
	}
	for t := 0; t < k; t++ {
		row := make([]float32, len(m.Words))
		for w := range row {
			row[w] = r.Float32()
		}
		m.TopicWord = append(m.TopicWord, row)
	}
	return &m
}

// TestFlowKeyTimes: with Times, Fuse is told each row's span as
// detect.FromFlow reads it (nanosecond times, else the second and the
// duration).
func TestFlowKeyTimes(t *testing.T) {
	flows := testFlows(3000, 4)
	for i := range flows {
		f := &flows[i]
		switch i % 3 {
		case 0: // Spot's CSV: no nanosecond times
			f.UnixTstamp, f.TDur = 1_700_000_000+int64(i), float32(i%7)*0.25
		case 1:
			f.TStartNs, f.TEndNs = 1_700_000_000e9+int64(i)*1e6, 1_700_000_000e9+int64(i)*1e6+int64(i%5)*3e8
		case 2: // an end before the start
			f.TStartNs, f.TEndNs = 1_700_000_000e9+int64(i)*1e6, 1_600_000_000e9
		}
	}
	sc, err := lda.NewScorer(testModel(t, flows), lda.Spot, lda.UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	files := []*parquet.File{writeParquet(t, flows, 700)}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows(files, full)
	if !ok || !p.Times() {
		t.Fatalf("plan %v, times %v", ok, p != nil && p.Times())
	}
	var mu sync.Mutex
	got := map[string]int{}
	run := &Runner{Scorer: sc, Method: "fused", Workers: 3, Times: true, Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta()),
		Fuse: func(k FlowKey, lda float64) (float64, *detect.Verdict) {
			mu.Lock()
			got[fmt.Sprint(k)]++
			mu.Unlock()
			return lda, nil
		}}
	if _, err := run.Run(context.Background(), files, p, full, ExtraSchema(full), io.Discard); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, f := range flows {
		if feature.FlowReject(&f) == "" {
			d := detect.FromFlow(&f)
			want[fmt.Sprint(FlowKey{f.SIP, f.DIP, f.SPort, f.DPort, f.Proto, d.TsNs, d.EndNs})]++
		}
	}
	if !maps.Equal(got, want) || len(want) < 1000 {
		t.Errorf("%d keys told, want %d", len(got), len(want))
	}
}

func readAll[T any](t *testing.T, b []byte) []T {
	r := parquet.NewGenericReader[T](bytes.NewReader(b))
	defer r.Close()
	var out []T
	buf := make([]T, 256)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCountFlowsProgress (#20 item 5): CountFlows tells its progress callback
// of every row read, rejected ones too, a row group at a time.
func TestCountFlowsProgress(t *testing.T) {
	flows := testFlows(5000, 1)
	files := []*parquet.File{writeParquet(t, flows, 700), writeParquet(t, flows[:1234], 1000)}
	p, ok := CountPlan(files)
	if !ok {
		t.Fatal("no count plan")
	}
	calls, rows := 0, 0
	st, err := CountFlows(context.Background(), files, nil, p, feature.NewCounter(), 3, func(n int) { calls++; rows += n })
	if err != nil {
		t.Fatal(err)
	}
	if want := len(flows) + 1234; rows != want || st.Rows+st.Rejected != int64(want) || calls != 8+2 {
		t.Errorf("progress told of %d rows in %d calls, stats %d rows and %d rejected; want %d rows in %d calls (row groups)", rows, calls, st.Rows, st.Rejected, want, 10)
	}
}

// TestCountFlowsSpills: CountFlows gives the counts of the row path's
// words whether its workers' counters spill runs to disk or not, for
// addresses short and long.
func TestCountFlowsSpills(t *testing.T) {
	flows := testFlows(6000, 4)
	for i := range flows { // addresses too long for docID's table, beside those in it
		if i%7 == 0 {
			flows[i].SIP = fmt.Sprintf("2001:db8:%x::8a2e:370:7334", 0xa0+i%5) // the same first and last 8 bytes
		}
	}
	files := []*parquet.File{writeParquet(t, flows[:4000], 300), writeParquet(t, flows[4000:], 1000)}
	want := feature.NewCounterLimit(0)
	for _, f := range flows {
		if feature.FlowReject(&f) == "" {
			s, d := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			want.Add(f.SIP, s, 1)
			want.Add(f.DIP, d, 1)
		}
	}
	wantRows, err := want.Rows()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := CountPlan(files)
	if !ok {
		t.Fatal("no count plan")
	}
	for _, limit := range []int{0, 30, 900} {
		c := feature.NewCounterLimit(limit)
		if _, err := CountFlows(context.Background(), files, nil, p, c, 3, nil); err != nil {
			t.Fatal(err)
		}
		got, err := c.Rows()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(wantRows) {
			t.Fatalf("limit %d: %d rows, want %d", limit, len(got), len(wantRows))
		}
		for i := range got {
			if got[i] != wantRows[i] {
				t.Fatalf("limit %d: row %d is %+v, want %+v", limit, i, got[i], wantRows[i])
			}
		}
		if spilled := c.Spills() > 0; spilled != (limit > 0 && limit < len(wantRows)) {
			t.Errorf("limit %d: %d spills for %d pairs", limit, c.Spills(), len(wantRows))
		}
		c.Close()
	}
}

// TestCountFlowsKeepsNames: workers whose counters spill while their
// names are few keep their indexes of documents and words from one run to
// the next (docID's table and the word indexes are not made afresh), and
// give the counts of the row path.
func TestCountFlowsKeepsNames(t *testing.T) {
	flows := testFlows(30_000, 5)
	for i := range flows { // few words, many pairs: 2,000 documents
		flows[i].SPort, flows[i].DPort = []int32{1234, 40000}[i%2], 53
		flows[i].IByt, flows[i].IPkt = int64(i%3), 1
		flows[i].SIP = fmt.Sprintf("10.1.%d.%d", i%8, i%125)
	}
	want := feature.NewCounterLimit(0)
	docs, words := map[string]bool{}, map[string]bool{}
	for _, f := range flows {
		if feature.FlowReject(&f) == "" {
			s, d := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			want.Add(f.SIP, s, 1)
			want.Add(f.DIP, d, 1)
			docs[f.SIP], docs[f.DIP], words[s], words[d] = true, true, true, true
		}
	}
	wantRows, err := want.Rows()
	if err != nil {
		t.Fatal(err)
	}
	files := []*parquet.File{writeParquet(t, flows, 1000)}
	p, ok := CountPlan(files)
	if !ok {
		t.Fatal("no count plan")
	}
	// two workers, each with half the limit, keep names up to an eighth of it
	limit := 16 * (len(docs) + len(words))
	if limit/2 >= len(wantRows) {
		t.Fatalf("%d names, %d pairs: no spill at limit %d", len(docs)+len(words), len(wantRows), limit)
	}
	c := feature.NewCounterLimit(limit)
	if _, err := CountFlows(context.Background(), files, nil, p, c, 2, nil); err != nil {
		t.Fatal(err)
	}
	if c.Spills() < 2 {
		t.Errorf("%d spills", c.Spills())
	}
	got, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantRows) {
		t.Errorf("%d rows, want %d", len(got), len(wantRows))
	}
	c.Close()
}

// TestCeilLog2Plus1: the integer size bins are feature.CeilLog2's of n+1 at
// every power of two and either side of it (where the bins step), and at
// the ends of int64.
func TestCeilLog2Plus1(t *testing.T) {
	ns := []int64{0, 1, 2, 3, math.MaxInt64, math.MaxInt64 - 1, -1, math.MinInt64, 1<<53 - 1, 1 << 53, 1<<53 + 1}
	for k := range 63 {
		p := int64(1) << k
		ns = append(ns, p-2, p-1, p, p+1)
	}
	for _, n := range ns {
		if got, want := ceilLog2Plus1(n), feature.CeilLog2(float64(n)+1); got != want {
			t.Errorf("n %d: %d, want %d", n, got, want)
		}
	}
}
