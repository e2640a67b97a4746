package enrich

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
)

// Options names the files enrichment reads; every one is optional.
type Options struct {
	Networks   []string // network-context CSVs (LoadNetworks)
	GeoIP      []string // MaxMind-format .mmdb files: City, Country, ASN
	IPLoc      string   // Apache Spot's iploc.csv
	Reputation []string // threat-intelligence lists (LoadIndicators), default level 3
}

// Empty reports whether no file is named (IANA's names are still given).
func (o Options) Empty() bool {
	return len(o.Networks) == 0 && len(o.GeoIP) == 0 && o.IPLoc == "" && len(o.Reputation) == 0
}

// Host is what enrichment knows of one address.
type Host struct {
	Network
	Place
	Rep Hit // Level 0 and no Indicator when on no list
}

// Enricher adds context to records. It caches what it learnt of each
// address (up to cacheSize of them), so a stream of millions of records
// looks each address up once. It is not safe for concurrent use.
type Enricher struct {
	nets  *Networks
	geo   Geo
	rep   *Indicators
	cache map[string]Host
	err   error // the first lookup error; later ones are counted
	nerr  int64
}

const cacheSize = 1 << 20

// Open loads the files o names.
func Open(o Options) (*Enricher, error) {
	e := &Enricher{cache: map[string]Host{}}
	for _, p := range o.Networks {
		n, err := LoadNetworks(p)
		if err != nil {
			return nil, fmt.Errorf("--networks: %w", err)
		}
		if e.nets == nil {
			e.nets = n
		} else {
			e.nets.merge(n)
		}
	}
	for _, p := range o.GeoIP {
		if err := e.geo.OpenMMDB(p); err != nil {
			e.Close()
			return nil, fmt.Errorf("--geoip: %w", err)
		}
	}
	if o.IPLoc != "" {
		if err := e.geo.LoadIPLoc(o.IPLoc); err != nil {
			e.Close()
			return nil, fmt.Errorf("--iploc: %w", err)
		}
	}
	e.rep = NewIndicators()
	for _, p := range o.Reputation {
		if err := e.rep.Load(p, 3); err != nil {
			e.Close()
			return nil, fmt.Errorf("--reputation: %w", err)
		}
	}
	return e, nil
}

// Close releases the databases.
func (e *Enricher) Close() error { return e.geo.Close() }

// HasGeo reports whether a geolocation source was given.
func (e *Enricher) HasGeo() bool { return !e.geo.Empty() }

// Err returns the first lookup error (a damaged database), with a count of
// the others; lookups that failed leave their fields empty.
func (e *Enricher) Err() error {
	if e.err == nil {
		return nil
	}
	if e.nerr > 1 {
		return fmt.Errorf("%w (and %d more lookups failed)", e.err, e.nerr-1)
	}
	return e.err
}

// Host returns what is known of an address given as text; text that is no
// address gives an empty Host.
func (e *Enricher) Host(ip string) Host {
	if h, ok := e.cache[ip]; ok {
		return h
	}
	var h Host
	if a, err := netip.ParseAddr(ip); err == nil {
		h.Network = e.nets.Lookup(a)
		p, err := e.geo.Lookup(a)
		if err != nil {
			e.nerr++
			if e.err == nil {
				e.err = err
			}
		}
		h.Place = p
		h.Rep, _ = e.rep.Addr(a)
	}
	if len(e.cache) >= cacheSize {
		clear(e.cache)
	}
	e.cache[ip] = h
	return h
}

// Domain returns the reputation of a name (or a domain above it).
func (e *Enricher) Domain(name string) Hit { h, _ := e.rep.Domain(name); return h }

// URL returns the reputation of a URL (or one above it, or its host).
func (e *Enricher) URL(u string) Hit { h, _ := e.rep.URL(u); return h }

// verdict gathers hits into the common columns.
type verdict struct {
	v    *record.Verdict
	seen []string
}

func (vd *verdict) add(h Hit) int32 {
	if h.Indicator == "" {
		return 0
	}
	if len(vd.seen) == 0 || h.Level > vd.v.Reputation {
		vd.v.Reputation = h.Level
	}
	s := h.String()
	if slices.Contains(vd.seen, s) {
		return h.Level
	}
	vd.seen = append(vd.seen, s)
	vd.v.RepHits = strings.Join(vd.seen, "; ")
	return h.Level
}

// Flow fills c from f.
func (e *Enricher) Flow(f *record.Flow, c *record.FlowContext) {
	*c = record.FlowContext{}
	vd := verdict{v: &c.Verdict}
	s, d := e.Host(f.SIP), e.Host(f.DIP)
	c.SrcNet, c.SrcInternal = s.Name, s.Internal
	c.SrcCountry, c.SrcCity, c.SrcLat, c.SrcLon, c.SrcASN, c.SrcASOrg = s.Country, s.City, s.Lat, s.Lon, s.ASN, s.ASOrg
	c.DstNet, c.DstInternal = d.Name, d.Internal
	c.DstCountry, c.DstCity, c.DstLat, c.DstLon, c.DstASN, c.DstASOrg = d.Country, d.City, d.Lat, d.Lon, d.ASN, d.ASOrg
	c.SrcRep = vd.add(s.Rep)
	c.DstRep = vd.add(d.Rep)
	c.ProtoNumber = ProtocolNumber(f.Proto)
	switch {
	case !d.Internal:
		c.Country = d.Country
	case !s.Internal:
		c.Country = s.Country
	}
}

// DNS fills c from r.
func (e *Enricher) DNS(r *record.DNS, c *record.DNSContext) {
	*c = record.DNSContext{}
	vd := verdict{v: &c.Verdict}
	cl := e.Host(feature.DNSDoc(r))
	c.ClientNet, c.ClientInternal = cl.Name, cl.Internal
	c.ClientRep = vd.add(cl.Rep)
	c.QryRep = vd.add(e.Domain(r.QryName))
	if r.A != "" {
		a := e.Host(r.A)
		c.AnswerCountry, c.AnswerCity, c.AnswerLat, c.AnswerLon, c.AnswerASN, c.AnswerASOrg = a.Country, a.City, a.Lat, a.Lon, a.ASN, a.ASOrg
		c.AnswerRep = vd.add(a.Rep)
		c.Country = a.Country
	}
	c.QryClassName = DNSClassName(r.QryClass)
	c.QryTypeName = DNSTypeName(r.QryType)
	c.QryRcodeName = DNSRcodeName(r.QryRcode)
}

// Proxy fills c from p.
func (e *Enricher) Proxy(p *record.Proxy, c *record.ProxyContext) {
	*c = record.ProxyContext{}
	vd := verdict{v: &c.Verdict}
	cl := e.Host(p.ClientIP)
	c.ClientNet, c.ClientInternal = cl.Name, cl.Internal
	c.ClientRep = vd.add(cl.Rep)
	host := hostOf(strings.ToLower(p.Host))
	if a, err := netip.ParseAddr(host); err == nil {
		h := e.Host(a.String())
		c.HostCountry, c.HostLat, c.HostLon, c.HostASN, c.HostASOrg = h.Country, h.Lat, h.Lon, h.ASN, h.ASOrg
		c.HostRep = vd.add(h.Rep)
		c.Country = h.Country
	} else {
		c.HostRep = vd.add(e.Domain(host))
	}
	c.URIRep = vd.add(e.URL(p.FullURI))
	c.RespCodeName = HTTPStatusName(p.RespCode)
}

func (n *Networks) merge(o *Networks) {
	for p, nw := range o.prefixes {
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 1000
		}
		n.prefixes[p] = nw
		if !slices.Contains(n.bits, bits) {
			n.bits = append(n.bits, bits)
		}
	}
	slices.Sort(n.bits)
	slices.Reverse(n.bits)
}
