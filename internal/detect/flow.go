package detect

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/zeebo/xxh3"

	"github.com/spot-hunt/spot/internal/record"
)

// Flow is what the flow detectors read of a flow. The parquet tags name
// the flow columns its fields are read from (ioformat.PairReader), before
// Complete.
type Flow struct {
	TsNs     int64  `parquet:"tstart_ns"`
	EndNs    int64  `parquet:"tend_ns"`
	Src      string `parquet:"sip"`
	Dst      string `parquet:"dip"`
	SPort    int32  `parquet:"sport"`
	DPort    int32  `parquet:"dport"`
	Proto    string `parquet:"proto"`
	OutBytes int64  `parquet:"ibyt"` // source to destination
	InBytes  int64  `parquet:"obyt"` // and back
	OutPkts  int64  `parquet:"ipkt"`
	InPkts   int64  `parquet:"opkt"`
	Flags    string `parquet:"flag"`
}

// FromFlow returns what the detectors read of r.
func FromFlow(r *record.Flow) Flow {
	f := Flow{TsNs: r.TStartNs, EndNs: r.TEndNs, Src: r.SIP, Dst: r.DIP, SPort: r.SPort, DPort: r.DPort, Proto: r.Proto,
		OutBytes: r.IByt, InBytes: r.OByt, OutPkts: r.IPkt, InPkts: r.OPkt, Flags: r.Flag}
	f.Complete(&FlowRest{UnixTstamp: r.UnixTstamp, TDur: r.TDur})
	return f
}

// unanswered reports whether a flow looks like a probe no service took up:
// a TCP flow that carried no payload (at most 3 packets each way, none
// larger than headers: 80 bytes on average), or SYNs alone however often
// retried (nothing back, the flags seen SYN without ACK: Mirai-like
// scanners send five), a UDP or ICMP flow with nothing back.
// Unidirectional exports (no reverse counts anywhere in the input) judge
// TCP by the outgoing side only.
func (f *Flow) unanswered() bool {
	switch f.Proto {
	case "TCP":
		headers := f.OutBytes <= 80*max(1, f.OutPkts) && f.InBytes <= 80*max(1, f.InPkts)
		if f.OutPkts > 3 || f.InPkts > 3 {
			return headers && f.InPkts == 0 && synOnly(f.Flags)
		}
		return headers
	case "UDP", "ICMP", "ICMP6", "IPv6-ICMP":
		return f.InPkts == 0
	}
	return false
}

// synOnly reports whether nfdump-style flags ("......S.": CEUAPRSF) show
// SYN and no ACK.
func synOnly(flags string) bool {
	return len(flags) == 8 && flags[6] == 'S' && flags[3] != 'A'
}

// flowPair is the state of one (source, destination, port, protocol).
type flowPair struct {
	src, dst string
	dport    int32
	proto    string
	beaconState
	out, in int64 // bytes
	maxOut  int64 // the largest one flow sent
	dur     int64 // ns, summed over flows (RITA's long connection)
	conns   int64
	short   int64 // flows under 10 s carrying under 10 kB each way
	unans   int64
	first   int64
	last    int64
	// 192 bytes, three cache lines: most pairs are new when seen, and each
	// line a new one takes is a wait on memory
}

func (p *flowPair) observe(f *Flow) {
	size := f.OutBytes + f.InBytes
	p.add(f.TsNs, int32(min(size, math.MaxInt32)))
	p.out += f.OutBytes
	p.in += f.InBytes
	p.maxOut = max(p.maxOut, f.OutBytes)
	d := f.EndNs - f.TsNs
	p.dur += d
	p.conns++
	if d < 10e9 && f.OutBytes < 10e3 && f.InBytes < 10e3 {
		p.short++
	}
	if f.unanswered() {
		p.unans++
	}
	if p.first == 0 || f.TsNs < p.first {
		p.first = f.TsNs
	}
	p.last = max(p.last, f.EndNs)
}

func (p *flowPair) merge(o *flowPair) {
	p.beaconState.merge(&o.beaconState)
	p.out += o.out
	p.in += o.in
	p.maxOut = max(p.maxOut, o.maxOut)
	p.dur += o.dur
	p.conns += o.conns
	p.short += o.short
	p.unans += o.unans
	if o.first != 0 && (p.first == 0 || o.first < p.first) {
		p.first = o.first
	}
	p.last = max(p.last, o.last)
}

func (p *flowPair) subject() string {
	return fmt.Sprintf("%s > %s", p.src, endpoint(p.dst, p.dport, p.proto))
}

// endpoint writes a service: host:port/proto, or for ICMP, whose port
// holds type×256+code as nfdump writes it, host/ICMP type T[ code C].
func endpoint(host string, port int32, proto string) string {
	switch {
	case proto == "TCP" || proto == "UDP" || proto == "SCTP":
		return host + ":" + strconv.Itoa(int(port)) + "/" + proto
	case isICMP(proto):
		s := host + "/" + proto + " type " + strconv.Itoa(int(port>>8))
		if port&0xff != 0 {
			s += " code " + strconv.Itoa(int(port&0xff))
		}
		return s
	}
	return host + "/" + proto
}

func isICMP(proto string) bool {
	return proto == "ICMP" || proto == "ICMP6" || proto == "IPv6-ICMP"
}

// request returns the port of the flow a reply answers: for ICMP, the
// echo request of an echo reply (type 0 to 8, ICMPv6 129 to 128); for
// other protocols, the reply's source port.
func request(sport, dport int32, proto string) int32 {
	if !isICMP(proto) {
		return sport
	}
	switch dport >> 8 {
	case 0:
		return 8 << 8
	case 129:
		return 128 << 8
	}
	return dport
}

// FlowSet runs the flow detectors: beacon, scan, exfil, long-conn,
// brute-force and context.
type FlowSet struct {
	lim    Limits
	w0, w1 int64
	pairs  *table[flowPair]
	vscan  *table[scanState] // (source, destination): ports probed
	hscan  *table[scanState] // (source, port, protocol): hosts probed
	hasher flowHasher
	sink   uint64 // observeKeyed's loads ahead, kept so that they are not optimised away
	beats  beatArena
	strs   strs
	// verdicts by kind of subject: pairs, vertical scans, horizontal scans
	verdicts [3]map[uint64]*judged
	hosts    map[string]hostFacts  // what Explain needs to know of a host
	lookups  map[lookupKey][]tied  // lookups that led to a finding, by their flow, in time order (lookups.go)
	conns    map[uint64]connSample // read from a judged state: strong pairs' connection times (lookups.go)
	judgedState
	part // a share of the subjects (FlowParts)
}

// NewFlow returns the flow detectors with limits lim (zero: the defaults).
func NewFlow(lim Limits) *FlowSet {
	lim = lim.orDefault()
	ss := func(s *scanState) int64 { return s.probes }
	x := newFlowHasher()
	return &FlowSet{lim: lim, hasher: x, strs: newStrs(x.seed),
		pairs: newTable(lim.Subjects, func(p *flowPair) int64 { return p.conns }).withDoorkeeper(),
		vscan: newTable(lim.Subjects, ss).withDoorkeeper(), hscan: newTable(lim.Subjects, ss).withDoorkeeper()}
}

func (s *FlowSet) key(tag byte, a, b string, port int32, proto string) uint64 {
	return s.hasher.key(tag, a, b, port, proto)
}

// flowKey hashes a subject of kind tag, building it in buf.
func flowKey(buf []byte, tag byte, a, b string, port int32, proto string) ([]byte, uint64) {
	buf = append(buf[:0], tag)
	buf = append(buf, a...)
	buf = append(buf, 0)
	buf = append(buf, b...)
	buf = append(buf, 0, byte(port>>24), byte(port>>16), byte(port>>8), byte(port))
	buf = append(buf, proto...)
	return buf, xxh3.Hash(buf)
}

// Observe adds one flow to the detectors' state.
func (s *FlowSet) Observe(f *Flow) {
	var k flowKeys
	s.keys(f, &k)
	s.observe(f, &k)
}

// ahead is how many flows ObserveBatch looks up before it updates them.
const ahead = 128

// ObserveBatch adds flows to the detectors' state, as Observe does each.
func (s *FlowSet) ObserveBatch(fs []Flow) {
	var keys [ahead]flowKeys
	for len(fs) > 0 {
		b := fs[:min(len(fs), ahead)]
		fs = fs[len(b):]
		for i := range b {
			s.keys(&b[i], &keys[i])
		}
		s.observeKeyed(b, keys[:len(b)])
	}
}

// observeKeyed adds flows whose subjects' keys are keys. The tables of a
// busy network outgrow the CPU's caches, and a subject's lookup is then a
// wait on memory: it first loads the index entry of
// every subject of ahead flows (Go has no prefetch instruction; loads that
// do not depend on each other overlap, and a loop that does nothing else
// keeps many in flight), then updates them in order.
func (s *FlowSet) observeKeyed(fs []Flow, keys []flowKeys) {
	for len(fs) > 0 {
		b, bk := fs[:min(len(fs), ahead)], keys[:min(len(fs), ahead)]
		fs, keys = fs[len(b):], keys[len(b):]
		var sink uint64
		for i := range bk {
			k := &bk[i]
			if s.mine(k.pair) {
				sink ^= s.pairs.touch(k.pair)
			}
			if k.unanswered {
				if s.mine(k.vscan) {
					sink ^= s.vscan.touch(k.vscan)
				}
				if s.mine(k.hscan) {
					sink ^= s.hscan.touch(k.hscan)
				}
			}
		}
		s.sink ^= sink
		for i := range b {
			s.observe(&b[i], &bk[i])
		}
	}
}

// flowKeys are the keys of a flow's subjects: its pair's and, when it went
// unanswered, its scans'.
type flowKeys struct {
	pair, vscan, hscan uint64
	unanswered         bool
}

// flowHasher makes flowKeys: parts of a FlowParts share one, made once per
// flow, so their strs share its seed.
type flowHasher struct {
	buf  []byte
	seed uint64
}

func newFlowHasher() flowHasher { return flowHasher{seed: rand.Uint64()} }

func (x *flowHasher) key(tag byte, a, b string, port int32, proto string) uint64 {
	var h uint64
	x.buf, h = flowKey(x.buf, tag, a, b, port, proto)
	return h
}

func (x *flowHasher) keys(f *Flow, k *flowKeys) {
	k.pair = x.key('p', f.Src, f.Dst, f.DPort, f.Proto)
	k.unanswered = f.unanswered()
	if k.unanswered {
		k.vscan = x.key('v', f.Src, f.Dst, 0, "")
		k.hscan = x.key('h', f.Src, "", f.DPort, f.Proto)
	}
}

func (s *FlowSet) keys(f *Flow, k *flowKeys) { s.hasher.keys(f, k) }

// observe adds flow f, whose subjects' keys are k.
func (s *FlowSet) observe(f *Flow, k *flowKeys) {
	if f.TsNs != 0 {
		if s.w0 == 0 || f.TsNs < s.w0 {
			s.w0 = f.TsNs
		}
		s.w1 = max(s.w1, f.EndNs)
	}
	if s.mine(k.pair) {
		p := s.pairs.getInPlace(k.pair, func(p *flowPair) {
			ts, sizes := p.ts[:0], p.sizes[:0] // a dropped pair's beats: room for the new one's
			*p = flowPair{src: s.strs.get(f.Src), dst: s.strs.get(f.Dst), dport: f.DPort,
				proto: s.strs.get(f.Proto)}
			p.ts, p.sizes = ts, sizes
		})
		if p != nil {
			s.beats.room(&p.beaconState)
			p.observe(f)
		}
	}
	if !k.unanswered {
		return
	}
	if s.mine(k.vscan) {
		v := s.vscan.get(k.vscan, func() scanState {
			return scanState{src: s.strs.get(f.Src), dst: s.strs.get(f.Dst), vertical: true}
		})
		if v != nil {
			v.observe(f, mix64(uint64(uint32(f.DPort))))
		}
	}
	if s.mine(k.hscan) {
		h := s.hscan.get(k.hscan, func() scanState {
			return scanState{src: s.strs.get(f.Src), dport: f.DPort, proto: s.strs.get(f.Proto)}
		})
		if h != nil {
			h.observe(f, xxh3.HashString(f.Dst))
		}
	}
}

// Finish judges every subject and returns the findings, strongest first.
func (s *FlowSet) Finish() []record.Finding {
	if s.only {
		s.hosts = factsOf(hostVerdicts(s.all, s.lim), s.verdicts[:])
		return s.finishJudged(record.KindFlow, s.lim)
	}
	for i := range s.verdicts {
		s.verdicts[i] = map[uint64]*judged{}
	}
	var all []*judged
	keep := func(i int, h uint64, j *judged) {
		if j.Score <= 0 || !s.lim.enabled(j.Detector) {
			return
		}
		if old, ok := s.verdicts[i][h]; ok && !j.outranks(old) {
			all = append(all, j) // a second detector on the subject: a finding of its own
			return
		}
		s.verdicts[i][h] = j
		all = append(all, j)
	}
	var norms *volumeNorms
	places := newPrevalence()
	sources := map[string]struct{}{}
	place := make([]uint64, 0, s.pairs.len()) // each pair's destination service, in table order
	for _, p := range s.pairs.all() {
		h := s.key('d', p.dst, "", p.dport, p.proto)
		place = append(place, h)
		places.users[h]++
		sources[p.src] = struct{}{}
	}
	places.all = len(sources)
	i := 0
	for h, p := range s.pairs.all() {
		ctx := places.modifier(place[i])
		i++
		base := judged{src: p.src, dst: p.dst, dport: p.dport, proto: p.proto, first: p.first, last: p.last, events: p.conns}
		if r := p.judge(s.w0, s.w1); r.score > 0 {
			j := base
			j.Verdict = Verdict{"beacon", clamp01(0.8*r.score + ctx), p.subject(), r.evidence()}
			keep(0, h, &j)
		}
		if p.exfilCandidate() && norms == nil {
			norms = s.volumeNorms()
		}
		if score, ev := p.exfil(norms); score > 0 {
			j := base
			j.Verdict = Verdict{"exfil", clamp01(score + ctx), p.subject(), ev}
			keep(0, h, &j)
		}
		if score, ev := p.longConn(); score > 0 {
			j := base
			j.Verdict = Verdict{"long-conn", clamp01(score + ctx), p.subject(), ev}
			keep(0, h, &j)
		}
		if score, ev := p.bruteForce(); score > 0 {
			j := base
			j.Verdict = Verdict{"brute-force", clamp01(score + ctx), p.subject(), ev}
			keep(0, h, &j)
		}
	}
	for i, t := range []*table[scanState]{s.vscan, s.hscan} {
		for h, sc := range t.all() {
			if score, ev := sc.judge(); score > 0 {
				keep(1+i, h, &judged{Verdict: Verdict{"scan", score, sc.subject(), ev},
					src: sc.src, dst: sc.dst, dport: sc.dport, proto: sc.proto, first: sc.first, last: sc.last, events: sc.probes})
			}
		}
	}
	for _, t := range []struct {
		name    string
		dropped int64
	}{{"beacon/exfil/long-conn/brute-force (pair)", s.pairs.dropped}, {"scan (source, destination)", s.vscan.dropped},
		{"scan (source, port)", s.hscan.dropped}} {
		if t.dropped > 0 {
			slog.Warn("detector state full: kept the busiest subjects; findings on the others may be missed",
				"detector", t.name, "dropped", t.dropped, "limit", s.lim.Subjects)
		}
	}
	s.hosts = factsOf(hostVerdicts(all, s.lim), s.verdicts[:])
	s.all = all
	return findings(all, record.KindFlow, s.lim.Report)
}

// Explain returns the strongest verdict on the subjects of a flow from src
// to dst:dport over proto (nil when none scored): the pair and the scans
// of its source, and, since exports write each direction as a flow of its
// own, the same of the flow it may answer. It is safe for concurrent use after Finish.
func (s *FlowSet) Explain(src, dst string, sport, dport int32, proto string) *Verdict {
	return s.ExplainAt(src, dst, sport, dport, proto, 0, 0)
}

// ExplainAt is Explain of a flow seen from t0 to t1 (ns): with lookups
// joined (JoinLookups), a DNS lookup the flow carried may share the
// verdict of the finding it led to. Times of 0 join no lookup.
func (s *FlowSet) ExplainAt(src, dst string, sport, dport int32, proto string, t0, t1 int64) *Verdict {
	var arr [160]byte
	buf := arr[:0]
	var best *judged
	try := func(i int, tag byte, a, b string, port int32, proto string) {
		if len(s.verdicts[i]) == 0 {
			return // most tables judge nothing: no key to hash
		}
		var h uint64
		buf, h = flowKey(buf, tag, a, b, port, proto)
		if j, ok := s.verdicts[i][h]; ok && (best == nil || j.outranks(best)) {
			best = j
		}
	}
	// every subject of a flow has its source (or, for a reply, its
	// destination) as the subject's source: most flows have no verdict on
	// either, and then no key to hash
	from, to := s.hosts[src], s.hosts[dst]
	if from.source {
		try(0, 'p', src, dst, dport, proto)
		try(1, 'v', src, dst, 0, "")
		try(2, 'h', src, "", dport, proto)
	}
	// the flow may be a reply, written apart by exports and for ICMP
	if to.source {
		rport := request(sport, dport, proto)
		try(0, 'p', dst, src, rport, proto)
		try(1, 'v', dst, src, 0, "")
		try(2, 'h', dst, "", rport, proto)
	}
	var v *Verdict
	if best != nil {
		v = &best.Verdict
	}
	var host *hostVerdict
	for _, h := range [2]*hostVerdict{from.verdict, to.verdict} {
		if h != nil && (host == nil || h.finding > host.finding) {
			host = h
		}
	}
	if host != nil && (v == nil || host.Score > v.Score) {
		v = &host.Verdict
	}
	if l := s.lookupVerdict(src, dst, sport, dport, proto, t0, t1); l != nil && (v == nil || l.Score > v.Score) {
		v = l
	}
	return v
}

// hostFacts is what Explain needs to know of a host: its events' verdict
// (host.go), and whether it is the source of a verdict's subject.
type hostFacts struct {
	verdict *hostVerdict
	source  bool
}

// factsOf returns the facts of the hosts with a verdict (hosts) or the
// source of one in tables.
func factsOf(hosts map[string]*hostVerdict, tables []map[uint64]*judged) map[string]hostFacts {
	facts := make(map[string]hostFacts, len(hosts))
	for h, v := range hosts {
		facts[h] = hostFacts{verdict: v}
	}
	for _, t := range tables {
		for _, j := range t {
			f := facts[j.src]
			f.source = true
			facts[j.src] = f
		}
	}
	return facts
}

// volumeNorms are the bytes a pair usually sends: per source host that has
// an exfil candidate, the median over its pairs, and over every pair, the
// 95th percentile. Finish makes them only when some pair is a candidate.
type volumeNorms struct {
	host  map[string]float64
	peers float64
}

func (s *FlowSet) volumeNorms() *volumeNorms {
	by := map[string][]float64{}
	for _, p := range s.pairs.all() {
		if p.exfilCandidate() {
			by[p.src] = nil
		}
	}
	all := make([]float64, 0, s.pairs.len())
	for _, p := range s.pairs.all() {
		if v, ok := by[p.src]; ok {
			by[p.src] = append(v, float64(p.out))
		}
		all = append(all, float64(p.out))
	}
	n := &volumeNorms{host: map[string]float64{}}
	for h, v := range by {
		if len(v) >= 3 {
			slices.Sort(v)
			n.host[h] = v[len(v)/2]
		}
	}
	if len(all) > 0 {
		slices.Sort(all)
		n.peers = all[min(len(all)-1, len(all)*95/100)]
	}
	return n
}
