package score

import (
	"fmt"
	"strings"

	"github.com/spot-hunt/spot/internal/lda"
)

// Method is how score ranks events: fused, or one of the topic model's
// methods (lda.Methods).
type Method string

// Fused is spot's ranking: the detectors' evidence first, Apache Spot's
// topic-model score within it (see Fuse).
const Fused Method = "fused"

// Methods lists the methods, as help shows them.
var Methods = []Method{Fused, Method(lda.Spot), Method(lda.Population), Method(lda.Peer), Method(lda.Hybrid)}

// MethodHelp is the --method help text.
const MethodHelp = "scoring `METHOD`: fused (the detectors' evidence on each event's subjects, then Apache Spot's score within it), " +
	"spot (Apache Spot: sum over topics of P(topic|host)*P(word|topic)), " +
	"population (the same under a typical host's topic mixture, the per-topic median over hosts: how rare the word is for a typical host), " +
	"peer (population divided by spot: how much more this host says the word than a typical host; low for a host unlike its peers), " +
	"hybrid (the minimum of spot and peer)"

// ParseMethod returns the method named s.
func ParseMethod(s string) (Method, error) {
	if strings.ToLower(s) == string(Fused) {
		return Fused, nil
	}
	m, err := lda.ParseMethod(s)
	if err != nil {
		return "", fmt.Errorf("unknown scoring method %q (want fused, spot, population, peer or hybrid)", s)
	}
	return Method(m), nil
}

// topic is the topic-model method behind m; fused uses within, which
// defaults to Apache Spot's.
func (m Method) topic(within lda.Method) lda.Method {
	if m == Fused {
		if within == "" {
			return lda.Spot
		}
		return within
	}
	return lda.Method(m)
}
