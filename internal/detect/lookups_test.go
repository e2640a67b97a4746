package detect

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// lookupLab is Slips' C&C capture in small: a host resolves its C2's name
// (AAAA, no answer: the address it uses is cached) just before each of 22
// TLS connections every 3 s, and, at random times between them, resolves
// 60 other names once each and one name 20 times, through the same
// resolver; plus one lookup of another name whose answer is a second
// server it then beacons to.
type lookupLab struct {
	set   *FlowSet
	flows []Flow       // every flow, lookups included
	dns   []record.DNS // the lookups' response records
	c2    []int        // indexes in flows of the C2 name's lookups
	other []int        // of the other names' lookups
	ans   int          // of the lookup answered with the second server
}

const (
	labClient   = "10.0.0.5"
	labResolver = "10.0.0.53"
	labC2       = "198.51.100.20"
	labServer2  = "203.0.113.7"
)

func newLookupLab() *lookupLab {
	l := &lookupLab{set: NewFlow(Limits{})}
	t0 := int64(1_490_976_000e9)
	port := int32(30000)
	lookup := func(at int64, name, answer string) int {
		port++
		l.flows = append(l.flows, Flow{TsNs: at, EndNs: at + 1e5, Src: labClient, Dst: labResolver, SPort: port, DPort: 53,
			Proto: "UDP", OutBytes: 70, InBytes: 130, OutPkts: 1, InPkts: 1})
		r := record.DNS{TsNs: at + 1e5, IPDst: labClient, IPSrc: labResolver, ClientPort: port, QryName: name,
			QryType: 28, Response: true, Transport: "udp", A: answer, FrameLen: 130}
		if answer != "" {
			r.QryType, r.Answers = 1, []string{answer}
		}
		l.dns = append(l.dns, r)
		return len(l.flows) - 1
	}
	conn := func(at int64, dst string) {
		port++
		l.flows = append(l.flows, Flow{TsNs: at, EndNs: at + 3e8, Src: labClient, Dst: dst, SPort: port, DPort: 443,
			Proto: "TCP", OutBytes: 900, InBytes: 4000, OutPkts: 8, InPkts: 8, Flags: "...AP.SF"})
	}
	for i := range 22 {
		at := t0 + int64(i)*3e9 + int64(i%3)*1e8
		l.c2 = append(l.c2, lookup(at, "c2.example", ""))
		conn(at+4e5, labC2)
	}
	rng := uint64(15)
	random := func() int64 { // a time in the C2's 66 s, by a 64-bit LCG
		rng = rng*6364136223846793005 + 1442695040888963407
		return t0 + int64(rng>>33)%66e9
	}
	for n := range 80 {
		name := fmt.Sprintf("%d.dnsbl.example", n)
		if n >= 60 {
			name = "pool.ntp.example"
		}
		l.other = append(l.other, lookup(random(), name, ""))
	}
	l.ans = lookup(t0+1e9, "cdn.example", labServer2)
	for i := range 22 {
		conn(t0+2e9+int64(i)*3e9, labServer2)
	}
	for i := range l.flows {
		l.set.Observe(&l.flows[i])
	}
	l.set.Finish()
	return l
}

func (l *lookupLab) explain(i int) *Verdict {
	f := &l.flows[i]
	return l.set.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)
}

func (l *lookupLab) finding(dst string) *judged {
	for _, j := range l.set.verdicts[0] {
		if j.dst == dst {
			return j
		}
	}
	return nil
}

// TestLookupsJoin: the C2 name's lookup flows share the C2 beacon's
// verdict (led), the answered lookup the second server's (resolved); the
// other names' lookups do not, nor does any lookup without the join.
func TestLookupsJoin(t *testing.T) {
	l := newLookupLab()
	c2, s2 := l.finding(labC2), l.finding(labServer2)
	if c2 == nil || c2.Score < hostFloor || s2 == nil || s2.Score < hostFloor {
		t.Fatalf("the lab's beacons are not strong findings: %+v %+v", c2, s2)
	}
	// without the join, the C2's lookups rank with the others
	before := l.explain(l.c2[3])
	if before != nil && before.Subject == c2.Subject {
		t.Fatalf("before the join a lookup already has the C2's verdict: %+v", before)
	}
	clients := l.set.LookupClients()
	if !clients[labClient] || len(clients) != 1 {
		t.Fatalf("LookupClients = %v, want only %s", clients, labClient)
	}
	lk := NewLookups(0)
	for i := range l.dns {
		lk.Add(&l.dns[i], clients)
	}
	lk.Add(&record.DNS{IPDst: "10.9.9.9", IPSrc: labResolver, ClientPort: 1, Response: true, QryName: "c2.example"}, clients)
	lk.Add(&record.DNS{IPDst: labClient, IPSrc: labResolver, Response: true, QryName: "c2.example"}, clients)
	if lk.Records != int64(len(l.dns))+2 || lk.Kept != int64(len(l.dns)) || lk.NoPort != 1 {
		t.Fatalf("records %d, kept %d, without a port %d", lk.Records, lk.Kept, lk.NoPort)
	}
	l.set.JoinLookups(lk)
	for _, i := range l.c2 {
		v := l.explain(i)
		if v == nil || v.Subject != c2.Subject || v.Score != c2.Score ||
			!strings.HasPrefix(v.Evidence, "lookup of c2.example before 22 of the 22 connections to "+labC2+" (within 1 s); beacon finding") {
			t.Fatalf("C2 lookup %d: %+v, want the C2 beacon's verdict (%.3f)", i, v, c2.Score)
		}
		// the reply, as an export writes it apart, too
		f := l.flows[i]
		if r := l.set.ExplainAt(f.Dst, f.Src, f.DPort, f.SPort, f.Proto, f.EndNs, f.EndNs); r == nil || r.Subject != c2.Subject {
			t.Fatalf("C2 lookup %d's reply: %+v", i, r)
		}
		// another time on the same ports is another lookup
		if o := l.set.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs+60e9, f.EndNs+60e9); o != nil && o.Subject == c2.Subject {
			t.Fatalf("C2 lookup %d's ports a minute later: %+v", i, o)
		}
	}
	for _, i := range l.other {
		if v := l.explain(i); v != nil && (v.Subject == c2.Subject || v.Subject == s2.Subject) {
			t.Fatalf("other lookup %d (%s): %+v", i, l.dns[i].QryName, v)
		}
	}
	v := l.explain(l.ans)
	if v == nil || v.Subject != s2.Subject || !strings.HasPrefix(v.Evidence, "lookup of cdn.example resolved to "+labServer2+", contacted after it; beacon finding") {
		t.Fatalf("answered lookup: %+v", v)
	}
	// no times, no join (the columnar path gives none)
	f := l.flows[l.c2[0]]
	if v := l.set.Explain(f.Src, f.Dst, f.SPort, f.DPort, f.Proto); v != nil && v.Subject == c2.Subject {
		t.Fatalf("Explain without times: %+v", v)
	}
}

// TestLeads: the counts the led rule tests.
func TestLeads(t *testing.T) {
	named := []*lookup{{ts: 10e9}, {ts: 20e9}, {ts: 30e9}, {ts: 50e9}}
	conns := []int64{10e9, 21e9, 33e9, 40e9}
	// 10 (same instant), 21 (1 s after 20) led; 33 is 3 s after 30, 40 10 s after: not
	led, followed := leads(named, conns)
	if led != 2 || followed != 2 {
		t.Errorf("leads = %d, %d; want 2, 2", led, followed)
	}
}

// TestLookupsJudgedState: a judged state keeps what the join needs (the
// strong pairs' connection times), so a shard scored with it joins its
// lookups as one process does; a judged state of version 3 keeps no
// times, and joins by answers alone.
func TestLookupsJudgedState(t *testing.T) {
	live := newLookupLab()
	judged := judgedCopy(t, live.set)
	join := func(s *FlowSet) {
		lk := NewLookups(0)
		clients := s.LookupClients()
		for i := range live.dns {
			lk.Add(&live.dns[i], clients)
		}
		s.JoinLookups(lk)
	}
	join(live.set)
	join(judged)
	for i, f := range live.flows {
		a := live.set.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)
		b := judged.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)
		if (a == nil) != (b == nil) || a != nil && *a != *b {
			t.Fatalf("flow %d: live %+v, judged state %+v", i, a, b)
		}
	}
	if v := judged.ExplainAt(labClient, labResolver, live.flows[live.c2[0]].SPort, 53, "UDP", live.flows[live.c2[0]].TsNs, live.flows[live.c2[0]].EndNs); v == nil || !strings.Contains(v.Evidence, "lookup of c2.example before 22") {
		t.Fatalf("judged state: %+v", v)
	}

	// version 3: the same verdicts without the times
	s := live.set
	old := rawState(3, "flow", func(e *enc) {
		e.u(formJudged)
		encJudged(e, s.w0, s.w1, s.all, s.verdicts[:])
	})
	read3, err := ReadState(bytes.NewReader(old), Limits{})
	if err != nil {
		t.Fatalf("version 3 judged state: %v", err)
	}
	v3 := read3.(*FlowSet)
	v3.Finish()
	join(v3)
	f := live.flows[live.c2[0]]
	if v := v3.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs); v != nil && strings.Contains(v.Evidence, "c2.example") {
		t.Fatalf("version 3 state joined by the name rule: %+v", v)
	}
	a := live.flows[live.ans]
	if v := v3.ExplainAt(a.Src, a.Dst, a.SPort, a.DPort, a.Proto, a.TsNs, a.EndNs); v == nil || !strings.Contains(v.Evidence, "resolved to "+labServer2) {
		t.Fatalf("version 3 state, answered lookup: %+v", v)
	}
}

// TestLookupsSampledConns: the name rule reads an evenly spaced sample of
// a busy pair's connections, and says so; a judged state keeps the sample
// and joins the same.
func TestLookupsSampledConns(t *testing.T) {
	s := NewFlow(Limits{})
	var dns []record.DNS
	var lookups []Flow
	t0 := int64(1_490_976_000e9)
	rng := uint64(20)
	for i := range 2000 {
		at := t0 + int64(i)*2e9
		port := int32(20000 + i%40000)
		// two resolvers, at random: neither pair is a beacon
		rng = rng*6364136223846793005 + 1442695040888963407
		resolver := []string{labResolver, "10.0.0.54"}[rng>>63]
		f := Flow{TsNs: at, EndNs: at + 1e5, Src: labClient, Dst: resolver, SPort: port, DPort: 53, Proto: "UDP",
			OutBytes: 70, InBytes: 130, OutPkts: 1, InPkts: 1}
		lookups = append(lookups, f)
		s.Observe(&f)
		dns = append(dns, record.DNS{TsNs: at + 1e5, IPDst: labClient, IPSrc: resolver, ClientPort: port,
			QryName: "busy.example", QryType: 28, Response: true, Transport: "udp"})
		c := Flow{TsNs: at + 2e5, EndNs: at + 3e8, Src: labClient, Dst: labC2, SPort: 1000 + int32(i), DPort: 443, Proto: "TCP",
			OutBytes: 900, InBytes: 4000, OutPkts: 8, InPkts: 8, Flags: "...AP.SF"}
		s.Observe(&c)
	}
	s.Finish()
	judged := judgedCopy(t, s)
	for _, set := range []*FlowSet{s, judged} {
		lk := NewLookups(0)
		clients := set.LookupClients()
		for i := range dns {
			lk.Add(&dns[i], clients)
		}
		set.JoinLookups(lk)
		f := lookups[1234]
		v := set.ExplainAt(f.Src, f.Dst, f.SPort, f.DPort, f.Proto, f.TsNs, f.EndNs)
		if v == nil || !strings.HasPrefix(v.Evidence, "lookup of busy.example before 512 of 512 sampled of the 2,000 connections to "+labC2) {
			t.Fatalf("judged %v: %+v", set.only, v)
		}
	}
}

// judgedCopy writes the finished set s judged and reads it back, finished.
func judgedCopy(t *testing.T, s *FlowSet) *FlowSet {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteJudged(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := ReadState(&buf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	judged := read.(*FlowSet)
	judged.Finish()
	return judged
}
