package detect

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// synthFlows returns n flows of a busy network where most (source,
// destination, port) pairs are seen once: the detectors' worst case.
func synthFlows(n int) []Flow {
	r := rand.New(rand.NewPCG(1, 42))
	internal := make([]string, 5000)
	for i := range internal {
		internal[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	external := make([]string, 20000)
	for i := range external {
		external[i] = fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	services := []int32{53, 80, 443, 22, 25, 123, 389, 445, 3389, 8080}
	fs := make([]Flow, n)
	t0 := int64(1.8e18)
	for i := range fs {
		dst := external[r.IntN(len(external))]
		if r.IntN(4) == 0 {
			dst = internal[r.IntN(len(internal))]
		}
		dport := services[int(r.ExpFloat64()*2)%len(services)]
		if r.IntN(20) == 0 {
			dport = int32(1025 + r.IntN(64000))
		}
		proto := "TCP"
		if dport == 53 || dport == 123 {
			proto = "UDP"
		}
		pk := int64(1 + r.ExpFloat64()*20)
		by := pk * int64(40+r.IntN(1400))
		ts := t0 + int64(i)*86400e9/int64(n)
		fs[i] = Flow{TsNs: ts, EndNs: ts + 5e8, Src: internal[r.IntN(len(internal))], Dst: dst, SPort: int32(1025 + r.IntN(64000)),
			DPort: dport, Proto: proto, OutBytes: by, InBytes: by * 3, OutPkts: pk, InPkts: pk, Flags: ".AP.SF"}
	}
	return fs
}

// BenchmarkFlowSet observes and judges a million flows; ns/op is per flow.
func BenchmarkFlowSet(b *testing.B) {
	fs := synthFlows(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s := NewFlow(Limits{})
		for i := range fs {
			s.Observe(&fs[i])
		}
		s.Finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(fs)), "ns/flow")
}

// BenchmarkFlowSetBatch is BenchmarkFlowSet through ObserveBatch, a read
// batch at a time, as score and detect hand flows over.
func BenchmarkFlowSetBatch(b *testing.B) {
	fs := synthFlows(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s := NewFlow(Limits{})
		for i := 0; i < len(fs); i += 2048 {
			s.ObserveBatch(fs[i:min(i+2048, len(fs))])
		}
		s.Finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(fs)), "ns/flow")
}
