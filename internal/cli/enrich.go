package cli

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/spot-hunt/spot/internal/enrich"
)

// enrichFlags name the enrichment files, spelled the same by filter and
// report; SPOT_NETWORKS, SPOT_GEOIP and SPOT_REPUTATION (comma-separated)
// seed them.
type enrichFlags struct {
	networks, geoip, reputation []string
	iploc                       string
}

func (f *enrichFlags) add(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.networks, "networks", envList("SPOT_NETWORKS"), "network-context CSV `FILE`: CIDR, address or range a-b, name[, internal|external] (Apache Spot's ipranges.csv reads too; default: $SPOT_NETWORKS)")
	fs.StringSliceVar(&f.geoip, "geoip", envList("SPOT_GEOIP"), "MaxMind-format geolocation or ASN database `FILE` (.mmdb: GeoLite2 City, Country, ASN; repeatable; default: $SPOT_GEOIP)")
	fs.StringVar(&f.iploc, "iploc", "", "Apache Spot's geolocation `FILE` (iploc.csv)")
	fs.StringSliceVar(&f.reputation, "reputation", envList("SPOT_REPUTATION"), "threat-intelligence list `FILE`: addresses, CIDRs, domains or URLs, one a line, [,level -1..3 (default 3)[,label]] (repeatable; default: $SPOT_REPUTATION)")
}

func (f *enrichFlags) options() enrich.Options {
	return enrich.Options{Networks: f.networks, GeoIP: f.geoip, IPLoc: f.iploc, Reputation: f.reputation}
}

func envList(name string) []string {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
