package detect

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/record"
)

// lookups: the DNS lookups that led to a strong finding. Flows carry no
// names, so a client's lookups of its C2's name share one flow pair
// (client > resolver:53/UDP) with all its other lookups, and rank with
// them. Given the DNS records of the same traffic (spot score --lookups,
// the mirror of --contacts), a lookup flow (client:port > resolver) is
// joined to its DNS records by client address, client port, resolver,
// transport and time (the record's time within the flow's span, give or
// take lookupSlack), and a lookup that led to a strong pair finding of its
// client (hostFloor or more; not itself DNS, port 53) shares that
// finding's verdict, its evidence saying how:
//
//   - resolved: the lookup's answers hold the finding's destination, and
//     the client contacted it afterwards (the lookup is no later than the
//     finding's last connection);
//   - led: the client looked up the name just before connecting, time
//     after time, as a program that resolves its server before each
//     connection does (when the answer it used is cached or not captured:
//     Slips' C&C capture asks AAAA of testing.com before each connection
//     and gets no address): at least minBeats of the finding's
//     connections, and at least half of them, start within lookupLead
//     after a lookup of the name (a program connects as soon as its
//     lookup returns: Slips' host within a millisecond), and at least
//     half of the client's lookups of the name are followed so. A busy
//     pair's connections are read as an evenly spaced sample of
//     maxLedConns, and the lookups followed are then weighed by the share
//     the sample holds. Then every lookup of the name by the client
//     shares the verdict.
//
// It is no finding of its own and changes no finding: it explains the
// lookup flows, as the host verdict explains a host's other flows. A
// judged flow state keeps the connection times of its joinable findings
// (state version 4), so a sharded run joins as one process does. Without
// lookups nothing changes.
const (
	lookupSlack = int64(2e9) // a record's time may fall this far outside its flow's span (unidirectional exports, RTT)
	lookupLead  = int64(1e9) // a connection this soon after a lookup's record was led by it
)

// Lookups are the DNS records of the clients of strong flow findings,
// read after the flow detectors judged (FlowSet.LookupClients).
type Lookups struct {
	max     int
	recs    []lookup
	Records int64 // DNS records read
	Kept    int64 // records of the clients asked for, with a port
	NoPort  int64 // records of those clients without a client port (written before the column, or a source without ports)
	Dropped int64 // records past the cap, left out
	// Malformed records the readers skipped (counted by the reader of the
	// files).
	Malformed int64
}

// lookup is one DNS record of a client of a strong finding.
type lookup struct {
	client, server string
	port           int32
	proto          string // the flow's: UDP or TCP
	ts             int64
	name           string
	addrs          []netip.Addr // answer addresses (dns_a and every address among answers)
}

// NewLookups returns an empty set holding at most max records (default:
// Limits' subject cap).
func NewLookups(max int) *Lookups {
	if max <= 0 {
		max = Limits{}.orDefault().Subjects
	}
	return &Lookups{max: max}
}

// Add adds DNS record r when its client is in clients.
func (l *Lookups) Add(r *record.DNS, clients map[string]bool) {
	l.Records++
	e := FromDNS(r)
	if !clients[e.Client] {
		return
	}
	if r.ClientPort <= 0 {
		l.NoPort++
		return
	}
	if len(l.recs) >= l.max {
		l.Dropped++
		return
	}
	k := lookup{client: e.Client, server: e.Server, port: r.ClientPort, proto: strings.ToUpper(r.Transport), ts: e.TsNs, name: e.Name}
	for _, s := range append([]string{r.A}, r.Answers...) {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(k.addrs, a.Unmap()) {
			k.addrs = append(k.addrs, a.Unmap())
		}
	}
	l.Kept++
	l.recs = append(l.recs, k)
}

// lookupKey is a lookup flow's: client, its port, resolver, protocol.
type lookupKey struct {
	client, server string
	port           int32
	proto          string
}

// tied is a lookup that shares a finding's verdict.
type tied struct {
	ts int64
	v  Verdict
}

// LookupClients returns the sources of strong pair findings, whose
// lookups are to be read; call it after Finish.
func (s *FlowSet) LookupClients() map[string]bool {
	out := map[string]bool{}
	for _, j := range s.verdicts[0] {
		if s.joinable(j) {
			out[j.src] = true
		}
	}
	return out
}

// joinable reports whether lookups can lead to finding j.
func (s *FlowSet) joinable(j *judged) bool {
	return j.Score >= hostFloor && j.dport != 53 && (j.proto == "TCP" || j.proto == "UDP" || j.proto == "SCTP")
}

// JoinLookups ties lookups to the strong findings they led to (above), for
// Explain; call it after Finish. It is not safe for concurrent use.
func (s *FlowSet) JoinLookups(l *Lookups) {
	if len(l.recs) == 0 {
		return
	}
	byClient := map[string][]*lookup{}
	for i := range l.recs {
		r := &l.recs[i]
		byClient[r.client] = append(byClient[r.client], r)
	}
	best := map[*lookup]*tied{}
	tie := func(r *lookup, j *judged, how string) {
		if t, ok := best[r]; ok && !j.Verdict.stronger(&t.v) {
			return
		}
		best[r] = &tied{ts: r.ts, v: Verdict{Detector: j.Detector, Score: j.Score, Subject: j.Subject,
			Evidence: fmt.Sprintf("lookup of %s %s; %s finding (%.2f): %s", r.name, how, j.Detector, j.Score, j.Evidence)}}
	}
	for h, j := range s.verdicts[0] {
		rs := byClient[j.src]
		if len(rs) == 0 || !s.joinable(j) {
			continue
		}
		dst, err := netip.ParseAddr(j.dst)
		if err != nil {
			continue
		}
		dst = dst.Unmap()
		for _, r := range rs {
			if r.ts <= j.last && slices.Contains(r.addrs, dst) && r.server != j.dst {
				tie(r, j, "resolved to "+j.dst+", contacted after it")
			}
		}
		conns, made := s.connTimes(h)
		if len(conns) < minBeats {
			continue
		}
		of := fmt.Sprintf("of the %d connections", len(conns))
		if int64(len(conns)) < made {
			of = fmt.Sprintf("of %d sampled of the %s connections", len(conns), count(float64(made)))
		}
		byName := map[string][]*lookup{}
		for _, r := range rs {
			if r.server != j.dst {
				byName[r.name] = append(byName[r.name], r)
			}
		}
		for _, named := range byName {
			// of a sample of the connections, a sample of the lookups is followed
			led, followed := leads(named, conns)
			if led >= minBeats && 2*led >= len(conns) && 2*int64(followed)*max(made, 1) >= int64(len(named)*len(conns)) {
				for _, r := range named {
					tie(r, j, fmt.Sprintf("before %d %s to %s (within %s)", led, of, j.dst, span(lookupLead)))
				}
			}
		}
	}
	s.lookups = map[lookupKey][]tied{}
	for r, t := range best {
		k := lookupKey{r.client, r.server, r.port, r.proto}
		s.lookups[k] = append(s.lookups[k], *t)
	}
	for _, ts := range s.lookups {
		slices.SortFunc(ts, func(a, b tied) int { return cmp.Compare(a.ts, b.ts) })
	}
	slog.Info("lookups", "records", l.Records, "of clients of strong findings", l.Kept, "joined", len(best))
}

// maxLedConns is how many of a pair's connection times the name rule
// reads: an evenly spaced sample of a busier pair's, so that a judged
// state stays small (it keeps them for each strong pair).
const maxLedConns = 512

// connTimes returns the connection start times of pair h, sorted (at most
// maxLedConns of them), and how many the pair made: from its state, or
// from a judged state.
func (s *FlowSet) connTimes(h uint64) ([]int64, int64) {
	if s.only {
		c := s.conns[h]
		return c.ts, c.events
	}
	p, ok := s.pairs.lookup(h)
	if !ok {
		return nil, 0
	}
	ts := slices.Sorted(slices.Values(p.ts))
	if len(ts) > maxLedConns {
		sample := make([]int64, maxLedConns)
		for i := range sample {
			sample[i] = ts[i*len(ts)/maxLedConns]
		}
		ts = sample
	}
	return ts, p.conns
}

// connSample is what a judged state keeps of a strong pair's connections.
type connSample struct {
	ts     []int64 // sorted
	events int64   // connections made
}

// leads counts the connections (start times, sorted) that start within
// lookupLead after some lookup of named, and the lookups some connection
// follows so.
func leads(named []*lookup, conns []int64) (led, followed int) {
	ts := make([]int64, len(named))
	for i, r := range named {
		ts[i] = r.ts
	}
	slices.Sort(ts)
	for _, c := range conns {
		// the latest lookup at or before c
		i, found := slices.BinarySearch(ts, c)
		if found || (i > 0 && c-ts[i-1] <= lookupLead) {
			led++
		}
	}
	for _, t := range ts {
		i, _ := slices.BinarySearch(conns, t)
		if i < len(conns) && conns[i]-t <= lookupLead {
			followed++
		}
	}
	return led, followed
}

// lookupVerdict returns the verdict of the lookup a flow (src:sport >
// dst:dport over proto, from t0 to t1 ns) carried, either way round, if
// one was tied to a finding; nil when none.
func (s *FlowSet) lookupVerdict(src, dst string, sport, dport int32, proto string, t0, t1 int64) *Verdict {
	if len(s.lookups) == 0 || t1 < t0 || t0 == 0 {
		return nil
	}
	var best *Verdict
	for _, k := range [2]lookupKey{{src, dst, sport, proto}, {dst, src, dport, proto}} {
		ts := s.lookups[k]
		i, _ := slices.BinarySearchFunc(ts, t0-lookupSlack, func(a tied, t int64) int { return cmp.Compare(a.ts, t) })
		for ; i < len(ts) && ts[i].ts <= t1+lookupSlack; i++ {
			if best == nil || ts[i].v.stronger(best) {
				best = &ts[i].v
			}
		}
	}
	return best
}
