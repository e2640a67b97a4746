package detect

import (
	"log/slog"
	"slices"
	"sort"

	"github.com/zeebo/xxh3"

	"github.com/spot-hunt/spot/internal/record"
)

// DNS is what the DNS detectors read of a message. The parquet tags name
// the DNS columns its fields are read from (ioformat.PairReader), before
// Complete (which swaps Client and Server for a query).
type DNS struct {
	TsNs   int64  `parquet:"ts_ns"`
	Client string `parquet:"ip_dst"`        // the document: ip_dst of a response, ip_src of a query
	Server string `parquet:"ip_src"`        // the other side: ip_src of a response, ip_dst of a query
	Name   string `parquet:"dns_qry_name"`  // the question name, as decoded
	QType  int32  `parquet:"dns_qry_type"`  //
	RCode  int32  `parquet:"dns_qry_rcode"` //
	Size   int32  `parquet:"frame_len"`     // the packet's length
	Addr   string `parquet:"dns_a"`         // the answer's address: its first A, else its first AAAA
}

// FromDNS returns what the detectors read of r.
func FromDNS(r *record.DNS) DNS {
	e := DNS{TsNs: r.TsNs, Client: r.IPDst, Server: r.IPSrc, Name: r.QryName, QType: r.QryType, RCode: r.QryRcode, Size: r.FrameLen, Addr: r.A}
	e.Complete(&DNSRest{UnixTstamp: r.UnixTstamp, Response: r.Response})
	return e
}

// Limits bound the detectors' state.
type Limits struct {
	// Subjects is the most subjects one table keeps (default 1<<20); a
	// subject's state is a few hundred bytes, plus up to maxExact distinct
	// names or maxBeats event times for the busiest.
	Subjects int
	// Report is the least score a subject needs to be written as a finding
	// (default 0.2, RITA's lowest bucket).
	Report float64
	// Only, when not empty, names the detectors to run (Names); the others
	// judge nothing.
	Only []string
	// Contacts, when not nil, are the (client, address) pairs that flow
	// records say talked: the DNS detectors' context then weighs whether a
	// client contacted what its names resolved to (contacts.go).
	Contacts *Contacts
}

// Names lists the detectors.
var Names = []string{"dns-tunnel", "beacon", "scan", "exfil", "long-conn", "brute-force", "rare-agent", "host"}

// enabled reports whether detector name runs under l.
func (l Limits) enabled(name string) bool {
	return len(l.Only) == 0 || slices.Contains(l.Only, name)
}

func (l Limits) orDefault() Limits {
	if l.Subjects <= 0 {
		l.Subjects = 1 << 20
	}
	if l.Report <= 0 {
		l.Report = 0.2
	}
	return l
}

// pairState is a (client, domain) subject's: the information in its names
// (dns-tunnel) and the addresses they resolved to (context, contacts.go).
type pairState struct {
	tunnelState
	resolved addrSketch
}

type dnsBeacon struct {
	client, name string // name: a query name or a registrable domain
	beaconState
	odd int64
}

// serverState counts the clients a DNS server answered: a host that
// answers several clients and asks servers itself is a resolver.
type serverState struct {
	server  string
	clients distinct
	events  int64
}

// DNSSet runs the DNS detectors: dns-tunnel, beacon and context.
type DNSSet struct {
	lim      Limits
	w0, w1   int64
	tunnels  *table[pairState]   // (client, domain)
	domains  *table[tunnelState] // domain, every client
	names    *table[dnsBeacon]   // (client, name)
	beacons  *table[dnsBeacon]   // (client, domain)
	servers  *table[serverState] // server -> clients
	cache    names
	beats    beatArena
	strs     strs
	buf      []byte
	verdicts [5]map[uint64]*judged // by table: tunnels, domains, names, beacons; 4: a domain's best verdict on a client that is no resolver
	resolver map[uint64]bool       // clients that are resolvers
	judgedState
	part // a share of the subjects (DNSParts)
}

// NewDNS returns the DNS detectors with limits lim (zero: the defaults).
func NewDNS(lim Limits) *DNSSet {
	lim = lim.orDefault()
	ts := func(s *tunnelState) int64 { return s.events }
	bs := func(s *dnsBeacon) int64 { return s.events }
	return &DNSSet{lim: lim,
		tunnels: newTable(lim.Subjects, func(s *pairState) int64 { return s.events }), domains: newTable(lim.Subjects, ts),
		names: newTable(lim.Subjects, bs), beacons: newTable(lim.Subjects, bs),
		servers: newTable(lim.Subjects, func(s *serverState) int64 { return s.events })}
}

// key hashes the parts of a subject.
func (s *DNSSet) key(parts ...string) uint64 {
	b := s.buf[:0]
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	s.buf = b
	return xxh3.Hash(b)
}

// Observe adds one message to the detectors' state.
func (s *DNSSet) Observe(e *DNS) {
	var k dnsKeys
	s.keys(e, &k)
	s.observeKeyed(e, &k)
}

// dnsKeys are what the detectors read of a message's name and the keys of
// its subjects (pair: the tunnel's and the domain beacon's).
type dnsKeys struct {
	ni                         nameInfo
	server, name, pair, domain uint64
}

func (s *DNSSet) keys(e *DNS, k *dnsKeys) {
	k.ni = s.cache.info(e.Name)
	if e.Server != "" {
		k.server = s.key(e.Server)
	}
	k.name = s.key(e.Client, k.ni.name)
	if k.ni.domain != "" {
		k.pair = s.key(e.Client, k.ni.domain)
		k.domain = s.key(k.ni.domain)
	}
}

// observeKeyed adds message e, whose name and subjects' keys are k.
func (s *DNSSet) observeKeyed(e *DNS, k *dnsKeys) {
	if e.TsNs != 0 {
		if s.w0 == 0 || e.TsNs < s.w0 {
			s.w0 = e.TsNs
		}
		s.w1 = max(s.w1, e.TsNs)
	}
	ni := &k.ni
	if e.Server != "" && s.mine(k.server) {
		sv := s.servers.get(k.server, func() serverState { return serverState{server: s.strs.get(e.Server)} })
		sv.events++
		sv.clients.add(xxh3.HashString(e.Client), 0)
	}
	if s.mine(k.name) {
		nb := s.names.get(k.name, func() dnsBeacon { return dnsBeacon{client: s.strs.get(e.Client), name: ni.name} })
		s.beats.room(&nb.beaconState)
		nb.add(e.TsNs, e.Size)
		if oddType(e.QType) {
			nb.odd++
		}
	}
	if ni.domain == "" {
		return
	}
	if s.mine(k.pair) {
		t := s.tunnels.get(k.pair, func() pairState {
			return pairState{tunnelState: tunnelState{client: s.strs.get(e.Client), domain: ni.domain}}
		})
		t.observe(e, ni)
		if e.Addr != "" {
			if h, ok := answerKey(e.Addr); ok {
				t.resolved.add(h)
			}
		}
		db := s.beacons.get(k.pair, func() dnsBeacon { return dnsBeacon{client: s.strs.get(e.Client), name: ni.domain} })
		s.beats.room(&db.beaconState)
		db.add(e.TsNs, e.Size)
		if oddType(e.QType) {
			db.odd++
		}
	}
	if s.mine(k.domain) {
		s.domains.get(k.domain, func() tunnelState { return tunnelState{domain: ni.domain} }).observe(e, ni)
	}
}

// Finish judges every subject and returns the findings (subjects scoring
// at least Limits.Report), strongest first. Explain works after Finish.
//
// A resolver (a host that answered two clients or more and asked servers
// itself) asks on its clients' behalf, when its cache runs out: the rhythm
// of its own queries is its caches', so its beacon scores count half. Its
// events take instead the strongest verdict on their domain among the
// clients that are no resolvers: the upstream side of a client's tunnel or
// beacon is the same attack.
func (s *DNSSet) Finish() []record.Finding {
	if s.only {
		return s.finishJudged(record.KindDNS, s.lim)
	}
	for i := range s.verdicts {
		s.verdicts[i] = map[uint64]*judged{}
	}
	places := newPrevalence()
	clients := map[string]bool{}
	for _, t := range s.tunnels.all() {
		places.users[s.key(t.domain)]++
	}
	for _, b := range s.names.all() {
		clients[b.client] = true
	}
	places.all = len(clients)
	s.resolver = map[uint64]bool{}
	for _, sv := range s.servers.all() {
		if sv.clients.count() >= 2 && clients[sv.server] {
			s.resolver[s.key(sv.server)] = true
		}
	}
	res := s.resolutions()
	var all []*judged
	keep := func(i int, h uint64, j *judged) {
		if j.Score <= 0 || !s.lim.enabled(j.Detector) {
			return
		}
		s.verdicts[i][h] = j
		all = append(all, j)
		if !s.resolver[s.key(j.src)] && j.dst != "" {
			dom := s.key(s.cache.info(j.dst).domain)
			if old, ok := s.verdicts[4][dom]; !ok || j.outranks(old) {
				s.verdicts[4][dom] = j
			}
		}
	}
	for h, t := range s.tunnels.all() {
		r := res.of(t)
		score, ev := t.judge(1, places.modifier(s.key(t.domain))+r.mod)
		if score > 0 {
			ev += r.evidence()
		}
		keep(0, h, &judged{Verdict: Verdict{"dns-tunnel", score, t.client + " > " + t.domain, ev},
			src: t.client, dst: t.domain, first: t.first, last: t.last, events: t.events})
	}
	for h, t := range s.domains.all() {
		users := float64(places.users[h])
		if users < 2 {
			continue // the (client, domain) subject says it all
		}
		score, ev := t.judge(users, places.modifier(h))
		keep(1, h, &judged{Verdict: Verdict{"dns-tunnel", score, "* > " + t.domain, ev},
			dst: t.domain, first: t.first, last: t.last, events: t.events})
	}
	beacons := func(i int, tb *table[dnsBeacon], domains bool) {
		for h, b := range tb.all() {
			r := b.judge(s.w0, s.w1)
			if r.score <= 0 {
				continue
			}
			dom := b.name
			if !domains {
				dom = s.cache.info(b.name).domain
			}
			score := 0.5 * r.score
			if s.resolver[s.key(b.client)] {
				score /= 2
			}
			if 2*b.odd >= b.events {
				score += 0.2
			}
			if domains {
				// a new name at nearly every beat: data, or polling that defeats caches
				if t, ok := s.tunnels.lookup(h); ok && t.names.count() >= 0.8*float64(r.beats) {
					score += 0.2
				}
			}
			ev := r.evidence()
			if dom != "" {
				score += places.modifier(s.key(dom))
				if res != nil {
					pair := h
					if !domains {
						pair = s.key(b.client, dom)
					}
					if t, ok := s.tunnels.lookup(pair); ok {
						r := res.of(t)
						score += r.mod
						ev += r.evidence()
					}
				}
			}
			keep(i, h, &judged{Verdict: Verdict{"beacon", clamp01(score), b.client + " > " + b.name, ev},
				src: b.client, dst: b.name, first: r.first, last: r.last, events: b.events})
		}
	}
	beacons(2, s.names, false)
	beacons(3, s.beacons, true)
	for _, t := range []struct {
		name    string
		dropped int64
	}{{"dns-tunnel (client, domain)", s.tunnels.dropped}, {"dns-tunnel (domain)", s.domains.dropped},
		{"beacon (client, name)", s.names.dropped}, {"beacon (client, domain)", s.beacons.dropped},
		{"context (server)", s.servers.dropped}} {
		if t.dropped > 0 {
			slog.Warn("detector state full: kept the busiest subjects; findings on the others may be missed",
				"detector", t.name, "dropped", t.dropped, "limit", s.lim.Subjects)
		}
	}
	s.all = all
	return findings(all, record.KindDNS, s.lim.Report)
}

// Explain returns the strongest verdict on the subjects of e (nil when
// none scored). It is not safe for concurrent use.
func (s *DNSSet) Explain(e *DNS) *Verdict {
	var best *judged
	try := func(i int, h uint64) {
		if j, ok := s.verdicts[i][h]; ok && (best == nil || j.outranks(best)) {
			best = j
		}
	}
	ni := s.cache.info(e.Name)
	try(2, s.key(e.Client, ni.name))
	if ni.domain != "" {
		pair := s.key(e.Client, ni.domain)
		try(0, pair)
		try(1, s.key(ni.domain))
		try(3, pair)
		if s.resolver[s.key(e.Client)] {
			try(4, s.key(ni.domain))
		}
	}
	if best == nil {
		return nil
	}
	return &best.Verdict
}

// findings turns the verdicts scoring at least min into finding records,
// strongest first.
func findings(all []*judged, kind record.Kind, min float64) []record.Finding {
	sort.Slice(all, func(i, j int) bool { return all[i].outranks(all[j]) })
	var out []record.Finding
	for _, j := range all {
		if j.Score < min {
			break
		}
		out = append(out, j.finding(kind))
	}
	return out
}
