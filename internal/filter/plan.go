package filter

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
)

// Options are a filter run's predicates; the zero value keeps everything.
type Options struct {
	Where        string             // an expr-lang expression over the stream's columns
	Since, Until time.Time          // keep records at or after Since and before Until (zero: no bound)
	Allow        *enrich.Indicators // drop records whose key matches (see Plan.Keep)
	Noise        *Noise             // drop records analysts marked low risk
	MaxScore     float64            // with UseMax: keep scores at most MaxScore
	UseMax       bool               //
	PerSubject   int                // with a top N: at most this many records of one detector subject (0: no cap)
}

// Reason is why a record was dropped.
type Reason int

// The reasons, in the order predicates are tried.
const (
	Kept Reason = iota
	ByWindow
	ByAllow
	ByFeedback
	ByMaxScore
	ByWhere
	nReasons
)

var reasonNames = [...]string{"", "--since/--until", "--allow", "--feedback", "--max-score", "--where"}

// Plan is Options compiled for records of type T of one kind.
type Plan[T any] struct {
	o       Options
	kind    record.Kind
	where   *Expr
	ev      *Evaluator
	base    uintptr // offset of the embedded record.Flow, DNS or Proxy in T
	score   uintptr
	scored  bool
	Dropped [nReasons]int64
	Seen    int64
}

// NewPlan compiles o for records of type T of kind k. A --max-score or
// --feedback on a stream without scores, or a --where that does not fit
// T's columns, is an error.
func NewPlan[T any](o Options, k record.Kind) (*Plan[T], error) {
	t := reflect.TypeFor[T]()
	p := &Plan[T]{o: o, kind: k}
	var ok bool
	var baseType reflect.Type
	switch k {
	case record.KindFlow:
		baseType = reflect.TypeFor[record.Flow]()
	case record.KindDNS:
		baseType = reflect.TypeFor[record.DNS]()
	case record.KindProxy:
		baseType = reflect.TypeFor[record.Proxy]()
	case record.KindFinding:
		baseType = reflect.TypeFor[record.Finding]()
		if o.Noise != nil {
			return nil, fmt.Errorf("--feedback marks events; it does not apply to findings")
		}
	}
	if p.base, ok = embeddedOffset(t, baseType); !ok && (o.Allow != nil || o.Noise != nil || !o.Since.IsZero() || !o.Until.IsZero()) {
		return nil, fmt.Errorf("--since, --until, --allow and --feedback need %s events; %s records hold none", k, t.Name())
	}
	off, kind, ok := ColumnOffset(t, "score")
	p.score, p.scored = off, ok && kind == reflect.Float64
	if o.UseMax && !p.scored {
		return nil, fmt.Errorf("--max-score needs scored records")
	}
	if o.Where != "" {
		e, err := Compile(o.Where, t)
		if err != nil {
			return nil, err
		}
		p.where, p.ev = e, e.NewEvaluator()
	}
	return p, nil
}

// Columns returns the columns of T the plan reads (for reading a Parquet
// file in two passes), in no particular order.
func (p *Plan[T]) Columns() []string {
	var c []string
	if p.where != nil {
		c = append(c, p.where.Columns()...)
	}
	if p.o.UseMax {
		c = append(c, "score")
	}
	if !p.o.Since.IsZero() || !p.o.Until.IsZero() {
		switch p.kind {
		case record.KindFlow:
			c = append(c, "tstart_ns", "unix_tstamp")
		case record.KindDNS:
			c = append(c, "ts_ns", "unix_tstamp")
		case record.KindProxy:
			c = append(c, "ts_ns", "p_date", "p_time")
		case record.KindFinding:
			c = append(c, "tstart_ns")
		}
	}
	if p.o.Allow != nil || p.o.Noise != nil {
		switch p.kind {
		case record.KindFlow:
			c = append(c, "sip", "dip", "dport", "proto")
		case record.KindDNS: // a query's client is ip_src (feature.DNSDoc: response and ts_ns say which)
			c = append(c, "ip_dst", "ip_src", "response", "ts_ns", "dns_qry_name")
		case record.KindProxy:
			c = append(c, "clientip", "fulluri")
		case record.KindFinding:
			c = append(c, "src", "dst")
		}
	}
	return c
}

// WherePred returns the plan's --where as a Pred (see Expr.Pred) when it
// is the plan's only predicate.
func (p *Plan[T]) WherePred() (*Pred, bool) {
	if p.where == nil || p.o.UseMax || p.o.Allow != nil || p.o.Noise != nil || !p.o.Since.IsZero() || !p.o.Until.IsZero() {
		return nil, false
	}
	return p.where.Pred()
}

// CountWhere counts seen records of which --where kept kept, read by a
// column path rather than Keep, for Summary.
func (p *Plan[T]) CountWhere(seen, kept int64) {
	p.Seen += seen
	p.Dropped[ByWhere] += seen - kept
}

// Active reports whether the plan drops anything at all.
func (p *Plan[T]) Active() bool {
	return p.where != nil || p.o.UseMax || p.o.Allow != nil || p.o.Noise != nil || !p.o.Since.IsZero() || !p.o.Until.IsZero()
}

// Keep reports whether rec passes every predicate, counting the others by
// the first predicate that dropped them.
func (p *Plan[T]) Keep(rec *T) (bool, error) {
	p.Seen++
	r, err := p.reason(rec)
	if r != Kept {
		p.Dropped[r]++
	}
	return r == Kept, err
}

func (p *Plan[T]) reason(rec *T) (Reason, error) {
	ptr := unsafe.Pointer(rec)
	b := unsafe.Add(ptr, p.base)
	if !p.o.Since.IsZero() || !p.o.Until.IsZero() {
		ns, ok := p.timeOf(b)
		if !ok || (!p.o.Since.IsZero() && ns < p.o.Since.UnixNano()) || (!p.o.Until.IsZero() && ns >= p.o.Until.UnixNano()) {
			return ByWindow, nil
		}
	}
	if a := p.o.Allow; a != nil && p.allowed(a, b) {
		return ByAllow, nil
	}
	if n := p.o.Noise; n != nil {
		var hit bool
		switch p.kind {
		case record.KindFlow:
			hit = n.Flow((*record.Flow)(b))
		case record.KindDNS:
			hit = n.DNS((*record.DNS)(b))
		case record.KindProxy:
			hit = n.Proxy((*record.Proxy)(b))
		}
		if hit {
			return ByFeedback, nil
		}
	}
	if p.o.UseMax && !(*(*float64)(unsafe.Add(ptr, p.score)) <= p.o.MaxScore) {
		return ByMaxScore, nil
	}
	if p.ev != nil {
		ok, err := p.ev.Match(ptr)
		if err != nil {
			return ByWhere, err
		}
		if !ok {
			return ByWhere, nil
		}
	}
	return Kept, nil
}

// timeOf returns a record's time in nanoseconds: the decoder's
// nanosecond column, else Spot's unix_tstamp (or a proxy line's date and
// time) for data from Spot's own tables.
func (p *Plan[T]) timeOf(b unsafe.Pointer) (int64, bool) {
	switch p.kind {
	case record.KindFlow:
		f := (*record.Flow)(b)
		if f.TStartNs != 0 {
			return f.TStartNs, true
		}
		return f.UnixTstamp * 1e9, f.UnixTstamp != 0
	case record.KindDNS:
		d := (*record.DNS)(b)
		if d.TsNs != 0 {
			return d.TsNs, true
		}
		return d.UnixTstamp * 1e9, d.UnixTstamp != 0
	case record.KindProxy:
		x := (*record.Proxy)(b)
		if x.TsNs != 0 {
			return x.TsNs, true
		}
		t, err := time.Parse("2006-01-02 15:04:05", x.PDate+" "+x.PTime)
		return t.UnixNano(), err == nil
	case record.KindFinding:
		f := (*record.Finding)(b)
		return f.TStartNs, f.TStartNs != 0
	}
	return 0, false
}

// allowed matches a record's key against an allow list: a flow's either
// address; a DNS message's client or question name; a proxy request's
// client or URI (whose host may be listed as a domain or an address); a
// finding's source or destination.
func (p *Plan[T]) allowed(a *enrich.Indicators, b unsafe.Pointer) bool {
	switch p.kind {
	case record.KindFlow:
		f := (*record.Flow)(b)
		if !a.HasAddrs() {
			return false
		}
		_, s := a.AddrString(f.SIP)
		_, d := a.AddrString(f.DIP)
		return s || d
	case record.KindDNS:
		d := (*record.DNS)(b)
		if _, ok := a.Domain(d.QryName); ok {
			return true
		}
		_, ok := a.AddrString(feature.DNSDoc(d))
		return ok
	case record.KindProxy:
		x := (*record.Proxy)(b)
		if _, ok := a.URL(x.FullURI); ok {
			return true
		}
		_, ok := a.AddrString(x.ClientIP)
		return ok
	case record.KindFinding:
		f := (*record.Finding)(b)
		_, s := a.Host(f.Src)
		_, d := a.Host(f.Dst)
		return s || d
	}
	return false
}

// Score returns rec's score (NaN for a stream without scores).
func (p *Plan[T]) Score(rec *T) float64 {
	if !p.scored {
		return math.NaN()
	}
	return *(*float64)(unsafe.Add(unsafe.Pointer(rec), p.score))
}

// Summary says how many records each predicate dropped, e.g.
// "dropped 9877 of 10000 records (--where 9000, --allow 877)"; "" when
// nothing was dropped.
func (p *Plan[T]) Summary() string {
	var parts []string
	var total int64
	for r := ByWindow; r < nReasons; r++ {
		if n := p.Dropped[r]; n > 0 {
			parts = append(parts, reasonNames[r]+" "+strconv.FormatInt(n, 10))
			total += n
		}
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("dropped %d of %d records (%s)", total, p.Seen, strings.Join(parts, ", "))
}

// embeddedOffset finds the offset of an embedded field of type want in t.
func embeddedOffset(t, want reflect.Type) (uintptr, bool) {
	if t == want {
		return 0, true
	}
	if t.Kind() != reflect.Struct {
		return 0, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.Anonymous || f.Type.Kind() != reflect.Struct {
			continue
		}
		if off, ok := embeddedOffset(f.Type, want); ok {
			return f.Offset + off, true
		}
	}
	return 0, false
}

// ParseTime parses a --since or --until value: RFC 3339, a date
// (YYYY-MM-DD), a date and time (YYYY-MM-DD HH:MM[:SS], or with a T), all
// UTC unless the text gives a zone, or Unix seconds.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 {
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2026-01-02T15:04:05Z), YYYY-MM-DD[ HH:MM[:SS]] (UTC) or Unix seconds", s)
}
