package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/filter"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type filterOptions struct {
	out      OutputFlags
	maxScore float64
	top      int
	where    string
	feedback string
}

func newFilterCmd(g *globals) *cobra.Command {
	o := &filterOptions{}
	cmd := &cobra.Command{
		Use:   "filter [FILE...]",
		Short: "keep the records that matter: a score threshold, the top N, an expression",
		Long: withExitStatus(`Filter reads record streams (NDJSON or Parquet, sniffed; several files are
read one after the other and must hold one kind) and writes the records that
pass every predicate given. It streams; --top N keeps a bounded heap of N.

--feedback FILE is Apache Spot's noise filter: it drops the scored records
that match a row an analyst marked low risk (severity 3) in FILE, a feedback
file of the same kind (scored records plus severity, analyst, noted_at and
note). Records match on flow (sip, dip, dport, proto), dns (client, question
name) or proxy (clientip, fulluri); severities 1 and 2 stay visible. --top
counts only the records that pass.

With no predicate, filter copies its input unchanged: that makes it the
format converter between NDJSON, Parquet and CSV.`),
		Example: `  # convert NDJSON to Parquet and back
  spot filter flows.ndjson -o flows.parquet
  spot filter flows.parquet | head

  # the 100 most suspicious DNS events of a day
  spot score -m dns.model day/*.parquet | spot filter --top 100

  # the same, without what analysts already marked low risk
  spot score -m dns.model day/*.parquet | spot filter --feedback marks.parquet --top 100`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.where != "" {
				return errNotYet("filter with --where", 0)
			}
			if o.top < 0 {
				return usagef("--top must be positive")
			}
			useMax := cmd.Flags().Changed("max-score")
			d, err := o.out.Dest(g.io)
			if err != nil {
				return err
			}
			ins, meta, err := openInputs(args, g.io.In)
			if err != nil {
				return err
			}
			if len(ins) == 0 { // every input was empty: write an empty stream
				return emptyOutput(d)
			}
			if !useMax && o.top == 0 && o.feedback == "" {
				defer relaxGC(192 << 20)()
				return copyAny(g.ctx, ins, meta, d, g.newProgress("filter", "records", -1))
			}
			if meta.Stream != record.StreamScored {
				closeInputs(ins)
				return usagef("--max-score, --top and --feedback need scored records (from spot score); %s holds %s records",
					ioformat.DisplayName(ins[0].Name), meta)
			}
			p := scorePredicate{useMax: useMax, maxScore: o.maxScore, top: o.top}
			if o.feedback != "" {
				noise, err := loadNoise(g.ctx, o.feedback, meta.Kind)
				if err != nil {
					closeInputs(ins)
					return err
				}
				p.noise = noise
			}
			switch meta.Kind {
			case record.KindFlow:
				return filterScored(g.ctx, ins, meta, d, p, func(r *record.ScoredFlow) (float64, int64, bool) {
					return r.Score, r.EID, p.noise != nil && p.noise.Flow(&r.Flow)
				})
			case record.KindDNS:
				return filterScored(g.ctx, ins, meta, d, p, func(r *record.ScoredDNS) (float64, int64, bool) {
					return r.Score, r.EID, p.noise != nil && p.noise.DNS(&r.DNS)
				})
			case record.KindProxy:
				return filterScored(g.ctx, ins, meta, d, p, func(r *record.ScoredProxy) (float64, int64, bool) {
					return r.Score, r.EID, p.noise != nil && p.noise.Proxy(&r.Proxy)
				})
			case record.KindFinding:
				return filterScored(g.ctx, ins, meta, d, p, func(r *record.Finding) (float64, int64, bool) {
					return r.Score, r.EID, false
				})
			}
			closeInputs(ins)
			return fmt.Errorf("cannot filter %s records", meta)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.Float64Var(&o.maxScore, "max-score", 1, "keep records whose score is at most `X` (Apache Spot's threshold)")
	f.IntVar(&o.top, "top", 0, "keep the `N` lowest-scoring records, lowest first (exact; ties broken by eid, then input order)")
	f.StringVar(&o.where, "where", "", "keep records for which `EXPR` is true")
	f.StringVar(&o.feedback, "feedback", "", "drop records an analyst marked low risk (severity 3) in `FILE`")
	return cmd
}

// emptyOutput writes an empty NDJSON stream (nothing) or refuses other formats,
// which cannot be written without knowing the records' kind.
func emptyOutput(d ioformat.Dest) error {
	if d.ResolvedFormat() != ioformat.NDJSON {
		return usagef("the input is empty: no record kind to write %s with", d.ResolvedFormat())
	}
	w, err := ioformat.Create[record.Flow](d, record.Flow{}.Meta())
	if err != nil {
		return err
	}
	return w.Close()
}

type scorePredicate struct {
	useMax   bool
	maxScore float64
	top      int
	noise    *filter.Noise // --feedback's marks; nil: none
}

// loadNoise reads the severity-3 rows of a feedback file of kind.
func loadNoise(ctx context.Context, path string, kind record.Kind) (*filter.Noise, error) {
	in, err := ioformat.Open(path, nil)
	if err != nil {
		return nil, fmt.Errorf("--feedback: %w", err)
	}
	noise := filter.NewNoise()
	if in.Meta == (record.Meta{}) { // an empty file: nothing marked
		in.Close()
		return noise, nil
	}
	if in.Meta.Kind != kind {
		in.Close()
		return nil, usagef("--feedback %s holds %s rows, but the input is %s", ioformat.DisplayName(path), in.Meta.Kind, kind)
	}
	ins := []*ioformat.Input{in}
	switch kind {
	case record.KindFlow:
		err = eachOf(ctx, ins, func(f *record.FeedbackFlow) {
			if f.Severity == 3 {
				noise.AddFlow(&f.Flow)
			}
		})
	case record.KindDNS:
		err = eachOf(ctx, ins, func(f *record.FeedbackDNS) {
			if f.Severity == 3 {
				noise.AddDNS(&f.DNS)
			}
		})
	case record.KindProxy:
		err = eachOf(ctx, ins, func(f *record.FeedbackProxy) {
			if f.Severity == 3 {
				noise.AddProxy(&f.Proxy)
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("--feedback: %w", err)
	}
	if noise.Len() == 0 {
		slog.Warn("feedback file has no severity-3 rows: nothing is filtered out", "file", path)
	}
	return noise, nil
}

// eachOf calls fn on every row of a feedback file.
func eachOf[T any](ctx context.Context, ins []*ioformat.Input, fn func(*T)) error {
	r, err := newConcat[T](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return err
	}
	defer r.Close()
	buf := ioformat.Touched(make([]T, ioformat.BatchSize))
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			fn(&buf[i])
		}
		if err == io.EOF {
			if n := r.Skipped(); n > 0 {
				slog.Warn("malformed rows of the feedback file were skipped", "rows", n)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// filterScored applies --max-score and --top to scored records. Without
// --top it streams; with --top it keeps a heap of N records and writes them
// lowest score first.
func filterScored[T any](ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, p scorePredicate, key func(*T) (score float64, eid int64, noise bool)) error {
	if files, ok := parquetFiles(ins); ok && p.top > 0 && p.noise == nil && columnar.TopPlan[T](files) {
		return topColumnar[T](ctx, ins, files, meta, d, p)
	}
	r, err := newConcat[T](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return err
	}
	defer r.Close()
	w, err := ioformat.Create[T](d, meta)
	if err != nil {
		return err
	}
	var top *filter.TopN[T]
	if p.top > 0 {
		top = filter.NewTopN[T](p.top)
	}
	buf := ioformat.Touched(make([]T, ioformat.BatchSize))
	kept := ioformat.Touched(make([]T, ioformat.BatchSize))[:0]
	var seq, dropped int64
	for {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return err
		}
		n, rerr := r.Read(buf)
		kept = kept[:0]
		for i := range buf[:n] {
			seq++
			score, eid, noise := key(&buf[i])
			if noise {
				dropped++
				continue
			}
			if p.useMax && !(score <= p.maxScore) {
				continue
			}
			if top != nil {
				k := filter.Key{Score: score, EID: eid, Seq: seq}
				if top.Wants(k) {
					top.Offer(k, buf[i])
				}
				continue
			}
			kept = append(kept, buf[i])
		}
		if len(kept) > 0 {
			if err := w.Write(kept); err != nil {
				w.Abort()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.Abort()
			return rerr
		}
	}
	if top != nil {
		if err := w.Write(top.Sorted()); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if p.noise != nil {
		slog.Info("dropped records analysts marked low risk", "records", dropped, "marks", p.noise.Len())
	}
	if n := r.Skipped(); n > 0 {
		return &SkippedError{Count: n, Unit: "records"}
	}
	return nil
}

// topColumnar is --top (and --max-score) over spot's Parquet: it ranks the
// records by their score and eid columns alone, then reads the rows kept.
func topColumnar[T any](ctx context.Context, ins []*ioformat.Input, files []*parquet.File, meta record.Meta, d ioformat.Dest, p scorePredicate) error {
	defer closeInputs(ins)
	var keep func(float64) bool
	if p.useMax {
		keep = func(score float64) bool { return score <= p.maxScore }
	}
	recs, err := columnar.Top[T](ctx, files, inputNames(ins), p.top, keep)
	if err != nil {
		return err
	}
	w, err := ioformat.Create[T](d, meta)
	if err != nil {
		return err
	}
	if err := w.Write(recs); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
