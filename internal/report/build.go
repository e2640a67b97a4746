package report

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Inputs are what a report reads.
type Inputs struct {
	Scored   []*ioformat.Input // scored events of one kind (plain or enriched)
	Findings []*ioformat.Input // findings (spot score with detectors)
	Context  []*ioformat.Input // raw events of the same kind, for the storyboards and the ingest summary
}

// Options shape a report.
type Options struct {
	Top         int              // rows in the suspicious list
	PerSubject  int              // at most this many rows of one subject (see Row.Subject); 0: no cap
	Storyboards int              // hosts given a storyboard
	Enricher    *enrich.Enricher // names hosts and peers; nil: none
	Reenrich    bool             // recompute the rows' enrichment columns (else the input's own are shown)
	Title       string
	Now         time.Time // the report's date (tests fix it)
}

// Limits on what a storyboard keeps, so memory is bounded by what is shown
// whatever the context holds.
const (
	maxPeers    = 4096 // distinct peers (or items) tracked per host
	shownPeers  = 40
	shownItems  = 25
	maxBins     = 1500 // non-empty bins of a timeline or the ingest summary
	maxFindings = 2000
	chordNodes  = 40
)

// Build reads the inputs and gathers the report. It keeps the Top rows
// (lowest score first, ties broken as filter --top does), the findings,
// and for the Storyboards hosts of the list's first rows their events in
// the context (else in the list).
func Build(ctx context.Context, kind record.Kind, in Inputs, o Options) (*Report, error) {
	defer func() {
		for _, x := range slices.Concat(in.Scored, in.Findings, in.Context) {
			x.Close()
		}
	}()
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	r := &Report{Title: o.Title, Kind: kind, Generated: o.Now.UTC().Format(time.RFC3339)}
	if o.Enricher != nil {
		r.HasGeo = o.Enricher.HasGeo()
	}
	var err error
	switch kind {
	case record.KindFlow:
		err = build(ctx, r, in, o, flowOps(o.rowEnricher()))
	case record.KindDNS:
		err = build(ctx, r, in, o, dnsOps(o.rowEnricher()))
	case record.KindProxy:
		err = build(ctx, r, in, o, proxyOps(o.rowEnricher()))
	case record.KindFinding:
		err = readFindings(ctx, r, in.Findings)
	default:
		err = fmt.Errorf("cannot report %s records", kind)
	}
	if err != nil {
		return nil, err
	}
	if o.Enricher != nil {
		if err := o.Enricher.Err(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (o Options) rowEnricher() *enrich.Enricher {
	if o.Reenrich {
		return o.Enricher
	}
	return nil
}

// ops are what the report needs to know of one kind: S is its scored
// record (enriched), E its event.
type ops[S, E any] struct {
	event  func(*S) *E                 // the event inside a scored record
	enrich func(*S)                    // recompute the enrichment columns
	row    func(*S) Row                // the list's row
	view   func(*E) view               // what a storyboard needs of an event, but its item and detail
	detail func(*E, *view)             // fill in the item and detail (only for a storyboard's events)
	ts     func(*E) int64              // an event's time, ns
	cols   []string                    // the columns view reads
	host   func(*Row, *S) string       // the host a row is suspicious for
	place  func(*S) (lat, lon float64) // the remote party's place
	peers  string                      // storyboard labels
	top    string
	unit   string // chord unit
}

// view is an event as a storyboard sees it.
type view struct {
	ns          int64
	src, dst    string // flow: sip, dip; dns: client, server; proxy: client, host
	bytes, pkts int64
	item        string // flow: a connection; dns: the question; proxy: the URI
	detail      string
	agent       string // proxy: the user agent
}

func build[S, E any](ctx context.Context, r *Report, in Inputs, o Options, k ops[S, E]) error {
	top := filter.NewTopN[S](max(o.Top, 1))
	var capped *filter.CappedTopN[S]
	if o.PerSubject > 0 {
		capped = filter.NewCappedTopN[S](max(o.Top, 1), o.PerSubject)
		r.Summary.PerSubject = o.PerSubject
	}
	ingest := newBins(maxBins)
	var seq int64
	var span [2]int64
	eid, method, score := field[S, int64]("eid"), field[S, string]("method"), field[S, float64]("score")
	note := func(ns int64) {
		if ns == 0 {
			return
		}
		if span[0] == 0 || ns < span[0] {
			span[0] = ns
		}
		if ns > span[1] {
			span[1] = ns
		}
	}
	err := each[S](ctx, in.Scored, nil, func(s *S) {
		seq++
		if len(in.Context) == 0 {
			ns := k.ts(k.event(s))
			ingest.add(ns, 1)
			note(ns)
		}
		if r.Summary.Method == "" {
			r.Summary.Method = method(s)
		}
		key := filter.Key{Score: score(s), EID: eid(s), Seq: seq}
		switch {
		case capped != nil:
			if capped.MayWant(key) {
				row := k.row(s)
				if subject := subjectOf(&row, k.host(&row, s)); capped.Wants(key, subject) {
					capped.Offer(key, subject, filter.CloneStrings(*s))
				}
			}
		case top.Wants(key):
			top.Offer(key, filter.CloneStrings(*s))
		}
	})
	if err != nil {
		return err
	}
	r.Summary.Scored = seq
	if err := readFindings(ctx, r, in.Findings); err != nil {
		return err
	}
	recs := top.Sorted()
	if capped != nil {
		recs = capped.Sorted()
	}
	if o.Top <= 0 {
		recs = nil
	}
	// the list
	hostRank := map[string]int{}
	var hosts []string
	for i := range recs {
		s := &recs[i]
		if k.enrich != nil {
			k.enrich(s)
		}
		row := k.row(s)
		row.Rank = i + 1
		row.Host = k.host(&row, s)
		row.Lat, row.Lon = k.place(s)
		r.Rows = append(r.Rows, row)
		if _, ok := hostRank[row.Host]; !ok && row.Host != "" {
			hostRank[row.Host] = row.Rank
			hosts = append(hosts, row.Host)
		}
	}
	r.Summary.Shown = len(r.Rows)
	r.records = recs
	if len(hosts) > o.Storyboards {
		hosts = hosts[:max(o.Storyboards, 0)]
	}
	// the storyboards
	boards := map[string]*board{}
	for _, h := range hosts {
		boards[h] = newBoard(h)
	}
	feed := func(e *E, v view) {
		out, in := boards[v.src], boards[v.dst]
		if in == out {
			in = nil
		}
		if out == nil && in == nil {
			return // most context events: their item is never made
		}
		k.detail(e, &v)
		if out != nil {
			out.add(v, v.dst, "out")
		}
		if in != nil {
			in.add(v, v.src, "in")
		}
	}
	if len(in.Context) > 0 {
		err := each[E](ctx, in.Context, k.cols, func(e *E) {
			v := k.view(e)
			r.Summary.Context++
			ingest.add(v.ns, 1)
			note(v.ns)
			feed(e, v)
		})
		if err != nil {
			return err
		}
	} else {
		for i := range recs {
			e := k.event(&recs[i])
			feed(e, k.view(e))
		}
	}
	r.Ingest = ingest.histogram()
	r.Summary.First, r.Summary.Last = fmtTime(span[0]), fmtTime(span[1])
	for _, h := range hosts {
		sb := boards[h].storyboard(k.peers, k.top, o.Enricher)
		sb.Best = hostRank[h]
		for _, row := range r.Rows {
			if row.Host == h {
				sb.Rows = append(sb.Rows, row.Rank)
				sb.Marks = append(sb.Marks, row.TsNs)
			}
		}
		for _, f := range r.Findings {
			if f.Src == h || f.Dst == h || strings.HasPrefix(f.Subject, h+" ") {
				sb.Findings = append(sb.Findings, f)
			}
		}
		r.Hosts = append(r.Hosts, sb)
	}
	r.Chord = chord(r.Hosts, k.unit)
	return nil
}

// subjectOf is what --per-subject counts rows of: the detector's subject
// (a host, or a host and a peer), else the host the row is suspicious for.
func subjectOf(row *Row, host string) string {
	if row.Subject != "" {
		return row.Subject
	}
	return host
}

// each reads every record of the inputs (only cols of Parquet, when
// named) and calls fn on it.
func each[T any](ctx context.Context, ins []*ioformat.Input, cols []string, fn func(*T)) error {
	buf := ioformat.Touched(make([]T, ioformat.BatchSize))
	for _, in := range ins {
		var rd ioformat.Reader[T]
		var err error
		if in.Format == ioformat.Parquet && len(cols) > 0 {
			rd, err = ioformat.NewReader[T](in, cols...)
			if err != nil {
				rd, err = ioformat.NewReader[T](in)
			}
		} else {
			rd, err = ioformat.NewReader[T](in)
		}
		if err != nil {
			return err
		}
		for {
			if err := ctx.Err(); err != nil {
				rd.Close()
				return err
			}
			n, err := rd.Read(buf)
			for i := range buf[:n] {
				fn(&buf[i])
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rd.Close()
				return err
			}
		}
		if s, ok := rd.(ioformat.Skipper); ok && s.Skipped() > 0 {
			rd.Close()
			return &SkippedError{Name: in.Name, Count: s.Skipped()}
		}
		rd.Close()
	}
	return nil
}

// SkippedError says an input had malformed records (named on stderr as
// they were skipped): the report is made of the rest.
type SkippedError struct {
	Name  string
	Count int64
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("%s: %d malformed records skipped", ioformat.DisplayName(e.Name), e.Count)
}

func readFindings(ctx context.Context, r *Report, ins []*ioformat.Input) error {
	top := filter.NewTopN[record.Finding](maxFindings)
	var seq int64
	err := each[record.Finding](ctx, ins, nil, func(f *record.Finding) {
		seq++
		k := filter.Key{Score: f.Score, EID: f.EID, Seq: seq}
		if top.Wants(k) {
			top.Offer(k, filter.CloneStrings(*f))
		}
	})
	r.Findings = top.Sorted()
	r.Summary.Findings = seq
	return err
}

// board gathers one host's storyboard.
type board struct {
	host        string
	events      int64
	bytes       int64
	first, last int64
	timeline    *bins
	peers       map[string]*peerAgg
	items       map[string]*itemAgg
	agents      map[string]*itemAgg
	capped      bool
	other       int64
}

type peerAgg struct {
	in, out     bool
	events      int64
	bytes, pkts int64
	first, last int64
}

type itemAgg struct {
	events, bytes, maxB int64
	first, last         int64
	detail              string
}

func newBoard(h string) *board {
	return &board{host: h, timeline: newBins(maxBins), peers: map[string]*peerAgg{}, items: map[string]*itemAgg{}, agents: map[string]*itemAgg{}}
}

func (b *board) add(v view, peer, dir string) {
	b.events++
	b.bytes += v.bytes
	if v.ns != 0 {
		if b.first == 0 || v.ns < b.first {
			b.first = v.ns
		}
		b.last = max(b.last, v.ns)
		b.timeline.add(v.ns, 1)
	}
	if peer != "" {
		p := b.peers[peer]
		if p == nil && len(b.peers) < maxPeers {
			p = &peerAgg{first: v.ns}
			b.peers[strings.Clone(peer)] = p // not the reader's page buffer, which it would keep
		}
		if p == nil {
			b.capped = true
			b.other++
		} else {
			p.events++
			p.bytes += v.bytes
			p.pkts += v.pkts
			p.in = p.in || dir == "in"
			p.out = p.out || dir == "out"
			p.first = minNonZero(p.first, v.ns)
			p.last = max(p.last, v.ns)
		}
	}
	addItem(b, b.items, v.item, v)
	addItem(b, b.agents, v.agent, v)
}

func addItem(b *board, m map[string]*itemAgg, key string, v view) {
	if key == "" {
		return
	}
	it := m[key]
	if it == nil {
		if len(m) >= maxPeers {
			b.capped = true
			return
		}
		it = &itemAgg{first: v.ns, detail: strings.Clone(v.detail)}
		m[strings.Clone(key)] = it // not the reader's page buffer, which it would keep
	}
	it.events++
	it.bytes += v.bytes
	it.maxB = max(it.maxB, v.bytes)
	it.first = minNonZero(it.first, v.ns)
	it.last = max(it.last, v.ns)
}

func minNonZero(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func (b *board) storyboard(peerLabel, topLabel string, en *enrich.Enricher) Storyboard {
	sb := Storyboard{Host: b.host, Events: b.events, Bytes: b.bytes, First: fmtTime(b.first), Last: fmtTime(b.last),
		Timeline: b.timeline.histogram(), PeerLabel: peerLabel, TopLabel: topLabel, Capped: b.capped, Other: b.other}
	if en != nil {
		h := en.Host(b.host)
		sb.Net, sb.Internal, sb.Country, sb.City, sb.ASN, sb.ASOrg = h.Name, h.Internal, h.Country, h.City, h.ASN, h.ASOrg
		sb.Reputation = h.Rep.Level
		if h.Rep.Indicator != "" {
			sb.RepHits = h.Rep.String()
		}
	}
	// peers: the busiest by bytes and by events, as Spot's storyboard kept
	names := make([]string, 0, len(b.peers))
	for n := range b.peers {
		names = append(names, n)
	}
	keep := map[string]bool{}
	for _, by := range []func(a, c string) int{
		func(a, c string) int { return cmpDesc(b.peers[a].bytes, b.peers[c].bytes, a, c) },
		func(a, c string) int { return cmpDesc(b.peers[a].events, b.peers[c].events, a, c) },
	} {
		slices.SortFunc(names, by)
		for _, n := range names[:min(shownPeers/2, len(names))] {
			keep[n] = true
		}
	}
	slices.SortFunc(names, func(a, c string) int { return cmpDesc(b.peers[a].events, b.peers[c].events, a, c) })
	for _, n := range names {
		if !keep[n] {
			continue
		}
		p := b.peers[n]
		dir := "both"
		switch {
		case p.in && !p.out:
			dir = "in"
		case p.out && !p.in:
			dir = "out"
		}
		pe := Peer{Name: n, Direction: dir, Events: p.events, Bytes: p.bytes, Packets: p.pkts, First: fmtTime(p.first), Last: fmtTime(p.last)}
		if en != nil {
			h := en.Host(n)
			pe.Country, pe.ASOrg, pe.Net, pe.Rep, pe.Lat, pe.Lon = h.Country, h.ASOrg, h.Name, h.Rep.Level, h.Lat, h.Lon
			if h.Rep.Indicator == "" {
				pe.Rep = en.Domain(n).Level
			}
		}
		sb.Peers = append(sb.Peers, pe)
	}
	sb.Top = topItems(b.items, shownItems)
	sb.Agents = topItems(b.agents, 10)
	return sb
}

func topItems(m map[string]*itemAgg, n int) []Item {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c string) int { return cmpDesc(m[a].events, m[c].events, a, c) })
	var out []Item
	for _, k := range keys[:min(n, len(keys))] {
		it := m[k]
		out = append(out, Item{Key: k, Events: it.events, Bytes: it.bytes, MaxB: it.maxB, First: fmtTime(it.first), Last: fmtTime(it.last), Detail: it.detail})
	}
	return out
}

func cmpDesc(x, y int64, a, b string) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return strings.Compare(a, b)
}

// chord is the traffic between the storyboard hosts and their busiest
// peers (Spot's flow_chords: hosts with more than one peer).
func chord(hosts []Storyboard, unit string) Chord {
	c := Chord{Unit: unit}
	index := map[string]int{}
	node := func(n string) int {
		if i, ok := index[n]; ok {
			return i
		}
		if len(c.Names) >= chordNodes {
			return -1
		}
		index[n] = len(c.Names)
		c.Names = append(c.Names, n)
		return index[n]
	}
	type edge struct {
		a, b int
		w    int64
	}
	var edges []edge
	for _, h := range hosts {
		if len(h.Peers) < 2 {
			continue
		}
		hi := node(h.Host)
		if hi < 0 {
			break
		}
		peers := slices.Clone(h.Peers)
		slices.SortFunc(peers, func(x, y Peer) int { return cmpDesc(weight(x, unit), weight(y, unit), x.Name, y.Name) })
		for _, p := range peers[:min(5, len(peers))] {
			pi := node(p.Name)
			if pi < 0 {
				break
			}
			w := weight(p, unit)
			switch p.Direction {
			case "in":
				edges = append(edges, edge{pi, hi, w})
			case "out":
				edges = append(edges, edge{hi, pi, w})
			default:
				edges = append(edges, edge{hi, pi, (w + 1) / 2}, edge{pi, hi, w / 2})
			}
		}
	}
	c.Matrix = make([][]int64, len(c.Names))
	for i := range c.Matrix {
		c.Matrix[i] = make([]int64, len(c.Names))
	}
	for _, e := range edges {
		c.Matrix[e.a][e.b] += e.w
	}
	return c
}

func weight(p Peer, unit string) int64 {
	if unit == "bytes" {
		return p.Bytes
	}
	return p.Events
}

func eidText(e int64) string { return strconv.FormatInt(e, 10) }

// field reads a column of a record by name (nil when it has none).
func field[T any, V any](name string) func(*T) V {
	off, _, ok := filter.ColumnOffset(reflect.TypeFor[T](), name)
	if !ok {
		return func(*T) V { var zero V; return zero }
	}
	return func(p *T) V { return *(*V)(unsafe.Add(unsafe.Pointer(p), off)) }
}
