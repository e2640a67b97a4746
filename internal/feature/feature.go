// Package feature turns events into Apache Spot's words and documents
// (reference: apache-spot.md §2.2–2.5): row filters, log2 and hour bins,
// the 20 entropy bins, the flow port rules with the "-1_" prefix, the
// top-domain class and the user domain.
//
// A Featurizer holds the settings a model must carry so that scoring makes
// the same words as training (Settings/FromSettings round-trip them through
// a model's Features map).
package feature

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spot-hunt/spot/internal/record"
)

// Options are the featurizer's inputs beyond the events themselves.
type Options struct {
	// TopDomains are first labels of popular domains (see LoadTopDomains).
	TopDomains []string
	// UserDomain is the organisation's own domain label (Spot's
	// --userdomain; its proxy code hard-coded "intel").
	UserDomain string
	// Parser splits names into domain and subdomain (default ParserSpot).
	Parser DomainParser
	// UserAgents are the proxy user-agent counts the words are made with;
	// nil means "count them over the data featurized" (as Spot did).
	UserAgents map[string]int64
}

// Featurizer makes words with fixed options.
type Featurizer struct {
	Kind       record.Kind
	opt        Options
	top        map[string]struct{}
	userDomain string
}

// New returns a featurizer for kind with options o.
func New(kind record.Kind, o Options) *Featurizer {
	if o.Parser == "" {
		o.Parser = ParserSpot
	}
	f := &Featurizer{Kind: kind, opt: o, top: toSet(o.TopDomains...), userDomain: strings.ToLower(o.UserDomain)}
	return f
}

// Options returns the featurizer's options.
func (f *Featurizer) Options() Options { return f.opt }

// Keys of the settings map a model stores.
const (
	KeyParser     = "domain_parser"
	KeyUserDomain = "user_domain"
	KeyTopDomains = "top_domains" // newline-separated first labels
	KeyUserAgents = "user_agents" // JSON object agent -> count
	KeyRules      = "word_rules"  // always "spot-v1" for now
)

// RulesVersion names the word rules implemented here.
const RulesVersion = "spot-v1"

// Settings returns the featurizer's settings as the string map a model
// stores (lda.Model.Features).
func (f *Featurizer) Settings() map[string]string {
	m := map[string]string{
		KeyRules:      RulesVersion,
		KeyParser:     string(f.opt.Parser),
		KeyUserDomain: f.opt.UserDomain,
		KeyTopDomains: strings.Join(f.opt.TopDomains, "\n"),
	}
	if f.opt.UserAgents != nil {
		b, _ := json.Marshal(f.opt.UserAgents) // map keys are sorted: deterministic
		m[KeyUserAgents] = string(b)
	}
	return m
}

// FromSettings rebuilds a featurizer from a model's stored settings.
func FromSettings(kind record.Kind, m map[string]string) (*Featurizer, error) {
	if r := m[KeyRules]; r != "" && r != RulesVersion {
		return nil, fmt.Errorf("model made with word rules %q; this spot knows %q", r, RulesVersion)
	}
	var o Options
	if p := m[KeyParser]; p != "" {
		pp, err := ParseDomainParser(p)
		if err != nil {
			return nil, err
		}
		o.Parser = pp
	}
	o.UserDomain = m[KeyUserDomain]
	if t := m[KeyTopDomains]; t != "" {
		o.TopDomains = strings.Split(t, "\n")
	}
	if u, ok := m[KeyUserAgents]; ok && u != "" {
		if err := json.Unmarshal([]byte(u), &o.UserAgents); err != nil {
			return nil, fmt.Errorf("model's user-agent counts: %w", err)
		}
	}
	return New(kind, o), nil
}

// topDomainClass is 2 for the user's domain, 1 for a top domain, else 0.
func (f *Featurizer) topDomainClass(domain string) int {
	if f.userDomain != "" && domain == f.userDomain {
		return 2
	}
	if _, ok := f.top[domain]; ok {
		return 1
	}
	return 0
}

// ---- flow ----

// Flow port encodings of Spot's FlowWordCreator.
const (
	lowToLow   = 111111
	highToHigh = 333333
)

// FlowReject returns why Spot would drop a flow row, or "" when it is kept:
// trhour in 0–23, trminute and trsec in 0–59, treceived, sip and dip
// present, sport, dport, ibyt and ipkt ≥ 0.
func FlowReject(r *record.Flow) string {
	switch {
	case r.TrHour < 0 || r.TrHour > 23:
		return "trhour out of 0-23"
	case r.TrMinute < 0 || r.TrMinute > 59:
		return "trminute out of 0-59"
	case r.TrSec < 0 || r.TrSec > 59:
		return "trsec out of 0-59"
	case r.TReceived == "":
		return "no treceived"
	case r.SIP == "":
		return "no sip"
	case r.DIP == "":
		return "no dip"
	case r.SPort < 0 || r.DPort < 0:
		return "negative port"
	case r.IByt < 0 || r.IPkt < 0:
		return "negative ibyt or ipkt"
	}
	return ""
}

// FlowWordParts returns the parts of a flow's words: the port part P,
// whether the source and destination words carry the "-1_" prefix, and the
// byte and packet bins.
func FlowWordParts(sport, dport int32) (p int32, srcPrefix, dstPrefix bool) {
	switch {
	case sport == 0 && dport == 0:
		return 0, false, false
	case dport == 0 && sport > 0:
		return sport, true, false
	case sport == 0 && dport > 0:
		return dport, false, true
	case sport <= 1024 && dport <= 1024:
		return lowToLow, false, false
	case sport <= 1024 && dport > 1024:
		return sport, true, false
	case sport > 1024 && dport <= 1024:
		return dport, false, true
	}
	return highToHigh, false, false
}

// AppendFlowBase appends a flow's base word <P>_<proto>_<hour>_<ceilLog2(ibyt+1)>_<ceilLog2(ipkt+1)>.
func AppendFlowBase(b []byte, p int32, proto string, hour int32, ibyt, ipkt int64) []byte {
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, '_')
	b = append(b, proto...)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(hour), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(CeilLog2(float64(ibyt)+1)), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(CeilLog2(float64(ipkt)+1)), 10)
	return b
}

// FlowWords returns a flow's source and destination words (Spot's
// FlowWordCreator). The row must pass FlowReject.
func FlowWords(sport, dport int32, proto string, hour int32, ibyt, ipkt int64) (src, dst string) {
	p, sp, dp := FlowWordParts(sport, dport)
	var buf [64]byte
	b := append(buf[:0], "-1_"...)
	b = AppendFlowBase(b, p, proto, hour, ibyt, ipkt)
	full := string(b)
	base := full[3:]
	src, dst = base, base
	if sp {
		src = full
	}
	if dp {
		dst = full
	}
	return
}

// ---- dns ----

func emptyish(s string) bool { return s == "" || s == "-" }

// DNSDoc returns a DNS message's document, the client: ip_dst of a
// response, ip_src of a query.
func DNSDoc(r *record.DNS) string {
	if IsQuery(r) {
		return r.IPSrc
	}
	return r.IPDst
}

// IsQuery tells a query from a response. Rows of Spot's Hive tables
// (responses only) have neither a "response" nor a "ts_ns" column, so a
// row is a query only when spot decoded it (ts_ns set) as one.
func IsQuery(r *record.DNS) bool {
	return !r.Response && r.TsNs != 0
}

// DNSReject returns why Spot would drop a DNS row, or "".
func DNSReject(r *record.DNS) string {
	switch {
	case emptyish(r.FrameTime):
		return "no frame_time"
	case emptyish(r.QryName) || r.QryName == "(empty)":
		return "no dns_qry_name"
	case emptyish(DNSDoc(r)):
		return "no client address"
	case r.UnixTstamp < 0:
		return "negative unix_tstamp"
	case r.FrameLen < 0:
		return "negative frame_len"
	}
	if _, ok := frameHour(r.FrameTime); !ok {
		return "frame_time has no HH: in its 4th field (word_error)"
	}
	return ""
}

// frameHour is Spot's hour of a tshark frame.time: the first ':' field of
// the 4th whitespace-separated token.
func frameHour(ft string) (int, bool) {
	f := strings.Fields(ft)
	if len(f) < 4 {
		return 0, false
	}
	h, _, _ := strings.Cut(f[3], ":")
	n, err := strconv.Atoi(h)
	if err != nil {
		return 0, false
	}
	return n, true
}

// DNSWord returns a DNS message's word:
// topDomainClass_log2floor(frame_len)_hour_log2floor(subdomainLen)_entropyBin_log2floor(numParts)_qtype_rcode.
// The row must pass DNSReject.
func (f *Featurizer) DNSWord(r *record.DNS) string {
	domain, sub, parts := SplitDomain(r.QryName, f.opt.Parser)
	subLen, subEnt := 0, 0.0
	if sub != None {
		subLen = len([]rune(sub))
		subEnt = Entropy(sub)
	}
	hour, _ := frameHour(r.FrameTime)
	var buf [64]byte
	b := buf[:0]
	b = strconv.AppendInt(b, int64(f.topDomainClass(domain)), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Log2Floor(float64(r.FrameLen))), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(hour), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Log2Floor(float64(subLen))), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Bin(subEnt, EntropyCuts)), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Log2Floor(float64(parts))), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(r.QryType), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(r.QryRcode), 10)
	return string(b)
}

// ---- proxy ----

// ProxyReject returns why Spot would drop a proxy row, or "".
func ProxyReject(r *record.Proxy) string {
	switch {
	case r.PDate == "":
		return "no p_date"
	case r.PTime == "":
		return "no p_time"
	case r.ClientIP == "":
		return "no clientip"
	case r.Host == "":
		return "no host"
	case r.FullURI == "":
		return "no fulluri"
	}
	h, _, _ := strings.Cut(r.PTime, ":")
	if _, err := strconv.Atoi(h); err != nil {
		return "p_time has no hour (word_error)"
	}
	return ""
}

// ProxyAgent is the user agent as Spot counted it (null becomes "-").
func ProxyAgent(r *record.Proxy) string {
	if r.UserAgent == "" {
		return "-"
	}
	return r.UserAgent
}

// ProxyWord returns a proxy line's word:
// topDomainClass(host)_hour_method_entropyBin(fulluri)_contentTypeTop_log2floor(uaCount)_log2floor(len(fulluri))_respcode.
// uaCount is the number of lines with the line's user agent in the data
// the model was trained on. The row must pass ProxyReject.
func (f *Featurizer) ProxyWord(r *record.Proxy, uaCount int64) string {
	domain, _, _ := SplitDomain(r.Host, f.opt.Parser)
	h, _, _ := strings.Cut(r.PTime, ":")
	hour, _ := strconv.Atoi(h)
	ct := r.ResContType
	if ct == "" {
		ct = "-"
	}
	ctTop := "unknown_content_type"
	if strings.Trim(ct, "/") != "" { // Java: "/".split('/') is empty
		ctTop, _, _ = strings.Cut(ct, "/")
	}
	rc := r.RespCode
	if rc == "" {
		rc = "unknown_response_code"
	}
	var buf [128]byte
	b := buf[:0]
	b = strconv.AppendInt(b, int64(f.topDomainClass(domain)), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(hour), 10)
	b = append(b, '_')
	b = append(b, r.ReqMethod...)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Bin(Entropy(r.FullURI), EntropyCuts)), 10)
	b = append(b, '_')
	b = append(b, ctTop...)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Log2Floor(float64(uaCount))), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(Log2Floor(float64(len([]rune(r.FullURI))))), 10)
	b = append(b, '_')
	b = append(b, rc...)
	return string(b)
}

// CountAgents adds each line's user agent to counts.
func CountAgents(counts map[string]int64, rs []record.Proxy) {
	for i := range rs {
		counts[ProxyAgent(&rs[i])]++
	}
}

// SortedKeys returns m's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
