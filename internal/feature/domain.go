package feature

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// DomainParser says how a name is split into domain and subdomain.
type DomainParser string

// The domain parsers.
const (
	// ParserSpot is Apache Spot's DomainProcessor: strip one trailing
	// country code, then one trailing generic TLD (com, org, net, int, edu,
	// gov, mil); the last remaining label is the domain. Names whose last
	// label is in neither list (.info, .xyz) have no domain ("None"), and
	// www.google.co.uk gives domain "co".
	ParserSpot DomainParser = "spot"
	// ParserPSL uses the Public Suffix List: the domain is the label left
	// of the public suffix (google in www.google.co.uk, example in
	// a.example.info), the subdomain what is left of it.
	ParserPSL DomainParser = "psl"
)

// ParseDomainParser returns the parser named s.
func ParseDomainParser(s string) (DomainParser, error) {
	switch p := DomainParser(strings.ToLower(s)); p {
	case ParserSpot, ParserPSL:
		return p, nil
	}
	return "", fmt.Errorf("unknown domain parser %q (want spot or psl)", s)
}

// None is Spot's "no domain" and "no subdomain" value.
const None = "None"

var countryCodes = toSet("ac", "ad", "ae", "af", "ag", "ai", "al", "am", "an", "ao", "aq", "ar", "as", "at", "au",
	"aw", "ax", "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bm", "bn", "bo", "bq", "br", "bs", "bt",
	"bv", "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl", "cm", "cn", "co", "cr", "cu", "cv",
	"cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz", "ec", "ee", "eg", "eh", "er", "es", "et", "eu", "fi",
	"fj", "fk", "fm", "fo", "fr", "ga", "gb", "gd", "ge", "gf", "gg", "gh", "gi", "gl", "gm", "gn", "gp", "gq", "gr",
	"gs", "gt", "gu", "gw", "gy", "hk", "hm", "hn", "hr", "ht", "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir",
	"is", "it", "je", "jm", "jo", "jp", "ke", "kg", "kh", "ki", "km", "kn", "kp", "kr", "krd", "kw", "ky", "kz", "la",
	"lb", "lc", "li", "lk", "lr", "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mg", "mh", "mk", "ml", "mm",
	"mn", "mo", "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz", "na", "nc", "ne", "nf", "ng", "ni",
	"nl", "no", "np", "nr", "nu", "nz", "om", "pa", "pe", "pf", "pg", "ph", "pk", "pl", "pm", "pn", "pr", "ps", "pt",
	"pw", "py", "qa", "re", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "sd", "se", "sg", "sh", "si", "sj", "", "sk",
	"sl", "sm", "sn", "so", "sr", "ss", "st", "su", "sv", "sx", "sy", "sz", "tc", "td", "tf", "tg", "th", "tj", "tk",
	"tl", "tm", "tn", "to", "tp", "tr", "tt", "tv", "tw", "tz", "ua", "ug", "uk", "us", "uy", "uz", "va", "vc", "ve",
	"vg", "vi", "vn", "vu", "wf", "ws", "ye", "yt", "za", "zm", "zw")

var genericTLDs = toSet("com", "org", "net", "int", "edu", "gov", "mil")

func toSet(xs ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

// javaSplitDot splits s on '.' as Java's String.split does: trailing empty
// strings are removed (so "a.b." has 2 parts and "." none), but "" is one
// empty part.
func javaSplitDot(s string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, ".")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// SplitDomain returns a name's domain and subdomain ("None" when absent)
// and its number of labels (Spot's numParts, Java split semantics), with
// parser p.
func SplitDomain(name string, p DomainParser) (domain, subdomain string, numParts int) {
	parts := javaSplitDot(name)
	numParts = len(parts)
	domain, subdomain = None, None
	if p == ParserPSL {
		return splitPSL(name, parts)
	}
	if numParts < 2 {
		return
	}
	last := parts[numParts-1]
	if numParts > 2 && last == "arpa" && parts[numParts-2] == "in-addr" {
		return
	}
	_, cc := countryCodes[last]
	_, gt := genericTLDs[last]
	if !cc && !gt {
		return
	}
	rest := parts
	if _, ok := countryCodes[rest[len(rest)-1]]; ok {
		rest = rest[:len(rest)-1]
	}
	// two labels or more, at most one dropped: rest is not empty
	if _, ok := genericTLDs[rest[len(rest)-1]]; ok {
		rest = rest[:len(rest)-1]
	}
	if len(rest) > 0 {
		domain = rest[len(rest)-1]
		if len(rest) > 1 {
			subdomain = strings.Join(rest[:len(rest)-1], ".")
		}
	}
	return
}

func splitPSL(name string, parts []string) (domain, subdomain string, numParts int) {
	numParts = len(parts)
	domain, subdomain = None, None
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	if n == "" || strings.HasSuffix(n, ".in-addr.arpa") || strings.HasSuffix(n, ".ip6.arpa") {
		return
	}
	etld1, err := publicsuffix.EffectiveTLDPlusOne(n)
	if err != nil {
		return // the name is itself a public suffix, or malformed
	}
	label, _, _ := strings.Cut(etld1, ".")
	domain = label
	if len(n) > len(etld1) {
		subdomain = n[:len(n)-len(etld1)-1]
	}
	return
}

// LoadTopDomains reads a top-domain list: CSV rows rank,domain as the
// Alexa and Tranco lists (a row with a single column is taken as the
// domain). As Spot did, only each domain's first label is kept
// (google.com gives google). The result is sorted and unique.
func LoadTopDomains(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTopDomains(f, path)
}

// ReadTopDomains is LoadTopDomains on a reader; name is used in messages.
func ReadTopDomains(r io.Reader, name string) ([]string, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	set := map[string]struct{}{}
	line := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: line %d: %v", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d := rec[len(rec)-1]
		if len(rec) >= 2 {
			d = rec[1]
		}
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || (line == 1 && (d == "domain" || d == "name")) {
			continue
		}
		first, _, _ := strings.Cut(d, ".")
		set[first] = struct{}{}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}
