package detect

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"

	"github.com/zeebo/xxh3"

	"github.com/spot-hunt/spot/internal/record"
)

// context, names resolved but never contacted: a client that resolves
// names and connects to none of the addresses they resolved to is doing
// something other than using them. DNS tunnels carry their data in answers
// nobody connects to; a C2 channel over DNS, a DGA's probing and malware
// checking that it can reach the Internet resolve without connecting.
// Slips raises this as evidence of its own ("DNS resolution without
// connection", StratosphereLinuxIPS modules/flowalerts: reverse lookups,
// .local, single-label names and answers without an address are not
// checked; a profile with no connections at all is not judged), at its
// lowest threat level: browsers resolve names they never use (DNS
// prefetching), and Slips' changelog fixes false positives of it in
// several releases. spot makes it a context modifier of the DNS verdicts
// (dns-tunnel and beacon of a client and domain or name), never a finding
// of its own, and only where the flows can say anything:
//
//   - the DNS detectors keep, per (client, registrable domain), the
//     answer addresses (dns_a: an answer's first A, else its first AAAA)
//     of its names, as a bottom-k sketch of their hashes (addrSketch: the
//     sketchK smallest, exact up to sketchK addresses, a uniform sample
//     above; it merges exactly) and how many answers carried one; names
//     with no registrable domain (reverse lookups, .local, single labels)
//     and answers of no address, 0.0.0.0 or loopback (a blocked or
//     sinkholed name) are not counted;
//   - flow records given with --contacts (Contacts) say which (client,
//     address) pairs talked, either way round; DNS flows (port 53) are
//     left out: they are the resolution, not its use (and a tunnel could
//     answer with its resolver's address);
//   - a client is judged only if it contacted an address one of its names
//     resolved to (the flows see its connections; a capture of DNS alone,
//     or flows from another vantage point, judge nobody), and it is no
//     resolver (a resolver resolves for others);
//   - a subject whose sampled addresses were contacted, c of n: -0.1·c/n
//     (its names were used: a CDN's random-looking names, software
//     polling a server it then talks to);
//   - a subject none of whose addresses was contacted: +0.1 (RITA's size
//     of modifier), but only when its client contacted at least half of
//     the domains its names resolved to: a host that leaves most of them
//     unused (a prefetching browser) says nothing by leaving one more.
//
// Modifiers apply as the others do, to verdicts scoring above 0: a name
// with no other evidence is never raised by this alone. Without contacts
// nothing changes.

var errJudgedContacts = errors.New("a judged detector state's verdicts are final: give --contacts where it is judged (spot detect --state --judged --contacts FILE)")

// sketchK is how many address hashes a (client, domain) subject keeps.
const sketchK = 8

// addrSketch is the bottom-k sketch of a subject's answer addresses, 48
// bytes: most subjects hold few, and a busy day holds a million subjects.
type addrSketch struct {
	answers int64           // answers that carried an address
	h       [sketchK]uint32 // the n smallest address hashes, ascending
	n       uint8
	more    bool // more distinct addresses were seen than are kept
}

// add records one answer with address hash h.
func (a *addrSketch) add(h uint32) {
	a.answers++
	a.insert(h)
}

// insert keeps h if it is among the sketchK smallest hashes seen.
func (a *addrSketch) insert(h uint32) {
	i, found := slices.BinarySearch(a.h[:a.n], h)
	if found {
		return
	}
	if int(a.n) == sketchK {
		if i == sketchK {
			a.more = true
			return
		}
		a.more = true
		a.n--
	}
	copy(a.h[i+1:a.n+1], a.h[i:a.n])
	a.h[i] = h
	a.n++
}

// merge adds o's addresses: the bottom k of a union is the bottom k of the
// union of the two bottom k's, so merging is exact.
func (a *addrSketch) merge(o *addrSketch) {
	a.answers += o.answers
	a.more = a.more || o.more
	for _, h := range o.h[:o.n] {
		a.insert(h)
	}
}

// count estimates the number of distinct addresses: exact while they fit,
// else (k-1)/(k-th smallest hash, as a share of the hash space).
func (a *addrSketch) count() float64 {
	if !a.more {
		return float64(a.n)
	}
	return (sketchK - 1) / (float64(a.h[sketchK-1]) / math.Exp2(32))
}

func (a *addrSketch) encode(e *enc) {
	e.u(uint64(a.n))
	for _, h := range a.h[:a.n] {
		e.u(uint64(h))
	}
	e.b(a.more)
	e.i(a.answers)
}

func (a *addrSketch) decode(d *dec) {
	n := d.n()
	if n > sketchK {
		d.err = fmt.Errorf("%d answer addresses, more than the %d kept", n, sketchK)
		return
	}
	for range n {
		h := d.u()
		if h > math.MaxUint32 {
			d.err = fmt.Errorf("answer address hash %d out of range", h)
			return
		}
		a.insert(uint32(h))
	}
	a.more = d.b()
	a.answers = d.i()
}

// addrKey is a 32-bit hash of an address, however it was written (IPv4
// as itself or mapped into IPv6; IPv6 in any of its spellings). 32 bits
// are enough: a client's answers are matched to its own contacts only.
func addrKey(s string) (uint32, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, false
	}
	return hashAddr(a), true
}

func hashAddr(a netip.Addr) uint32 {
	b := a.Unmap().As16()
	return uint32(xxh3.Hash(b[:]))
}

// answerKey is addrKey of an answer address that a client could contact:
// not 0.0.0.0, ::, or loopback (a name blocked or sinkholed).
func answerKey(s string) (uint32, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, false
	}
	if a = a.Unmap(); a.IsUnspecified() || a.IsLoopback() {
		return 0, false
	}
	return hashAddr(a), true
}

// Contacts are the (client, address) pairs that flow records say talked,
// either way round, for the context detector of DNS (above). They hold at
// most a cap of distinct pairs: past it, they keep the pairs of a sample
// of hosts, chosen by hash (mask), whole, so that the hosts kept are
// judged exactly and the others not at all.
type Contacts struct {
	max       int
	pairs     []uint64 // the lower address hash, then the higher; sorted and distinct when sealed
	mask      uint32   // a host h is kept when h&mask == 0
	sealed    bool
	Records   int64 // flow records read
	Skipped   int64 // records without two addresses
	DNS       int64 // records to or from port 53, left out
	Malformed int64 // records the readers skipped (counted by the reader of the files)
}

// NewContacts returns an empty set of contacts holding at most max
// distinct pairs (default: Limits' subject cap).
func NewContacts(max int) *Contacts {
	if max <= 0 {
		max = Limits{}.orDefault().Subjects
	}
	return &Contacts{max: max}
}

// AddFlow adds the pair of a flow record.
func (c *Contacts) AddFlow(f *record.Flow) {
	c.Records++
	if (f.Proto == "UDP" || f.Proto == "TCP") && (f.SPort == 53 || f.DPort == 53) {
		c.DNS++
		return
	}
	a, ok1 := addrKey(f.SIP)
	b, ok2 := addrKey(f.DIP)
	if !ok1 || !ok2 {
		c.Skipped++
		return
	}
	c.add(a, b)
}

func (c *Contacts) add(a, b uint32) {
	if a&c.mask != 0 && b&c.mask != 0 {
		return
	}
	c.sealed = false
	c.pairs = append(c.pairs, pairKey(a, b))
	if len(c.pairs) >= 2*c.max {
		c.compact()
	}
}

// compact sorts the pairs, drops repeats and, while more than max remain,
// halves the hosts kept.
func (c *Contacts) compact() {
	slices.Sort(c.pairs)
	c.pairs = slices.Compact(c.pairs)
	for len(c.pairs) > c.max {
		c.mask = c.mask<<1 | 1
		c.pairs = slices.DeleteFunc(c.pairs, func(p uint64) bool { return uint32(p>>32)&c.mask != 0 && uint32(p)&c.mask != 0 })
	}
	c.sealed = true
}

// pairKey is the pair of hosts a and b, either way round.
func pairKey(a, b uint32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

// Seal finishes reading: it says on stderr what was left out. The
// detectors seal contacts themselves if need be.
func (c *Contacts) Seal() {
	if !c.sealed {
		c.compact()
	}
	if c.mask != 0 {
		slog.Warn("contacts full: kept the pairs of a sample of hosts; names of the other clients are not judged against them",
			"pairs", len(c.pairs), "limit", c.max, "hosts kept", fmt.Sprintf("1 in %d", c.mask+1))
	}
}

// Len returns how many distinct pairs are held.
func (c *Contacts) Len() int {
	if !c.sealed {
		c.compact()
	}
	return len(c.pairs)
}

// keeps reports whether the contacts of host h are all held.
func (c *Contacts) keeps(h uint32) bool { return h&c.mask == 0 }

// has reports whether hosts a and b talked.
func (c *Contacts) has(a, b uint32) bool {
	_, ok := slices.BinarySearch(c.pairs, pairKey(a, b))
	return ok
}

// resolutions judge (client, domain) subjects' answer addresses against
// the contacts (see above).
type resolutions struct {
	c       *Contacts
	s       *DNSSet
	clients map[string]*tally // judged clients
}

// tally counts a client's domains that resolved to an address, and those
// of them it contacted.
type tally struct{ domains, contacted int }

// resolution is the context of one subject's answers.
type resolution struct {
	mod       float64
	a         *addrSketch
	contacted int
	client    *tally
}

// resolutions returns the judge of answers; nil without contacts.
func (s *DNSSet) resolutions() *resolutions {
	c := s.lim.Contacts
	if c == nil {
		return nil
	}
	if !c.sealed {
		c.compact()
	}
	r := &resolutions{c: c, s: s, clients: map[string]*tally{}}
	for _, t := range s.tunnels.all() {
		ck, ok := r.judged(t)
		if !ok {
			continue
		}
		ct := r.clients[t.client]
		if ct == nil {
			ct = &tally{}
			r.clients[t.client] = ct
		}
		ct.domains++
		if r.contacted(ck, t) > 0 {
			ct.contacted++
		}
	}
	return r
}

// judged reports whether subject t is judged, with its client's hash.
func (r *resolutions) judged(t *pairState) (uint32, bool) {
	if t.resolved.n == 0 || r.s.resolver[r.s.key(t.client)] {
		return 0, false
	}
	ck, ok := addrKey(t.client)
	return ck, ok && r.c.keeps(ck)
}

// contacted counts the sampled addresses of t its client contacted.
func (r *resolutions) contacted(client uint32, t *pairState) int {
	n := 0
	for _, a := range t.resolved.h[:t.resolved.n] {
		if r.c.has(client, a) {
			n++
		}
	}
	return n
}

// of judges subject t (the zero resolution when it is not judged).
func (r *resolutions) of(t *pairState) resolution {
	if r == nil {
		return resolution{}
	}
	ck, ok := r.judged(t)
	if !ok {
		return resolution{}
	}
	ct := r.clients[t.client]
	if ct.contacted == 0 {
		return resolution{} // the flows do not see this client's connections
	}
	res := resolution{a: &t.resolved, contacted: r.contacted(ck, t), client: ct}
	switch {
	case res.contacted > 0:
		res.mod = -0.1 * float64(res.contacted) / float64(t.resolved.n)
	case 2*ct.contacted >= ct.domains:
		res.mod = 0.1
	}
	return res
}

// evidence is what follows a verdict's evidence ("" when not judged).
func (r resolution) evidence() string {
	if r.a == nil {
		return ""
	}
	a := r.a
	addrs, contacted, none := count(a.count())+" addresses", fmt.Sprintf("%d contacted", r.contacted), "contacted none"
	if a.more {
		addrs = "~" + addrs
		contacted = fmt.Sprintf("%d of %d sampled contacted", r.contacted, a.n)
		none = fmt.Sprintf("none of %d sampled contacted", a.n)
	}
	what := fmt.Sprintf("; its names resolved to %s (%s answers), ", addrs, count(float64(a.answers)))
	switch {
	case r.contacted > 0:
		return what + contacted
	case r.mod > 0:
		return what + none
	}
	return fmt.Sprintf("%s%s, as %d of the %d domains its client resolved", what, none, r.client.domains-r.client.contacted, r.client.domains)
}
