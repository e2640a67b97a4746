package proxy

import (
	"bytes"
	"fmt"
	"strings"
)

// Format is a proxy log layout.
type Format int

// The layouts read. Auto means: detect from the first lines.
const (
	Auto     Format = iota
	Squid           // Squid's native access.log ("squid" logformat)
	Combined        // NCSA combined: common + "referer" "user-agent" (Squid, Apache, nginx)
	Common          // NCSA common log format
	W3C             // W3C extended / ELFF: columns named by a #Fields: header
	BlueCoat        // Blue Coat ProxySG bcreportermain_v1: 27 columns, no header needed
)

var formatNames = []string{"auto", "squid", "combined", "common", "w3c", "bluecoat"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the format named s (see the constants; case does not
// matter, "elff" and "iis" name W3C, "clf" names Common).
func ParseFormat(s string) (Format, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	switch s {
	case "", "detect":
		return Auto, nil
	case "elff", "iis", "w3c-extended":
		return W3C, nil
	case "clf", "ncsa":
		return Common, nil
	case "squid-native", "native":
		return Squid, nil
	case "bcreportermain_v1", "proxysg":
		return BlueCoat, nil
	}
	return Auto, fmt.Errorf("unknown proxy log format %q (want auto, squid, combined, common, w3c or bluecoat)", s)
}

// Detect guesses the format of a log from its first lines (head holds them,
// possibly ending in a partial line). It returns Auto when no line is
// recognised.
func Detect(head []byte) Format {
	votes := [6]int{}
	seen := 0
	for len(head) > 0 && seen < 20 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		line = trimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			if hasPrefixFold(line, "#Fields:") || hasPrefixFold(line, "#Software:") ||
				hasPrefixFold(line, "#Version:") || hasPrefixFold(line, "#Date:") ||
				hasPrefixFold(line, "#Start-Date:") || hasPrefixFold(line, "#Remark:") {
				return W3C
			}
			continue
		}
		seen++
		if f := detectLine(line); f != Auto {
			votes[f]++
		}
	}
	best := Auto
	for f := Squid; f <= BlueCoat; f++ {
		if votes[f] > votes[best] {
			best = f
		}
	}
	if best == Common && votes[Combined] > 0 {
		best = Combined
	}
	return best
}

// detectLine recognises one data line.
func detectLine(line []byte) Format {
	var tok [40][2]int
	// Squid native: "1461576382.642    161 127.0.0.1 TCP_MISS/200 ..."
	if n := splitFields(line, tok[:12]); n >= 10 && isEpoch(line[tok[0][0]:tok[0][1]]) &&
		bytes.IndexByte(line[tok[3][0]:tok[3][1]], '/') > 0 {
		return Squid
	}
	// NCSA: host ident user [date] "request" status bytes ["referer" "agent"]
	if i := bytes.Index(line, []byte(" [")); i > 0 {
		if j := bytes.Index(line[i:], []byte("] \"")); j > 0 {
			rest := line[i+j+2:]
			if k := closingQuote(rest, 0); k > 0 {
				after := rest[k+1:]
				if bytes.Count(after, []byte{'"'}) >= 4 {
					return Combined
				}
				return Common
			}
		}
	}
	// Blue Coat: starts with a date and has 27 (or more) fields.
	if len(line) >= 10 && isDate(line[:10]) {
		if n, ok := splitQuoted(line, tok[:], nil); ok && n >= len(blueCoatFields) {
			return BlueCoat
		}
	}
	return Auto
}

func isEpoch(b []byte) bool {
	dot := bytes.IndexByte(b, '.')
	if dot < 1 {
		return false
	}
	for i, c := range b {
		if i != dot && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isDate(b []byte) bool {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && (isSpace(b[len(b)-1]) || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
