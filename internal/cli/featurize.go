package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type featurizeOptions struct {
	out     OutputFlags
	counts  bool
	rejects string
	feat    featureFlags
}

// featureFlags are the word-rule inputs featurize, train and score share.
type featureFlags struct {
	topDomains string
	userDomain string
	parser     string
}

func (ff *featureFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&ff.topDomains, "top-domains", "", "top-domain list `FILE` (rank,domain CSV as Alexa/Tranco); only each domain's first label is kept, as Spot did")
	f.StringVar(&ff.userDomain, "user-domain", "", "the organisation's own domain `LABEL`, e.g. intel (DNS and proxy words: top-domain class 2)")
	f.StringVar(&ff.parser, "domain-parser", "spot", "how names split into domain and subdomain: spot (Apache Spot's list: www.google.co.uk gives domain co) or psl (the Public Suffix List: google)")
}

func (ff *featureFlags) options() (feature.Options, error) {
	var o feature.Options
	p, err := feature.ParseDomainParser(ff.parser)
	if err != nil {
		return o, usagef("--domain-parser: %v", err)
	}
	o.Parser = p
	o.UserDomain = ff.userDomain
	if ff.topDomains != "" {
		o.TopDomains, err = feature.LoadTopDomains(ff.topDomains)
		if err != nil {
			return o, fmt.Errorf("--top-domains: %w", err)
		}
	}
	return o, nil
}

func newFeaturizeCmd(g *globals) *cobra.Command {
	o := &featurizeOptions{}
	cmd := &cobra.Command{
		Use:   "featurize [FILE...]",
		Short: "turn events into words and documents, as Apache Spot did",
		Long: withExitStatus(`Featurize reads event streams (NDJSON or Parquet) and writes them with their
document and word columns, made by Apache Spot's word rules. With --counts it
writes aggregated (doc, word, count) tables instead, which merge across shards
for training. Streams (--counts holds up to 2M distinct pairs in memory, then
spills sorted runs to a scratch file in $TMPDIR, merged at the end).

Words (Apache Spot's, reproducing its unit-test words exactly):
  flow   <P>_<proto>_<hour>_<ceil log2(ibyt+1)>_<ceil log2(ipkt+1)>, one word per
         side; P is the service port (or 0, 111111 both low, 333333 both high)
         and the side owning the service port gets a "-1_" prefix. Documents:
         sip and dip.
  dns    <top-domain class>_<log2 frame_len>_<hour>_<log2 subdomain length>_
         <entropy bin>_<log2 labels>_<qtype>_<rcode>. Document: the client.
  proxy  <top-domain class>_<hour>_<method>_<URI entropy bin>_<content type>_
         <log2 user-agent count>_<log2 URI length>_<status>. Document: clientip.
         Proxy words need each user agent's count over the data, so featurize
         holds proxy lines in memory.

Rows Apache Spot's filters drop (hour out of range, missing addresses, negative
counters, no question name, ...) are left out, counted on stderr, and written
to --rejects FILE when given.`),
		Example: `  spot decode flow exports.pcap | spot featurize -o flows.words.parquet
  spot featurize --counts day/h=*/*.parquet -o counts/part-07.parquet
  spot featurize dns.parquet --top-domains tranco.csv --user-domain example --domain-parser psl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFeaturize(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.BoolVar(&o.counts, "counts", false, "write aggregated (doc, word, count) tables")
	f.StringVar(&o.rejects, "rejects", "", "write rows Apache Spot would reject to `FILE` (format from its extension)")
	o.feat.add(cmd)
	return cmd
}

func runFeaturize(g *globals, o *featurizeOptions, args []string) error {
	fo, err := o.feat.options()
	if err != nil {
		return err
	}
	d, err := o.out.Dest(g.io)
	if err != nil {
		return err
	}
	ins, meta, err := openInputs(args, g.io.In)
	if err != nil {
		return err
	}
	if len(ins) == 0 {
		return emptyOutput(d)
	}
	if meta.Stream != record.StreamEvents {
		closeInputs(ins)
		return fmt.Errorf("featurize reads events; %s holds %s records", ioformat.DisplayName(ins[0].Name), meta)
	}
	if fast, err := featurizeFast(g, o, ins, meta, d, fo); fast {
		return err
	}
	fz := feature.New(meta.Kind, fo)
	switch meta.Kind {
	case record.KindFlow:
		return featurizeKind(g.ctx, o, g.inputProgress("featurize", ins, d), ins, d, meta, func(ctx context.Context, r ioformat.Reader[record.Flow], w ioformat.Writer[record.FeaturizedFlow], c *feature.Counter, rej *feature.Rejects[record.Flow]) error {
			_, err := feature.FeaturizeFlows(ctx, r, w, c, rej)
			return err
		})
	case record.KindDNS:
		return featurizeKind(g.ctx, o, g.inputProgress("featurize", ins, d), ins, d, meta, func(ctx context.Context, r ioformat.Reader[record.DNS], w ioformat.Writer[record.FeaturizedDNS], c *feature.Counter, rej *feature.Rejects[record.DNS]) error {
			_, err := fz.FeaturizeDNS(ctx, r, w, c, rej)
			return err
		})
	case record.KindProxy:
		return featurizeKind(g.ctx, o, g.inputProgress("featurize", ins, d), ins, d, meta, func(ctx context.Context, r ioformat.Reader[record.Proxy], w ioformat.Writer[record.FeaturizedProxy], c *feature.Counter, rej *feature.Rejects[record.Proxy]) error {
			lines, err := feature.ReadAllProxy(ctx, r)
			if err != nil {
				return err
			}
			return fz.FeaturizeProxy(ctx, lines, w, c, rej)
		})
	}
	closeInputs(ins)
	return fmt.Errorf("cannot featurize %s records", meta.Kind)
}

func closeInputs(ins []*ioformat.Input) {
	for _, in := range ins {
		in.Close()
	}
}

// featurizeKind runs one kind's featurizer from the inputs to d (featurized
// events, or counts with --counts), with rejects to --rejects.
func featurizeKind[E, F any](ctx context.Context, o *featurizeOptions, prog *progress, ins []*ioformat.Input, d ioformat.Dest, meta record.Meta,
	run func(context.Context, ioformat.Reader[E], ioformat.Writer[F], *feature.Counter, *feature.Rejects[E]) error) (err error) {
	r, err := newConcat[E](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return err
	}
	defer r.Close()
	rej := &feature.Rejects[E]{}
	if o.rejects != "" {
		rd := ioformat.Dest{Path: o.rejects}
		rej.W, err = ioformat.Create[E](rd, meta)
		if err != nil {
			return fmt.Errorf("--rejects: %w", err)
		}
		defer func() {
			if err != nil {
				rej.W.Abort()
			} else {
				err = rej.W.Close()
			}
		}()
	}
	var w ioformat.Writer[F]
	var counts *feature.Counter
	if o.counts {
		counts = feature.NewCounter()
		defer counts.Close()
	} else {
		w, err = ioformat.Create[F](d, record.Meta{Kind: meta.Kind, Stream: record.StreamFeaturized})
		if err != nil {
			return err
		}
		ioformat.FlushWhenIdle(r, w)
	}
	defer prog.Done()
	if err := run(ctx, reading[E](r, prog), w, counts, rej); err != nil {
		if w != nil {
			w.Abort()
		}
		return err
	}
	if counts != nil {
		if err := writeCounts(d, meta.Kind, counts); err != nil {
			return err
		}
	} else if err := w.Close(); err != nil {
		return err
	}
	hint := feature.HintRejectsFlag
	if o.rejects != "" {
		hint = "written to " + o.rejects
	}
	rej.Log(meta.Kind, hint)
	if n := r.Skipped(); n > 0 {
		return &SkippedError{Count: n, Unit: "records"}
	}
	return nil
}

func writeCounts(d ioformat.Dest, kind record.Kind, c *feature.Counter) error {
	w, err := ioformat.Create[record.Count](d, record.Meta{Kind: kind, Stream: record.StreamCounts})
	if err != nil {
		return err
	}
	defer c.Close()
	// The counter merges its runs in a goroutine of its own while this one
	// encodes the rows: the two take about as long (a day's 15M pairs: 0.6
	// and 1.2 s). Batches of BatchSize rows, as before, in a ring of
	// buffers that full and free pass back and forth.
	const depth = 8
	full := make(chan []record.Count, depth)
	free := make(chan []record.Count, depth+2)
	for range depth + 2 {
		free <- ioformat.Touched(make([]record.Count, ioformat.BatchSize))[:0]
	}
	stop := make(chan struct{})
	var merr error
	go func() {
		defer close(full)
		buf := <-free
		merr = c.EachSorted(func(r record.Count) error {
			buf = append(buf, r)
			if len(buf) < cap(buf) {
				return nil
			}
			select {
			case full <- buf:
			case <-stop:
				return errStopped
			}
			buf = <-free // the writer hands every batch back
			return nil
		})
		if merr == nil && len(buf) > 0 {
			full <- buf
		}
	}()
	var werr error
	for b := range full {
		if werr == nil {
			if werr = w.Write(b); werr != nil {
				close(stop)
			}
		}
		free <- b[:0]
	}
	if werr == nil && merr != nil {
		werr = merr
	}
	if werr != nil {
		w.Abort()
		return werr
	}
	return w.Close()
}

// errStopped ends a merge whose rows can no longer be written.
var errStopped = errors.New("stopped")

// featurizeFast is the columnar Parquet-to-Parquet path for flows; it
// reports whether it handled the request.
func featurizeFast(g *globals, o *featurizeOptions, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, fo feature.Options) (bool, error) {
	if meta.Kind != record.KindFlow || o.rejects != "" {
		return false, nil
	}
	if o.counts {
		files, ok := parquetFiles(ins)
		if !ok {
			return false, nil
		}
		p, ok := columnar.CountPlan(files)
		if !ok {
			return false, nil
		}
		defer closeInputs(ins)
		c := feature.NewCounter()
		defer c.Close()
		prog := g.inputProgress("featurize", ins, d)
		st, err := columnar.CountFlows(g.ctx, files, inputNames(ins), p, c, 0, prog.adder())
		prog.Done()
		if err != nil {
			return true, err
		}
		logRejects(meta.Kind, st, feature.HintRejectsFlag)
		return true, writeCounts(d, meta.Kind, c)
	}
	return runColumnar[record.FeaturizedFlow](g, ins, d, record.Meta{Kind: meta.Kind, Stream: record.StreamFeaturized})
}
