package detect

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spot-hunt/spot/internal/record"
)

// A judged state is a Set after Finish reduced to what scoring needs: every
// verdict that scored, which subject of which table each one explains, and
// (DNS) the clients found to be resolvers. spot score --state reads it as
// it reads a full state, but has no tables to load and judge again: a
// sharded run judges the day once, at the reduce, and each partition's
// score reads the verdicts (a full state of 2M flows took 5-7 s to read and
// judge, for each of a day's partitions). A judged state explains events
// and gives its findings; it cannot be merged, observe events or be
// written as a full state again, and it keeps the --detectors of the run
// that judged it.

// State forms, after the kind (version 2 on).
const (
	formFull   = 0
	formJudged = 1
)

var errJudged = errors.New("a judged detector state (spot detect --state --judged) cannot be merged or written as a full state: use the full states")

// ErrNotFinished is returned by WriteJudged before Finish.
var ErrNotFinished = errors.New("detector state not judged yet (Finish first)")

// judgedState is the part of a Set that a judged state holds besides its
// verdict tables.
type judgedState struct {
	all  []*judged // every verdict that scored, strongest first after Finish
	only bool      // read from a judged state: no subjects, only verdicts
}

func (j *judgedState) isJudged() bool { return j.only }

// finishJudged is Finish on a set read from a judged state.
func (j *judgedState) finishJudged(kind record.Kind, lim Limits) []record.Finding {
	return findings(slices.Clone(j.all), kind, lim.Report)
}

func writeJudged(w io.Writer, kind record.Kind, w0, w1 int64, all []*judged, tables []map[uint64]*judged, extra func(*enc)) error {
	if tables[0] == nil {
		return ErrNotFinished
	}
	return writeState(w, kind, formJudged, func(e *enc) {
		encJudged(e, w0, w1, all, tables)
		if extra != nil && e.err == nil {
			extra(e)
		}
	})
}

// encJudged writes the verdicts of a judged state, before its kind's extra.
func encJudged(e *enc, w0, w1 int64, all []*judged, tables []map[uint64]*judged) {
	e.i(w0)
	e.i(w1)
	idx := make(map[*judged]uint64, len(all))
	e.u(uint64(len(all)))
	for i, j := range all {
		idx[j] = uint64(i)
		j.encode(e)
	}
	e.u(uint64(len(tables)))
	for t, m := range tables {
		keys := slices.Sorted(maps.Keys(m))
		e.u(uint64(len(keys)))
		for _, k := range keys {
			i, ok := idx[m[k]]
			if !ok {
				e.err = fmt.Errorf("verdict %q of table %d is no finding", m[k].Subject, t)
				return
			}
			e.u64(k)
			e.u(i)
		}
	}
}

func decJudged(d *dec, j *judgedState, tables []map[uint64]*judged) (w0, w1 int64) {
	w0, w1 = d.i(), d.i()
	n := d.n()
	j.all = make([]*judged, 0, min(n, 1<<16))
	for range n {
		if d.err != nil {
			return
		}
		v := &judged{}
		v.decode(d)
		j.all = append(j.all, v)
	}
	if nt := d.n(); d.err == nil && nt != len(tables) {
		d.err = fmt.Errorf("%d verdict tables, want %d", nt, len(tables))
		return
	}
	for t := range tables {
		tables[t] = map[uint64]*judged{}
		for n := d.n(); n > 0 && d.err == nil; n-- {
			k, i := d.u64(), d.u()
			if i >= uint64(len(j.all)) {
				d.err = fmt.Errorf("verdict %d of %d", i, len(j.all))
				return
			}
			tables[t][k] = j.all[i]
		}
	}
	j.only = true
	return
}

func (j *judged) encode(e *enc) {
	e.s(j.Detector)
	e.f(j.Score)
	e.s(j.Subject)
	e.s(j.Evidence)
	e.s(j.src)
	e.s(j.dst)
	e.i(int64(j.dport))
	e.s(j.proto)
	e.i(j.first)
	e.i(j.last)
	e.i(j.events)
}

func (j *judged) decode(d *dec) {
	j.Detector = d.s()
	j.Score = d.f()
	j.Subject, j.Evidence = d.s(), d.s()
	j.src, j.dst = d.s(), d.s()
	j.dport = int32(d.i())
	j.proto = d.s()
	j.first, j.last, j.events = d.i(), d.i(), d.i()
}

func (s *FlowSet) WriteJudged(w io.Writer) error {
	return writeJudged(w, record.KindFlow, s.w0, s.w1, s.all, s.verdicts[:], func(e *enc) {
		// the connection times of the findings lookups can lead to
		// (lookups.go), sorted
		var keys []uint64
		for h, j := range s.verdicts[0] {
			if ts, _ := s.connTimes(h); s.joinable(j) && len(ts) > 0 {
				keys = append(keys, h)
			}
		}
		slices.Sort(keys)
		e.u(uint64(len(keys)))
		for _, h := range keys {
			ts, made := s.connTimes(h)
			e.u64(h)
			e.i(made)
			e.u(uint64(len(ts)))
			prev := int64(0)
			for _, t := range ts {
				e.i(t - prev) // sorted: small deltas
				prev = t
			}
		}
	})
}

func (s *FlowSet) decodeJudged(d *dec) {
	s.w0, s.w1 = decJudged(d, &s.judgedState, s.verdicts[:])
	if d.version < 4 {
		return // no connection times: lookups join by their answers alone
	}
	s.conns = map[uint64]connSample{}
	for n := d.n(); n > 0 && d.err == nil; n-- {
		h, made, m := d.u64(), d.i(), d.n()
		ts := make([]int64, 0, min(m, maxLedConns))
		t := int64(0)
		for ; m > 0 && d.err == nil; m-- {
			t += d.i()
			ts = append(ts, t)
		}
		if !slices.IsSorted(ts) {
			d.err = fmt.Errorf("connection times of pair %x out of order", h)
			return
		}
		s.conns[h] = connSample{ts, made}
	}
}

func (s *DNSSet) WriteJudged(w io.Writer) error {
	return writeJudged(w, record.KindDNS, s.w0, s.w1, s.all, s.verdicts[:], func(e *enc) {
		keys := slices.Sorted(maps.Keys(s.resolver))
		e.u(uint64(len(keys)))
		for _, k := range keys {
			e.u64(k)
		}
	})
}

func (s *DNSSet) decodeJudged(d *dec) {
	s.w0, s.w1 = decJudged(d, &s.judgedState, s.verdicts[:])
	s.resolver = map[uint64]bool{}
	for n := d.n(); n > 0 && d.err == nil; n-- {
		s.resolver[d.u64()] = true
	}
}

func (s *ProxySet) WriteJudged(w io.Writer) error {
	return writeJudged(w, record.KindProxy, s.w0, s.w1, s.all, s.verdicts[:], nil)
}

func (s *ProxySet) decodeJudged(d *dec) {
	s.w0, s.w1 = decJudged(d, &s.judgedState, s.verdicts[:])
}

// Forget drops the state of every subject of a finished set (Finish, then
// any JoinLookups), keeping what Explain needs: its verdicts, its hosts'
// and the lookups joined, as a set read from a judged state holds. A
// scoring pass after Finish then runs without the tables' memory, most of
// a busy network's detector state. The set is then judged: WriteState and
// Merge refuse it.
func (s *FlowSet) Forget() {
	for _, t := range []interface{ forget() }{s.pairs, s.vscan, s.hscan} {
		t.forget()
	}
	s.only = true
}

// Forget is FlowSet.Forget for DNS.
func (s *DNSSet) Forget() {
	for _, t := range []interface{ forget() }{s.tunnels, s.domains, s.names, s.beacons, s.servers} {
		t.forget()
	}
	s.only = true
}

// Forget is FlowSet.Forget for proxy logs.
func (s *ProxySet) Forget() {
	for _, t := range []interface{ forget() }{s.pairs, s.agents} {
		t.forget()
	}
	s.only = true
}
