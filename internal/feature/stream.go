package feature

import (
	"context"
	"io"
	"log/slog"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Rejects counts the rows Spot would reject, by reason, and optionally
// writes them out.
type Rejects[T any] struct {
	Count   int64
	Reasons map[string]int64
	W       ioformat.Writer[T] // nil: only count
	buf     []T
	row     int64
}

func (r *Rejects[T]) add(rec *T, why string, row int64) {
	if r == nil {
		return
	}
	if r.Reasons == nil {
		r.Reasons = map[string]int64{}
	}
	r.Count++
	r.Reasons[why]++
	if r.Count <= 10 {
		slog.Debug("row rejected by Apache Spot's filters", "row", row, "reason", why)
	}
	if r.W != nil {
		r.buf = append(r.buf, *rec)
	}
}

func (r *Rejects[T]) flush() error {
	if r == nil || r.W == nil || len(r.buf) == 0 {
		return nil
	}
	err := r.W.Write(r.buf)
	r.buf = r.buf[:0]
	return err
}

// Log reports the rejected rows: a warning naming the reasons. hint says
// where the rows themselves are, or how to get them ("" for nothing): see
// the Hint constants.
func (r *Rejects[T]) Log(kind record.Kind, hint string) {
	if r != nil {
		LogRejects(kind, r.Count, r.Reasons, hint)
	}
}

// Where a stage's rejected rows are, for LogRejects.
const (
	HintRejectsFlag = "--rejects FILE writes them out"
	HintFeaturize   = "spot featurize --rejects FILE writes them out"
)

// LogRejects reports count rejected rows of kind, by reason; see
// Rejects.Log for hint.
func LogRejects(kind record.Kind, count int64, reasons map[string]int64, hint string) {
	if count == 0 {
		return
	}
	args := []any{"kind", kind, "rows", count}
	for _, k := range SortedKeys(reasons) {
		args = append(args, k, reasons[k])
	}
	msg := "rows Apache Spot would reject were left out"
	if hint != "" {
		msg += " (" + hint + ")"
	}
	slog.Warn(msg, args...)
}

// Featurize reads events from r, makes each one's words and passes them on:
// to w (featurized events) when w is not nil, to counts when counts is not
// nil. Rejected rows go to rej. It returns the number of events read.
//
// Proxy words need the user-agent counts: when the featurizer has none,
// FeaturizeProxy must be used (it holds the events).
func FeaturizeFlows(ctx context.Context, r ioformat.Reader[record.Flow], w ioformat.Writer[record.FeaturizedFlow], counts *Counter, rej *Rejects[record.Flow]) (int64, error) {
	in := ioformat.Touched(make([]record.Flow, ioformat.BatchSize))
	var out []record.FeaturizedFlow
	if w != nil {
		out = ioformat.Touched(make([]record.FeaturizedFlow, ioformat.BatchSize))[:0]
	}
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(in)
		for i := range in[:k] {
			e := &in[i]
			n++
			if why := FlowReject(e); why != "" {
				rej.add(e, why, n)
				continue
			}
			src, dst := FlowWords(e.SPort, e.DPort, e.Proto, e.TrHour, e.IByt, e.IPkt)
			if counts != nil {
				counts.Add(e.SIP, src, 1)
				counts.Add(e.DIP, dst, 1)
			}
			if w != nil {
				out = append(out, record.FeaturizedFlow{Flow: *e, SrcWord: src, DstWord: dst})
			}
		}
		if len(out) > 0 {
			if werr := w.Write(out); werr != nil {
				return n, werr
			}
			out = out[:0]
		}
		if ferr := rej.flush(); ferr != nil {
			return n, ferr
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// FeaturizeDNS is FeaturizeFlows for DNS messages.
func (f *Featurizer) FeaturizeDNS(ctx context.Context, r ioformat.Reader[record.DNS], w ioformat.Writer[record.FeaturizedDNS], counts *Counter, rej *Rejects[record.DNS]) (int64, error) {
	in := ioformat.Touched(make([]record.DNS, ioformat.BatchSize))
	var out []record.FeaturizedDNS
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(in)
		for i := range in[:k] {
			e := &in[i]
			n++
			if why := DNSReject(e); why != "" {
				rej.add(e, why, n)
				continue
			}
			doc, word := DNSDoc(e), f.DNSWord(e)
			if counts != nil {
				counts.Add(doc, word, 1)
			}
			if w != nil {
				out = append(out, record.FeaturizedDNS{DNS: *e, Doc: doc, Word: word})
			}
		}
		if len(out) > 0 {
			if werr := w.Write(out); werr != nil {
				return n, werr
			}
			out = out[:0]
		}
		if ferr := rej.flush(); ferr != nil {
			return n, ferr
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// ReadAllProxy reads every proxy line (proxy words need dataset-wide
// user-agent counts, so featurizing proxy logs holds the lines).
func ReadAllProxy(ctx context.Context, r ioformat.Reader[record.Proxy]) ([]record.Proxy, error) {
	var all []record.Proxy
	buf := ioformat.Touched(make([]record.Proxy, ioformat.BatchSize))
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, err := r.Read(buf)
		all = append(all, buf[:k]...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// UserAgentCounts counts the user agents of the lines Spot keeps.
func UserAgentCounts(lines []record.Proxy) map[string]int64 {
	m := map[string]int64{}
	for i := range lines {
		if ProxyReject(&lines[i]) == "" {
			m[ProxyAgent(&lines[i])]++
		}
	}
	return m
}

// FeaturizeProxy makes the words of lines. The user-agent counts are the
// featurizer's (a model's) when it has them, else counted over lines.
func (f *Featurizer) FeaturizeProxy(ctx context.Context, lines []record.Proxy, w ioformat.Writer[record.FeaturizedProxy], counts *Counter, rej *Rejects[record.Proxy]) error {
	ua := f.opt.UserAgents
	if ua == nil {
		ua = UserAgentCounts(lines)
	}
	out := ioformat.Touched(make([]record.FeaturizedProxy, ioformat.BatchSize))[:0]
	flush := func() error {
		if w != nil && len(out) > 0 {
			if err := w.Write(out); err != nil {
				return err
			}
		}
		out = out[:0]
		return rej.flush()
	}
	for i := range lines {
		e := &lines[i]
		if i%ioformat.BatchSize == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if why := ProxyReject(e); why != "" {
			rej.add(e, why, int64(i+1))
		} else {
			word := f.ProxyWord(e, ua[ProxyAgent(e)])
			if counts != nil {
				counts.Add(e.ClientIP, word, 1)
			}
			if w != nil {
				out = append(out, record.FeaturizedProxy{Proxy: *e, Doc: e.ClientIP, Word: word})
			}
		}
		if len(out) == cap(out) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
