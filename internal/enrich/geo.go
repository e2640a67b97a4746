package enrich

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Place is where an address is and who holds it.
type Place struct {
	Country  string  // ISO 3166-1 alpha-2 code, e.g. CZ
	City     string  // English name
	Lat, Lon float64 // degrees; both 0 when unknown
	ASN      int64   // autonomous system number; 0 when unknown
	ASOrg    string  // its organisation, or Spot iploc.csv's owner
	Domain   string  // Spot iploc.csv's domain column
}

// HasLocation reports whether the place has coordinates.
func (p Place) HasLocation() bool { return p.Lat != 0 || p.Lon != 0 }

// merge fills p's empty fields from q.
func (p *Place) merge(q Place) {
	if p.Country == "" {
		p.Country = q.Country
	}
	if p.City == "" {
		p.City = q.City
	}
	if !p.HasLocation() {
		p.Lat, p.Lon = q.Lat, q.Lon
	}
	if p.ASN == 0 {
		p.ASN = q.ASN
	}
	if p.ASOrg == "" {
		p.ASOrg = q.ASOrg
	}
	if p.Domain == "" {
		p.Domain = q.Domain
	}
}

// Geo looks up places in MaxMind-format databases (GeoLite2/GeoIP2 City,
// Country and ASN, DB-IP's and IPinfo's in the same layout) and in Apache
// Spot's iploc.csv, in the order given; the first source to know a field
// wins.
type Geo struct {
	mmdbs []*maxminddb.Reader
	names []string
	iploc *ipLoc
}

// mmdbRecord is the part of a City/Country/ASN record spot reads.
type mmdbRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	ASN   uint32 `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

// OpenMMDB adds a MaxMind-format database.
func (g *Geo) OpenMMDB(path string) error {
	r, err := maxminddb.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	g.mmdbs = append(g.mmdbs, r)
	g.names = append(g.names, path)
	return nil
}

// Close releases the databases.
func (g *Geo) Close() error {
	for _, r := range g.mmdbs {
		r.Close()
	}
	g.mmdbs = nil
	return nil
}

// Empty reports whether no source was given.
func (g *Geo) Empty() bool { return g == nil || (len(g.mmdbs) == 0 && g.iploc == nil) }

// Lookup returns what the sources know of addr.
func (g *Geo) Lookup(addr netip.Addr) (Place, error) {
	var p Place
	if g == nil {
		return p, nil
	}
	addr = addr.Unmap()
	for i, r := range g.mmdbs {
		res := r.Lookup(addr)
		if !res.Found() {
			if err := res.Err(); err != nil {
				return p, fmt.Errorf("%s: %s: %w", g.names[i], addr, err)
			}
			continue
		}
		var rec mmdbRecord
		if err := res.Decode(&rec); err != nil {
			return p, fmt.Errorf("%s: %s: %w", g.names[i], addr, err)
		}
		q := Place{Country: rec.Country.ISOCode, City: rec.City.Names["en"],
			Lat: rec.Location.Latitude, Lon: rec.Location.Longitude,
			ASN: int64(rec.ASN), ASOrg: rec.ASOrg}
		if q.Country == "" {
			q.Country = rec.RegisteredCountry.ISOCode
		}
		p.merge(q)
	}
	if g.iploc != nil {
		p.merge(g.iploc.lookup(addr))
	}
	return p, nil
}

// ipLoc is Apache Spot's iploc.csv: quoted CSV rows of range_start_int,
// range_end_int, country_code, country, state, city, lat, lon, owner,
// domain, sorted by start (MaxMind's old GeoIP layout). Spot took the last
// row whose start is at most the address; so does spot, and also checks
// that the address is at most its end.
type ipLoc struct {
	starts []uint64
	ends   []uint64
	places []Place
}

// LoadIPLoc adds Apache Spot's iploc.csv (IPv4).
func (g *Geo) LoadIPLoc(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	l := &ipLoc{}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < 8 {
			return fmt.Errorf("%s: row %d: %d columns; want range_start_int, range_end_int, country_code, country, state, city, lat, lon[, owner, domain]", path, row, len(rec))
		}
		start, err1 := parseIPInt(rec[0])
		end, err2 := parseIPInt(rec[1])
		if err1 != nil || err2 != nil {
			if row == 1 {
				continue // a header
			}
			return fmt.Errorf("%s: row %d: range %q-%q is not two integers", path, row, rec[0], rec[1])
		}
		lat, _ := strconv.ParseFloat(strings.TrimSpace(rec[6]), 64)
		lon, _ := strconv.ParseFloat(strings.TrimSpace(rec[7]), 64)
		p := Place{Country: strings.TrimSpace(rec[2]), City: strings.TrimSpace(rec[5]), Lat: lat, Lon: lon}
		if len(rec) > 8 {
			p.ASOrg = strings.TrimSpace(rec[8])
		}
		if len(rec) > 9 {
			p.Domain = strings.TrimSpace(rec[9])
		}
		if p.Country == "-" {
			p.Country = ""
		}
		l.starts = append(l.starts, start)
		l.ends = append(l.ends, end)
		l.places = append(l.places, p)
	}
	if !sort.SliceIsSorted(l.starts, func(i, j int) bool { return l.starts[i] < l.starts[j] }) {
		sort.Sort(byStart{l})
	}
	g.iploc = l
	return nil
}

type byStart struct{ *ipLoc }

func (b byStart) Len() int           { return len(b.starts) }
func (b byStart) Less(i, j int) bool { return b.starts[i] < b.starts[j] }
func (b byStart) Swap(i, j int) {
	b.starts[i], b.starts[j] = b.starts[j], b.starts[i]
	b.ends[i], b.ends[j] = b.ends[j], b.ends[i]
	b.places[i], b.places[j] = b.places[j], b.places[i]
}

func parseIPInt(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		b := a.As4()
		return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]), nil
	}
	var z big.Int
	if _, ok := z.SetString(s, 10); !ok || !z.IsUint64() {
		return 0, fmt.Errorf("not an integer")
	}
	return z.Uint64(), nil
}

func (l *ipLoc) lookup(addr netip.Addr) Place {
	if !addr.Is4() {
		return Place{}
	}
	b := addr.As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > v }) - 1
	if i < 0 || v > l.ends[i] {
		return Place{}
	}
	return l.places[i]
}
