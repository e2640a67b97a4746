package ioformat

import (
	"log/slog"
	"sync/atomic"
)

// MaxNamed is how many skipped units of input (packets, lines, records) a
// SkipLog names on stderr; the rest are only counted, and the stage's
// closing message gives the total.
const MaxNamed = 10

// SkipLog counts the units of input a reader or decoder skips and names the
// first MaxNamed of them, in the one form every stage uses: a message, then
// the file, the unit and its number, and what was wrong, as fields
// (file=a.pcap packet=12 err="..."; JSON objects under --log-json). It may
// be used from several goroutines.
type SkipLog struct {
	n atomic.Int64
}

// Skip counts one skipped unit (unit is "packet", "line", "row", ...,
// number 1-based) of the input name and names it while fewer than MaxNamed
// have been.
func (l *SkipLog) Skip(msg, name, unit string, number int64, err error) {
	if l.n.Add(1) <= MaxNamed {
		slog.Warn(msg, "file", DisplayName(name), unit, number, "err", err.Error())
	}
}

// Count is how many units were skipped.
func (l *SkipLog) Count() int64 { return l.n.Load() }
