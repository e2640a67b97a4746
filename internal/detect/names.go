package detect

import (
	"strings"

	"github.com/zeebo/xxh3"
	"golang.org/x/net/publicsuffix"
)

// nameInfo is what the DNS detectors need of a query name.
type nameInfo struct {
	name   string // lowercased, without the trailing dot
	domain string // registrable domain by the Public Suffix List; "" when not judged
	prefix string // the labels left of domain
}

// names caches nameInfo by the name as it came, since names repeat: the
// Public Suffix List lookup is the dearest step of a DNS event. The cache
// is emptied when it reaches maxNames.
type names struct{ m map[string]nameInfo }

const maxNames = 1 << 18

func (c *names) info(raw string) nameInfo {
	if ni, ok := c.m[raw]; ok {
		return ni
	}
	if c.m == nil || len(c.m) >= maxNames {
		c.m = make(map[string]nameInfo, 1024)
	}
	raw = strings.Clone(raw)
	ni := splitName(raw)
	c.m[raw] = ni
	return ni
}

// overlong is how the DNS decoder writes a name too long to print (as
// tshark does): more than 255 characters once its unusual bytes are
// escaped. No benign name comes near; tunnels that put binary data in
// labels (iodine's Base128) do. Such names have no domain to read, so the
// detectors put them all under one: overlongDomain.
const (
	overlong       = "<Name too long>"
	overlongDomain = "(names too long to print)"
)

func splitName(raw string) nameInfo {
	if raw == overlong {
		return nameInfo{name: raw, domain: overlongDomain}
	}
	n := strings.ToLower(strings.TrimSuffix(raw, "."))
	ni := nameInfo{name: n}
	if n == "" || strings.HasSuffix(n, ".arpa") || n == "arpa" || strings.HasSuffix(n, ".local") || !strings.Contains(n, ".") {
		return ni
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(n)
	if err != nil {
		return ni
	}
	ni.domain = d
	if len(n) > len(d) {
		ni.prefix = n[:len(n)-len(d)-1]
	}
	return ni
}

// strs gives the detectors their own copy of a string (the readers reuse
// their buffers), one copy for the subjects that name the same host,
// protocol or user agent while it stays in a direct-mapped cache of recent
// strings: a hit costs a hash and a compare, a miss one copy, and the
// cache's size is fixed whatever the input (a collision costs a copy, never
// more).
type strs struct{ slot []string }

const strSlots = 1 << 16

func (c *strs) get(s string) string {
	if c.slot == nil {
		c.slot = make([]string, strSlots)
	}
	v := &c.slot[xxh3.HashString(s)&(strSlots-1)]
	if *v == s {
		return *v
	}
	*v = strings.Clone(s)
	return *v
}
