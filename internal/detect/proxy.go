package detect

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/spot-hunt/spot/internal/record"
)

// Proxy is what the proxy detectors read of a request.
type Proxy struct {
	TsNs      int64
	Client    string
	Host      string
	UserAgent string
	Sent      int64 // bytes from the client (cs-bytes)
	Received  int64 // bytes to the client (sc-bytes)
}

// FromProxy returns what the detectors read of r.
func FromProxy(r *record.Proxy) Proxy {
	return Proxy{TsNs: r.TsNs, Client: r.ClientIP, Host: strings.ToLower(r.Host), UserAgent: r.UserAgent, Sent: r.CSBytes, Received: r.SCBytes}
}

type proxyPair struct {
	client, host string
	beaconState
	sent, received int64
	maxSent        int64
	first, last    int64
}

// agentState counts who sends a user agent.
type agentState struct {
	agent    string
	clients  distinct
	requests int64
	client   string // one client that sent it
}

// ProxySet runs the proxy detectors: beacon and exfil per (client, host),
// rare-agent, and context.
type ProxySet struct {
	lim      Limits
	w0, w1   int64
	pairs    *table[proxyPair]
	beats    beatArena
	strs     strs
	agents   *table[agentState]
	buf      []byte
	verdicts [2]map[uint64]*judged // pairs, (client, agent)
	judgedState
}

// NewProxy returns the proxy detectors with limits lim (zero: the defaults).
func NewProxy(lim Limits) *ProxySet {
	lim = lim.orDefault()
	return &ProxySet{lim: lim,
		pairs:  newTable(lim.Subjects, func(p *proxyPair) int64 { return p.events }),
		agents: newTable(lim.Subjects, func(a *agentState) int64 { return a.requests })}
}

func (s *ProxySet) key(a, b string) uint64 {
	s.buf = append(append(append(s.buf[:0], a...), 0), b...)
	return xxh3.Hash(s.buf)
}

// Observe adds one request to the detectors' state.
func (s *ProxySet) Observe(p *Proxy) {
	if p.TsNs != 0 {
		if s.w0 == 0 || p.TsNs < s.w0 {
			s.w0 = p.TsNs
		}
		s.w1 = max(s.w1, p.TsNs)
	}
	pair := s.pairs.get(s.key(p.Client, p.Host), func() proxyPair { return proxyPair{client: s.strs.get(p.Client), host: s.strs.get(p.Host)} })
	s.beats.room(&pair.beaconState)
	pair.add(p.TsNs, int32(min(p.Sent+p.Received, math.MaxInt32)))
	pair.sent += p.Sent
	pair.received += p.Received
	pair.maxSent = max(pair.maxSent, p.Sent)
	if pair.first == 0 || p.TsNs < pair.first {
		pair.first = p.TsNs
	}
	pair.last = max(pair.last, p.TsNs)
	client := xxh3.HashString(p.Client)
	if p.UserAgent != "" && p.UserAgent != "-" {
		a := s.agents.get(xxh3.HashString(p.UserAgent), func() agentState {
			return agentState{agent: s.strs.get(p.UserAgent), client: s.strs.get(p.Client)}
		})
		a.requests++
		a.clients.add(client, 0)
		if p.Client < a.client {
			a.client = s.strs.get(p.Client) // the first in order, whatever the order of the requests
		}
	}
}

// Finish judges every subject and returns the findings, strongest first.
func (s *ProxySet) Finish() []record.Finding {
	if s.only {
		return s.finishJudged(record.KindProxy, s.lim)
	}
	for i := range s.verdicts {
		s.verdicts[i] = map[uint64]*judged{}
	}
	var all []*judged
	var sent []float64
	for _, p := range s.pairs.all() {
		sent = append(sent, float64(p.sent))
	}
	slices.Sort(sent)
	norm := volumeNorms{host: map[string]float64{}}
	if len(sent) > 0 {
		norm.peers = sent[min(len(sent)-1, len(sent)*95/100)]
	}
	places := newPrevalence()
	clients := map[string]bool{}
	for _, p := range s.pairs.all() {
		places.users[xxh3.HashString(p.host)]++
		clients[p.client] = true
	}
	places.all = len(clients)
	for h, p := range s.pairs.all() {
		ctx := places.modifier(xxh3.HashString(p.host))
		base := judged{src: p.client, dst: p.host, first: p.first, last: p.last, events: p.events}
		subject := p.client + " > " + p.host
		best := (*judged)(nil)
		if r := p.judge(s.w0, s.w1); r.score > 0 && s.lim.enabled("beacon") {
			j := base
			j.Verdict = Verdict{"beacon", clamp01(0.8*r.score + ctx), subject, r.evidence()}
			all = append(all, &j)
			best = &j
		}
		fp := flowPair{src: p.client, out: p.sent, in: p.received, maxOut: p.maxSent, conns: p.events, first: p.first, last: p.last}
		if score, ev := fp.exfil(&norm); score > 0 && s.lim.enabled("exfil") {
			j := base
			j.Verdict = Verdict{"exfil", clamp01(score + ctx), subject, ev}
			all = append(all, &j)
			if best == nil || j.outranks(best) {
				best = &j
			}
		}
		if best != nil && best.Score > 0 {
			s.verdicts[0][h] = best
		}
	}
	nclients := float64(places.all)
	for h, a := range s.agents.all() {
		n := a.clients.count()
		if nclients < 10 || n > 1 || !s.lim.enabled("rare-agent") {
			continue
		}
		j := &judged{Verdict: Verdict{"rare-agent", 0.25, a.client + " uses " + a.agent,
			fmt.Sprintf("user agent %q sent by 1 client of %s, %s requests", a.agent, count(nclients), count(float64(a.requests)))},
			src: a.client, events: a.requests}
		all = append(all, j)
		s.verdicts[1][h] = j
	}
	if d := s.pairs.dropped + s.agents.dropped; d > 0 {
		slog.Warn("detector state full: kept the busiest subjects; findings on the others may be missed",
			"detector", "proxy", "dropped", d, "limit", s.lim.Subjects)
	}
	s.all = all
	return findings(all, record.KindProxy, s.lim.Report)
}

// Explain returns the strongest verdict on the subjects of p (nil when
// none scored). It is not safe for concurrent use.
func (s *ProxySet) Explain(p *Proxy) *Verdict {
	var best *judged
	if j, ok := s.verdicts[0][s.key(p.Client, p.Host)]; ok {
		best = j
	}
	if j, ok := s.verdicts[1][xxh3.HashString(p.UserAgent)]; ok && (best == nil || j.outranks(best)) {
		best = j
	}
	if best == nil {
		return nil
	}
	return &best.Verdict
}
