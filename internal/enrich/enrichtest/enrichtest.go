// Package enrichtest builds small MaxMind-format databases for tests, with
// maxmind/mmdbwriter (imported by tests only, never by spot's binary).
package enrichtest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Place is one network's record, in GeoLite2 City and ASN fields.
type Place struct {
	Country  string
	City     string
	Lat, Lon float64
	ASN      uint32
	ASOrg    string
}

// WriteMMDB writes a database mapping each CIDR block to its place.
func WriteMMDB(t testing.TB, path string, places map[string]Place) {
	t.Helper()
	if err := Write(path, places); err != nil {
		t.Fatal(err)
	}
}

// Write writes a database mapping each CIDR block to its place.
func Write(path string, places map[string]Place) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "spot-test-City-ASN", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		return err
	}
	for cidr, p := range places {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return err
		}
		m := mmdbtype.Map{}
		if p.Country != "" {
			m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(p.Country)}
		}
		if p.City != "" {
			m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}}
		}
		if p.Lat != 0 || p.Lon != 0 {
			m["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon)}
		}
		if p.ASN != 0 {
			m["autonomous_system_number"] = mmdbtype.Uint32(p.ASN)
			m["autonomous_system_organization"] = mmdbtype.String(p.ASOrg)
		}
		if err := tree.Insert(n, m); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ParsePlaces parses "CIDR=CC,city,lat,lon,asn,org" arguments (empty
// fields allowed), as the end-to-end tests' mkmmdb command takes them.
func ParsePlaces(args []string) (map[string]Place, error) {
	out := map[string]Place{}
	for _, a := range args {
		cidr, rest, ok := strings.Cut(a, "=")
		f := strings.Split(rest, ",")
		if !ok || len(f) != 6 {
			return nil, fmt.Errorf("%q: want CIDR=CC,city,lat,lon,asn,org", a)
		}
		lat, _ := strconv.ParseFloat(f[2], 64)
		lon, _ := strconv.ParseFloat(f[3], 64)
		asn, _ := strconv.ParseUint(f[4], 10, 32)
		out[cidr] = Place{Country: f[0], City: f[1], Lat: lat, Lon: lon, ASN: uint32(asn), ASOrg: f[5]}
	}
	return out, nil
}
