package partition

import (
	"fmt"
	"path/filepath"
	"strings"
)

// By is how records are partitioned: not at all, by UTC day or by UTC hour.
type By int

// The partitionings.
const (
	None By = iota
	Day
	Hour
)

// Parse returns the partitioning named s: "hour", "day", or "" (none).
func Parse(s string) (By, error) {
	switch strings.ToLower(s) {
	case "":
		return None, nil
	case "day":
		return Day, nil
	case "hour":
		return Hour, nil
	}
	return None, fmt.Errorf("unknown partitioning %q (want hour or day)", s)
}

func (b By) String() string {
	switch b {
	case Day:
		return "day"
	case Hour:
		return "hour"
	}
	return ""
}

// seconds is the length of one partition.
func (b By) seconds() int64 {
	if b == Hour {
		return 3600
	}
	return 86400
}

// Key numbers the partition holding the time unix (seconds since the Unix
// epoch, UTC): records of one key go to one partition.
func (b By) Key(unix int64) int64 {
	s := b.seconds()
	k := unix / s
	if unix%s < 0 {
		k-- // floor: 1969 stays in 1969
	}
	return k
}

// Path is the folder, relative to the root, of the partition of key k:
// y=YYYY/m=MM/d=DD, and /h=HH when by hour.
func (b By) Path(k int64) string {
	t := k * b.seconds()
	days := t / 86400
	if t%86400 < 0 {
		days--
	}
	y, m, d := civil(days)
	p := fmt.Sprintf("y=%04d/m=%02d/d=%02d", y, m, d)
	if b == Hour {
		p += fmt.Sprintf("/h=%02d", (t-days*86400)/3600)
	}
	return filepath.FromSlash(p)
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil, inverted), valid for any int64 day
// a record can carry, where time.Unix would overflow.
func civil(z int64) (y int64, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// compressions are the suffixes decoders unwrap, left out of Name.
var compressions = []string{".gz", ".zst", ".zstd"}

// Name is the stable file-name stem of an input's files: its base name
// without a compression suffix ("stdin" for standard input), so that
// capture-13.pcap.gz writes capture-13.pcap.parquet in each partition.
func Name(input string) string {
	if input == "" || input == "-" {
		return "stdin"
	}
	base := filepath.Base(input)
	for _, c := range compressions {
		if s, ok := strings.CutSuffix(base, c); ok && s != "" {
			base = s
			break
		}
	}
	return base
}
