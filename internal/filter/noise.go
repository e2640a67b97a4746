package filter

import (
	"strconv"
	"strings"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
)

// Noise is what analysts marked low risk (severity 3) in a feedback file,
// by the kind's key (DESIGN.md "Feedback"): flow (sip, dip, dport, proto),
// dns (client, question name, case and trailing dot aside), proxy
// (clientip, fulluri). Filtering it out of scored results is Spot's noise
// filter; severities 1 and 2 stay visible.
type Noise struct {
	keys map[string]struct{}
}

// NewNoise returns an empty set.
func NewNoise() *Noise { return &Noise{keys: map[string]struct{}{}} }

// Len is the number of distinct keys marked.
func (n *Noise) Len() int { return len(n.keys) }

func flowKey(f *record.Flow) string {
	return f.SIP + "\x00" + f.DIP + "\x00" + strconv.Itoa(int(f.DPort)) + "\x00" + f.Proto
}

func dnsKey(r *record.DNS) string {
	return feature.DNSDoc(r) + "\x00" + strings.ToLower(strings.TrimSuffix(r.QryName, "."))
}

func proxyKey(p *record.Proxy) string { return p.ClientIP + "\x00" + p.FullURI }

// AddFlow marks f's key.
func (n *Noise) AddFlow(f *record.Flow) { n.keys[flowKey(f)] = struct{}{} }

// AddDNS marks r's key.
func (n *Noise) AddDNS(r *record.DNS) { n.keys[dnsKey(r)] = struct{}{} }

// AddProxy marks p's key.
func (n *Noise) AddProxy(p *record.Proxy) { n.keys[proxyKey(p)] = struct{}{} }

// Flow reports whether f matches a mark.
func (n *Noise) Flow(f *record.Flow) bool { _, ok := n.keys[flowKey(f)]; return ok }

// DNS reports whether r matches a mark.
func (n *Noise) DNS(r *record.DNS) bool { _, ok := n.keys[dnsKey(r)]; return ok }

// Proxy reports whether p matches a mark.
func (n *Noise) Proxy(p *record.Proxy) bool { _, ok := n.keys[proxyKey(p)]; return ok }
