package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type filterOptions struct {
	out          OutputFlags
	maxScore     float64
	top          int
	perSubject   int
	where        string
	feedback     string
	since, until string
	allow        []string
	enrich       bool
	enrichFiles  enrichFlags
}

func newFilterCmd(g *globals) *cobra.Command {
	o := &filterOptions{}
	cmd := &cobra.Command{
		Use:   "filter [FILE...]",
		Short: "keep the records that matter: a score threshold, the top N, an expression",
		Long: withExitStatus(`Filter reads record streams (NDJSON or Parquet, sniffed; several files are
read one after the other and must hold one kind) and writes the records that
pass every predicate given. It streams; --top N keeps a bounded heap of N.
How many records each predicate dropped is said on stderr.

--where EXPR keeps the records for which EXPR, an expr-lang expression over
the stream's columns (spot help schema KIND SHAPE lists them), is true:
  dport == 53 && proto == "UDP" && ibyt > 1e6
  dns_qry_name endsWith ".example.com" || dns_qry_type in [16, 10]
  not inCIDR(sip, "10.0.0.0/8") && score < 1e-4
  domain(dns_qry_name) == "example.co.uk" && len(dns_qry_name) > 60
Strings compare with ==, contains, startsWith, endsWith, matches (a regular
expression); lists with in, any, all; functions include lower, upper, len,
inCIDR(address, block) and domain(name) (the registrable domain by the
Public Suffix List). The expression is compiled once, typed against the
stream's columns; an error points at the column of the expression where it
went wrong. From Parquet, only the columns the predicates name are read in
full; the rows kept are then read whole.

--since and --until keep a time window (--since inclusive, --until
exclusive; RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] in UTC, or Unix seconds) on
the record's time (tstart_ns for flows, ts_ns for DNS and proxy; Spot's
unix_tstamp or p_date and p_time where those are absent).

--allow FILE drops what is known to be fine: a list of addresses, CIDR
blocks, ranges, domains and URLs, one a line (# comments). It matches each
kind's key: a flow's either address, a DNS message's client or question
name (or a domain above it), a proxy request's client or URI (or a URL or
domain above it, or its host's address).

--enrich adds the enrichment columns (spot help schema KIND enriched): IANA
names, and from --networks, --geoip, --iploc and --reputation, each side's
network, place, autonomous system and reputation, so that --where can use
them: --enrich --reputation feodo.txt --where 'reputation >= 2'.

--feedback FILE is Apache Spot's noise filter: it drops the records that
match a row an analyst marked low risk (severity 3) in FILE, a feedback file
of the same kind (NDJSON, Parquet or CSV: scored records plus severity,
analyst, noted_at and note; spot report -f feedback writes one to fill in).
Records match on flow (sip, dip, dport, proto), dns (client, question name)
or proxy (clientip, fulluri); severities 1 and 2 stay visible. --top counts
only the records that pass.

--per-subject N keeps at most N of --top's records of one detector subject
(spot score's fused method: a scan, a tunnel, a beacon...), so that the top
of a day is not one scan's thousand flows; records without a subject are
not capped. spot report's table does the same with its own rows.

With no predicate, filter copies its input unchanged: that makes it the
format converter between NDJSON, Parquet and CSV.`),
		Example: `  # convert NDJSON to Parquet and back
  spot filter flows.ndjson -o flows.parquet
  spot filter flows.parquet | head

  # the 100 most suspicious DNS events of a day
  spot score -m dns.model day/*.parquet | spot filter --top 100

  # the same, without what analysts already marked low risk or allowed
  spot score -m dns.model day/*.parquet | spot filter --feedback marks.csv --allow fine.txt --top 100

  # long TXT answers in one hour, and flows to listed addresses abroad
  spot filter dns.parquet --since '2026-01-02 10:00' --until '2026-01-02 11:00' --where 'dns_qry_type == 16 && frame_len > 512'
  spot filter flows.parquet --enrich --geoip GeoLite2-Country.mmdb --reputation ti.txt --where 'country != "CZ" && reputation >= 2'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFilterCmd(g, o, cmd, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.Float64Var(&o.maxScore, "max-score", 1, "keep records whose score is at most `X` (Apache Spot's threshold)")
	markNoDefault(f, "max-score")
	f.IntVar(&o.top, "top", 0, "keep the `N` lowest-scoring records, lowest first (exact; ties broken by eid, then input order)")
	f.IntVar(&o.perSubject, "per-subject", 0, "with --top: keep at most `N` records of one detector subject (0: no cap)")
	f.StringVar(&o.where, "where", "", "keep records for which `EXPR` (expr-lang, over the stream's columns) is true")
	f.StringVar(&o.since, "since", "", "keep records at or after `TIME` (RFC 3339, YYYY-MM-DD[ HH:MM[:SS]] UTC, or Unix seconds)")
	f.StringVar(&o.until, "until", "", "keep records before `TIME`")
	f.StringSliceVar(&o.allow, "allow", nil, "drop records whose key is on the allow list `FILE` (addresses, CIDRs, domains, URLs; repeatable)")
	f.StringVar(&o.feedback, "feedback", "", "drop records an analyst marked low risk (severity 3) in `FILE`")
	f.BoolVar(&o.enrich, "enrich", false, "add the enrichment columns (IANA names; --networks, --geoip, --iploc, --reputation)")
	o.enrichFiles.add(f)
	return cmd
}

func runFilterCmd(g *globals, o *filterOptions, cmd *cobra.Command, args []string) error {
	if cmd.Flags().Changed("top") && o.top < 1 {
		return usagef("--top must be at least 1 (without it, every record is kept)")
	}
	if o.perSubject < 0 || (o.perSubject > 0 && o.top == 0) {
		return usagef("--per-subject N (N > 0) caps --top's records of one subject; give --top")
	}
	opts := filter.Options{Where: strings.TrimSpace(o.where), UseMax: cmd.Flags().Changed("max-score"), MaxScore: o.maxScore, PerSubject: o.perSubject}
	var err error
	if o.since != "" {
		if opts.Since, err = filter.ParseTime(o.since); err != nil {
			return usagef("--since: %v", err)
		}
	}
	if o.until != "" {
		if opts.Until, err = filter.ParseTime(o.until); err != nil {
			return usagef("--until: %v", err)
		}
	}
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Since.Before(opts.Until) {
		return usagef("--since %s is not before --until %s", o.since, o.until)
	}
	for _, name := range []string{"networks", "geoip", "iploc", "reputation"} {
		if cmd.Flags().Changed(name) && !o.enrich {
			return usagef("--%s needs --enrich", name)
		}
	}
	for _, path := range o.allow {
		if opts.Allow == nil {
			opts.Allow = enrich.NewIndicators()
		}
		if err := opts.Allow.Load(path, 0); err != nil {
			return fmt.Errorf("--allow: %w", err)
		}
	}
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
	enriched := slices.Contains(ins[0].Columns(), "rep_hits") // read its enrichment columns back
	predicates := opts.Where != "" || opts.UseMax || o.top > 0 || o.feedback != "" || opts.Allow != nil || !opts.Since.IsZero() || !opts.Until.IsZero()
	if !predicates && !o.enrich && !enriched {
		defer relaxGC(192 << 20)()
		return copyAny(g.ctx, ins, meta, d, g.newProgress("filter", "records", -1))
	}
	if (opts.UseMax || o.top > 0) && meta.Stream != record.StreamScored {
		closeInputs(ins)
		return usagef("--max-score and --top need scored records (from spot score); %s holds %s records",
			ioformat.DisplayName(ins[0].Name), meta)
	}
	var badFeedback int64
	if o.feedback != "" {
		noise, bad, err := loadNoise(g.ctx, o.feedback, meta.Kind)
		if err != nil {
			closeInputs(ins)
			return err
		}
		opts.Noise, badFeedback = noise, bad
	}
	var en *enrich.Enricher
	if o.enrich {
		if en, err = enrich.Open(o.enrichFiles.options()); err != nil {
			closeInputs(ins)
			return err
		}
		defer en.Close()
	}
	fr := filterRun{g: g, ins: ins, meta: meta, d: d, opts: opts, top: o.top, badFeedback: badFeedback}
	if err := fr.dispatch(en, enriched); err != nil {
		return err
	}
	if en != nil {
		if err := en.Err(); err != nil {
			slog.Warn("enrichment lookups failed; their columns are empty", "err", err)
		}
	}
	return nil
}

// filterRun is one filter invocation, ready to run on the stream's type.
type filterRun struct {
	g    *globals
	ins  []*ioformat.Input
	meta record.Meta
	d    ioformat.Dest
	opts filter.Options
	top  int
	// malformed rows of the --feedback file, skipped
	badFeedback int64
}

// The columns enrichment reads, per kind.
var (
	flowEnrichCols  = []string{"sip", "dip", "proto"}
	dnsEnrichCols   = []string{"ip_dst", "ip_src", "response", "dns_qry_name", "dns_a", "dns_qry_class", "dns_qry_type", "dns_qry_rcode"}
	proxyEnrichCols = []string{"clientip", "host", "fulluri", "respcode"}
)

// dispatch runs the filter on the stream's record type: enriched by en
// when given; read with its enrichment columns when the input has them.
func (fr filterRun) dispatch(en *enrich.Enricher, enriched bool) error {
	switch record.Example(fr.meta).(type) {
	case record.Flow:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedFlow, i *record.Flow) { o.Flow = *i; en.Flow(i, &o.FlowContext) }, flowEnrichCols)
		case enriched:
			return runFilter[record.EnrichedFlow, record.EnrichedFlow](fr, nil, nil)
		}
		return runFilter[record.Flow, record.Flow](fr, nil, nil)
	case record.DNS:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedDNS, i *record.DNS) { o.DNS = *i; en.DNS(i, &o.DNSContext) }, dnsEnrichCols)
		case enriched:
			return runFilter[record.EnrichedDNS, record.EnrichedDNS](fr, nil, nil)
		}
		return runFilter[record.DNS, record.DNS](fr, nil, nil)
	case record.Proxy:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedProxy, i *record.Proxy) { o.Proxy = *i; en.Proxy(i, &o.ProxyContext) }, proxyEnrichCols)
		case enriched:
			return runFilter[record.EnrichedProxy, record.EnrichedProxy](fr, nil, nil)
		}
		return runFilter[record.Proxy, record.Proxy](fr, nil, nil)
	case record.ScoredFlow:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedScoredFlow, i *record.ScoredFlow) {
				o.ScoredFlow = *i
				en.Flow(&i.Flow, &o.FlowContext)
			}, flowEnrichCols)
		case enriched:
			return runFilter[record.EnrichedScoredFlow, record.EnrichedScoredFlow](fr, nil, nil)
		}
		return runFilter[record.ScoredFlow, record.ScoredFlow](fr, nil, nil)
	case record.ScoredDNS:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedScoredDNS, i *record.ScoredDNS) {
				o.ScoredDNS = *i
				en.DNS(&i.DNS, &o.DNSContext)
			}, dnsEnrichCols)
		case enriched:
			return runFilter[record.EnrichedScoredDNS, record.EnrichedScoredDNS](fr, nil, nil)
		}
		return runFilter[record.ScoredDNS, record.ScoredDNS](fr, nil, nil)
	case record.ScoredProxy:
		switch {
		case en != nil:
			return runFilter(fr, func(o *record.EnrichedScoredProxy, i *record.ScoredProxy) {
				o.ScoredProxy = *i
				en.Proxy(&i.Proxy, &o.ProxyContext)
			}, proxyEnrichCols)
		case enriched:
			return runFilter[record.EnrichedScoredProxy, record.EnrichedScoredProxy](fr, nil, nil)
		}
		return runFilter[record.ScoredProxy, record.ScoredProxy](fr, nil, nil)
	}
	if en != nil {
		closeInputs(fr.ins)
		return usagef("--enrich needs events or scored events; the input holds %s records", fr.meta)
	}
	switch record.Example(fr.meta).(type) {
	case record.FeaturizedFlow:
		return runFilter[record.FeaturizedFlow, record.FeaturizedFlow](fr, nil, nil)
	case record.FeaturizedDNS:
		return runFilter[record.FeaturizedDNS, record.FeaturizedDNS](fr, nil, nil)
	case record.FeaturizedProxy:
		return runFilter[record.FeaturizedProxy, record.FeaturizedProxy](fr, nil, nil)
	case record.Count:
		return runFilter[record.Count, record.Count](fr, nil, nil)
	case record.Finding:
		return runFilter[record.Finding, record.Finding](fr, nil, nil)
	}
	closeInputs(fr.ins)
	return fmt.Errorf("cannot filter %s records", fr.meta)
}

// runFilter filters records of type In into records of type Out (lift
// enriches them; nil when they are one type).
func runFilter[In, Out any](fr filterRun, lift func(*Out, *In), liftCols []string) error {
	plan, err := filter.NewPlan[Out](fr.opts, fr.meta.Kind)
	if err != nil {
		closeInputs(fr.ins)
		return usageError{err}
	}
	o := fr.opts
	if lift == nil && fr.top > 0 && o.Where == "" && o.Allow == nil && o.Noise == nil && o.Since.IsZero() && o.Until.IsZero() && o.PerSubject == 0 {
		if files, ok := parquetFiles(fr.ins); ok && columnar.TopPlan[Out](files) {
			return topColumnar[Out](fr.g.ctx, fr.ins, fr.meta, fr.d, fr.top, o.UseMax, o.MaxScore)
		}
	}
	w, err := ioformat.Create[Out](fr.d, fr.meta)
	if err != nil {
		closeInputs(fr.ins)
		return err
	}
	var skipped int64
	if pred, ok := plan.WherePred(); ok && lift == nil && fr.top == 0 && columnar.WherePlan[Out](fr.ins, pred) {
		// Row groups in parallel, the expression over whole columns.
		var st columnar.WhereStats
		st, err = columnar.Where(fr.g.ctx, fr.ins, pred, w)
		closeInputs(fr.ins)
		plan.CountWhere(st.Rows, st.Kept)
	} else {
		skipped, err = filter.Run(fr.g.ctx, fr.ins, w, plan, lift, liftCols, fr.top)
	}
	if err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if s := plan.Summary(); s != "" && !fr.g.quiet {
		fmt.Fprintf(fr.g.io.Err, "spot: filter: %s\n", s)
	}
	if fr.badFeedback > 0 {
		return &SkippedError{Count: skipped + fr.badFeedback, Unit: "records",
			Detail: fmt.Sprintf("%d of them in the feedback file", fr.badFeedback)}
	}
	if skipped > 0 {
		return &SkippedError{Count: skipped, Unit: "records"}
	}
	return nil
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

// loadNoise reads the severity-3 rows of a feedback file of kind; bad
// counts its malformed rows, which were skipped.
func loadNoise(ctx context.Context, path string, kind record.Kind) (noise *filter.Noise, bad int64, err error) {
	in, err := ioformat.Open(path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("--feedback: %w", err)
	}
	noise = filter.NewNoise()
	if in.Meta == (record.Meta{}) { // an empty file: nothing marked
		in.Close()
		return noise, 0, nil
	}
	if in.Meta.Kind != kind {
		in.Close()
		return nil, 0, usagef("--feedback %s holds %s rows, but the input is %s", ioformat.DisplayName(path), in.Meta.Kind, kind)
	}
	ins := []*ioformat.Input{in}
	rows := &feedbackRows{path: path}
	switch kind {
	case record.KindFlow:
		bad, err = eachOf(ctx, ins, func(f *record.FeedbackFlow) {
			if rows.ok(&f.Feedback) && f.Severity == 3 {
				noise.AddFlow(&f.Flow)
			}
		})
	case record.KindDNS:
		bad, err = eachOf(ctx, ins, func(f *record.FeedbackDNS) {
			if rows.ok(&f.Feedback) && f.Severity == 3 {
				noise.AddDNS(&f.DNS)
			}
		})
	case record.KindProxy:
		bad, err = eachOf(ctx, ins, func(f *record.FeedbackProxy) {
			if rows.ok(&f.Feedback) && f.Severity == 3 {
				noise.AddProxy(&f.Proxy)
			}
		})
	}
	if err != nil {
		return nil, 0, fmt.Errorf("--feedback: %w", err)
	}
	if noise.Len() == 0 {
		slog.Warn("feedback file has no severity-3 rows: nothing is filtered out", "file", path)
	}
	return noise, bad + rows.bad.Count(), nil
}

// feedbackRows checks the severity of each row of a feedback file: rows
// not judged yet are passed over, malformed ones named (the first few) and
// counted.
type feedbackRows struct {
	path string
	row  int64
	bad  ioformat.SkipLog
}

func (f *feedbackRows) ok(fb *record.Feedback) bool {
	f.row++
	judged, err := fb.Judged()
	if err != nil {
		f.bad.Skip("skipped malformed feedback row", f.path, "row", f.row, err)
	}
	return judged
}

// eachOf calls fn on every row of a feedback file and returns how many
// malformed rows were skipped.
func eachOf[T any](ctx context.Context, ins []*ioformat.Input, fn func(*T)) (int64, error) {
	r, err := newConcat[T](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return 0, err
	}
	defer r.Close()
	buf := ioformat.Touched(make([]T, ioformat.BatchSize))
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			fn(&buf[i])
		}
		if err == io.EOF {
			return r.Skipped(), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// topColumnar is --top (and --max-score) over spot's Parquet: it ranks the
// records by their score and eid columns alone, then reads the rows kept.
func topColumnar[T any](ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, top int, useMax bool, maxScore float64) error {
	defer closeInputs(ins)
	var keep func(float64) bool
	if useMax {
		keep = func(score float64) bool { return score <= maxScore }
	}
	recs, err := columnar.Top[T](ctx, ins, top, keep)
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
