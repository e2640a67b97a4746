package enrich

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Hit is an indicator found on a list: what matched, its level and the
// list it came from.
type Hit struct {
	Indicator string // the list's entry, e.g. 203.0.113.0/24, evil.example
	Level     int32  // Apache Spot's reputation levels: -1 unverified, 0 none, 1 low, 2 medium, 3 high
	Label     string // the list's name (its file name unless the row names one)
}

func (h Hit) String() string {
	return fmt.Sprintf("%s on %s (%d)", h.Indicator, h.Label, h.Level)
}

// Indicators is a set of network indicators, each with a level and a
// label: addresses and CIDR blocks (longest prefix wins), domain names (a
// name matches itself and every name under it) and URLs (a URL matches
// itself and the URLs below it at a '/' or '?'). Reputation lists and allow
// lists are both Indicators.
type Indicators struct {
	prefixes map[netip.Prefix]Hit
	bits     []int // prefix lengths present, longest first
	domains  map[string]Hit
	urls     map[string]Hit
}

// NewIndicators returns an empty set.
func NewIndicators() *Indicators {
	return &Indicators{prefixes: map[netip.Prefix]Hit{}, domains: map[string]Hit{}, urls: map[string]Hit{}}
}

// Len is the number of entries.
func (s *Indicators) Len() int { return len(s.prefixes) + len(s.domains) + len(s.urls) }

// HasAddrs, HasDomains and HasURLs say which kinds of entry the set holds,
// so callers skip lookups that cannot match.
func (s *Indicators) HasAddrs() bool   { return len(s.prefixes) > 0 }
func (s *Indicators) HasDomains() bool { return len(s.domains) > 0 }
func (s *Indicators) HasURLs() bool    { return len(s.urls) > 0 }

// LoadIndicators reads a list file. Each line holds one indicator, then
// optionally a level (-1..3, else defaultLevel) and a label (else the file's
// name), separated by commas or tabs; blank lines and lines starting with #
// are skipped, and so is a header row. An indicator is an address, a CIDR
// block, an address range a-b, a domain name (*.example is example), a URL
// (scheme optional: it is dropped), or a hosts-file line ("0.0.0.0 name").
func LoadIndicators(path string, defaultLevel int32) (*Indicators, error) {
	s := NewIndicators()
	return s, s.Load(path, defaultLevel)
}

// Load adds a list file's entries (see LoadIndicators).
func (s *Indicators) Load(path string, defaultLevel int32) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	label := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return s.read(f, path, label, defaultLevel)
}

func (s *Indicators) read(r io.Reader, name, label string, defaultLevel int32) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line, rows := 0, 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" || text[0] == '#' {
			continue
		}
		rows++
		fields := splitFields(text)
		ind := fields[0]
		// hosts-file format: an address, then the name it blocks
		if len(fields) >= 2 && (ind == "0.0.0.0" || ind == "127.0.0.1" || ind == "::" || ind == "::1") && isDomain(fields[1]) {
			fields = fields[1:]
			ind = fields[0]
		}
		if rows == 1 && !isIndicator(ind) {
			continue // a header row
		}
		h := Hit{Indicator: ind, Level: defaultLevel, Label: label}
		if len(fields) >= 2 && fields[1] != "" {
			lv, err := strconv.Atoi(fields[1])
			if err != nil || lv < -1 || lv > 3 {
				return fmt.Errorf("%s: line %d: level %q is not one of -1, 0, 1, 2, 3", name, line, fields[1])
			}
			h.Level = int32(lv)
		}
		if len(fields) >= 3 && fields[2] != "" {
			h.Label = fields[2]
		}
		if err := s.add(ind, h); err != nil {
			return fmt.Errorf("%s: line %d: %v", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func splitFields(text string) []string {
	var fields []string
	if strings.ContainsAny(text, ",\t") {
		fields = strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\t' })
	} else {
		fields = strings.Fields(text)
	}
	for i := range fields {
		fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
	}
	if len(fields) == 0 {
		fields = []string{""}
	}
	return fields
}

func isIndicator(ind string) bool { return NewIndicators().add(ind, Hit{}) == nil }

// add adds one indicator with its hit.
func (s *Indicators) add(ind string, h Hit) error {
	if p, err := parseNetwork(ind); err == nil {
		for _, q := range p {
			s.addPrefix(q, h)
		}
		return nil
	}
	if u, ok := normalURL(ind); ok {
		s.urls[u] = h
		return nil
	}
	d := normalDomain(strings.TrimPrefix(ind, "*."))
	if !isDomain(d) {
		return fmt.Errorf("%q is neither an address, a network, a domain nor a URL", ind)
	}
	s.domains[d] = h
	return nil
}

func (s *Indicators) addPrefix(p netip.Prefix, h Hit) {
	p = p.Masked()
	if _, ok := s.prefixes[p]; !ok {
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 1000 // keep v4 and v6 lengths apart
		}
		if !slices.Contains(s.bits, bits) {
			s.bits = append(s.bits, bits)
			slices.Sort(s.bits)
			slices.Reverse(s.bits)
		}
	}
	s.prefixes[p] = h
}

// Addr returns the longest-prefix entry holding addr, if any.
func (s *Indicators) Addr(addr netip.Addr) (Hit, bool) {
	if len(s.prefixes) == 0 || !addr.IsValid() {
		return Hit{}, false
	}
	addr = addr.Unmap()
	v4 := addr.Is4()
	for _, b := range s.bits {
		if (b >= 1000) != v4 {
			continue
		}
		if b >= 1000 {
			b -= 1000
		}
		p, _ := addr.Prefix(b)
		if h, ok := s.prefixes[p]; ok {
			return h, true
		}
	}
	return Hit{}, false
}

// AddrString is Addr of an address's text; text that is no address matches nothing.
func (s *Indicators) AddrString(ip string) (Hit, bool) {
	if len(s.prefixes) == 0 {
		return Hit{}, false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return Hit{}, false
	}
	return s.Addr(a)
}

// Domain returns the entry for name or the closest domain above it.
func (s *Indicators) Domain(name string) (Hit, bool) {
	if len(s.domains) == 0 || name == "" {
		return Hit{}, false
	}
	name = normalDomain(name)
	for {
		if h, ok := s.domains[name]; ok {
			return h, true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return Hit{}, false
		}
		name = name[i+1:]
	}
}

// URL returns the entry for u or the closest URL above it (cut at a '/' or
// '?'), else the entry of its host (address or domain).
func (s *Indicators) URL(u string) (Hit, bool) {
	n, ok := normalURL(u)
	if !ok {
		n = u
	}
	if len(s.urls) > 0 {
		for cut := len(n); cut > 0; {
			if h, ok := s.urls[n[:cut]]; ok {
				return h, true
			}
			cut = strings.LastIndexAny(n[:cut], "/?")
		}
	}
	return s.Host(hostOf(n))
}

// Host returns the entry of a host that is an address or a name.
func (s *Indicators) Host(host string) (Hit, bool) {
	if host == "" {
		return Hit{}, false
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return s.Addr(a)
	}
	return s.Domain(host)
}

// hostOf returns the host of a scheme-less URL: up to the first '/', '?'
// or ':' (an IPv6 literal is bracketed).
func hostOf(u string) string {
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i > 0 {
			return u[1:i]
		}
	}
	if i := strings.IndexAny(u, "/?:#"); i >= 0 {
		return u[:i]
	}
	return u
}

// normalURL drops a URL's scheme, lower-cases its host and drops a default
// port and a fragment, so "HTTP://Evil.example:80/x" is "evil.example/x",
// as Apache Spot's fulluri column spells it. ok is false for text that is
// not a URL (no '/' after a host, no scheme).
func normalURL(u string) (string, bool) {
	scheme := ""
	if i := strings.Index(u, "://"); i > 0 {
		scheme = strings.ToLower(u[:i])
		u = u[i+3:]
	} else if !strings.Contains(u, "/") {
		return "", false
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	end := strings.IndexAny(u, "/?")
	if end < 0 {
		end = len(u)
	}
	host := strings.ToLower(u[:end])
	if (scheme == "http" || scheme == "") && strings.HasSuffix(host, ":80") {
		host = strings.TrimSuffix(host, ":80")
	}
	if scheme == "https" && strings.HasSuffix(host, ":443") {
		host = strings.TrimSuffix(host, ":443")
	}
	rest := u[end:]
	if rest == "/" {
		rest = ""
	}
	if host == "" {
		return "", false
	}
	return host + rest, true
}

func normalDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}

// isDomain reports whether d looks like a DNS name: labels of letters,
// digits, '-' and '_', at least two of them.
func isDomain(d string) bool {
	d = normalDomain(d)
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// parseNetwork parses an address, a CIDR block or an inclusive range a-b
// into the prefixes that cover it exactly.
func parseNetwork(s string) ([]netip.Prefix, error) {
	if a, b, ok := strings.Cut(s, "-"); ok {
		lo, err1 := netip.ParseAddr(strings.TrimSpace(a))
		hi, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not an address range", s)
		}
		return rangePrefixes(lo.Unmap(), hi.Unmap())
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return []netip.Prefix{p.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, err
	}
	a = a.Unmap()
	return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
}

// rangePrefixes returns the fewest prefixes covering lo..hi inclusive.
func rangePrefixes(lo, hi netip.Addr) ([]netip.Prefix, error) {
	if lo.Is4() != hi.Is4() || hi.Less(lo) {
		return nil, fmt.Errorf("%s-%s is not an address range", lo, hi)
	}
	var out []netip.Prefix
	for {
		// the largest block starting at lo that ends at or before hi
		bits := lo.BitLen()
		for bits > 0 {
			p := netip.PrefixFrom(lo, bits-1).Masked()
			if p.Addr() != lo || lastAddr(p).Compare(hi) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(lo, bits)
		out = append(out, p)
		last := lastAddr(p)
		if last.Compare(hi) >= 0 {
			return out, nil
		}
		lo = last.Next()
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
