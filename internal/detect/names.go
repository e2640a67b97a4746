package detect

import (
	"math/rand/v2"
	"strings"

	"github.com/zeebo/xxh3"
	"golang.org/x/net/publicsuffix"
)

// nameInfo is what the DNS detectors need of a query name.
type nameInfo struct {
	name   string // lowercased, without the trailing dot
	domain string // registrable domain by the Public Suffix List; "" when not judged
	prefix string // the labels left of domain
	// With a domain: prefix's hash (xxh3) and information (nameBits),
	// which each message of the name adds to two tunnel subjects.
	hash uint64
	bits float32
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
	ni.hash, ni.bits = xxh3.HashString(ni.prefix), float32(nameBits(ni.prefix))
	return ni
}

// strs gives the detectors their own copy of a string (the readers reuse
// their buffers), one copy for the subjects that name the same host,
// protocol or user agent while it stays in a direct-mapped cache of recent
// strings: a hit costs a hash, a miss one copy, and the cache's size is
// fixed whatever the input (a collision costs a copy, never more). A hit
// is told by length and a 64-bit hash seeded at random, not by comparing
// the bytes, which are seldom in the CPU's caches when a new subject asks:
// two strings told apart by neither would be one in 2^48 of a slot's
// collisions, and input cannot aim at a seed it does not know.
type strs struct {
	slot []interned
	seed uint64
}

type interned struct {
	h uint64
	s string
}

const strSlots = 1 << 16

func (c *strs) get(s string) string { return c.getHashed(s, c.hash(s)) }

// newStrs returns a strs whose hashes are seeded with seed (a zero strs
// makes its own seed when first used).
func newStrs(seed uint64) strs { return strs{slot: make([]interned, strSlots), seed: seed} }

// hash returns the hash that get would make of s.
func (c *strs) hash(s string) uint64 {
	if c.slot == nil {
		c.slot, c.seed = make([]interned, strSlots), rand.Uint64()
	}
	return xxh3.HashStringSeed(s, c.seed)
}

// touch loads the slot of a string of hash h, as table.touch does.
func (c *strs) touch(h uint64) uint64 { return c.slot[h&(strSlots-1)].h }

// getHashed is get of s, whose hash is h.
func (c *strs) getHashed(s string, h uint64) string {
	v := &c.slot[h&(strSlots-1)]
	if v.h != h || len(v.s) != len(s) {
		*v = interned{h, strings.Clone(s)}
	}
	return v.s
}
