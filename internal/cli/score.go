package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/score"
)

type scoreOptions struct {
	out       OutputFlags
	model     string
	method    string
	unseenDoc string
}

func newScoreCmd(g *globals) *cobra.Command {
	o := &scoreOptions{}
	cmd := &cobra.Command{
		Use:   "score -m MODEL [FILE...]",
		Short: "score each event by how likely its host is to say it",
		Long: withExitStatus(`Score reads event streams (NDJSON or Parquet) and a model from "spot train",
and writes scored events: each event's word(s), document, score and the topic
that explains it best. Low scores are the suspicious events. Streams, with
memory bounded by the model.

The words are made with the featurizer settings stored in the model (top
domains, user domain, domain parser, proxy user-agent counts). Featurized
events keep their words. A flow's score is the lower of its two sides
(src_score: sip saying src_word; dst_score: dip saying dst_word).

Methods (--method):
  spot        Apache Spot's score: sum over topics k of P(k | host) * P(word | k).
  population  the same under a typical host's topic mixture (for each topic,
              the median of its weight over the training hosts): how likely
              a typical host is to say the word.
  peer        population divided by spot: how much more this host says the
              word than a typical host does; low for a host unlike its peers
              (a host that mostly tunnels DNS finds its tunnel normal under
              spot, not under peer).
  hybrid      the minimum of spot and peer: rare for its own host, or said
              by it far more than by its peers.

Unseen words and hosts: a word the model never saw scores 0 (as in Spot) with
top_topic -1. A host the model never saw gets the mean topic mixture of the
training hosts (--unseen-doc mean, the default) or scores 0 as in Spot
(--unseen-doc zero). Rows Apache Spot's filters reject are left out and counted.`),
		Example: `  spot decode dns capture.pcap | spot score -m dns.model | spot filter --top 20
  spot score -m flow.model day/h=13/*.parquet -o scored/h=13.parquet
  spot score -m dns.model --method hybrid dns.parquet -o scored.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScore(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.StringVarP(&o.model, "model", "m", envOr("SPOT_MODEL", ""), "model `FILE` from spot train (default: $SPOT_MODEL)")
	f.StringVar(&o.method, "method", "spot", score.MethodHelp)
	f.StringVar(&o.unseenDoc, "unseen-doc", "mean", "score of hosts the model never saw: mean (the training hosts' mean topic mixture) or zero (Apache Spot)")
	return cmd
}

// scoreJob is everything a scoring run needs.
type scoreJob struct {
	scorer *score.Scorer
	fz     *feature.Featurizer
	method string
}

func loadScorer(path string, kind record.Kind, method score.Method, unseen score.UnseenDoc) (*scoreJob, error) {
	m, err := lda.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := m.CheckKind(string(kind)); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	fz, err := feature.FromSettings(kind, m.Features)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	s, err := score.New(score.Model{Docs: m.Docs, Words: m.Words, DocTopic: m.DocTopic, TopicWord: m.TopicWord}, method, unseen)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return &scoreJob{scorer: s, fz: fz, method: string(method)}, nil
}

func runScore(g *globals, o *scoreOptions, args []string) error {
	if o.model == "" {
		return usagef("score needs -m MODEL (or $SPOT_MODEL)")
	}
	method, err := score.ParseMethod(o.method)
	if err != nil {
		return usagef("--method: %v", err)
	}
	unseen, err := score.ParseUnseenDoc(o.unseenDoc)
	if err != nil {
		return usagef("--unseen-doc: %v", err)
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
	if meta.Stream != record.StreamEvents && meta.Stream != record.StreamFeaturized {
		closeInputs(ins)
		return fmt.Errorf("score reads events or featurized events; %s holds %s records", ioformat.DisplayName(ins[0].Name), meta)
	}
	job, err := loadScorer(o.model, meta.Kind, method, unseen)
	if err != nil {
		closeInputs(ins)
		return err
	}
	if fast, err := scoreFast(g, job, ins, meta, d); fast {
		return err
	}
	out := record.Meta{Kind: meta.Kind, Stream: record.StreamScored}
	ev := meta.Stream == record.StreamEvents
	switch {
	case meta.Kind == record.KindFlow && ev:
		return scoreStream(g.ctx, ins, out, d, func(e *record.Flow, to *record.ScoredFlow) string {
			if why := feature.FlowReject(e); why != "" {
				return why
			}
			src, dst := feature.FlowWords(e.SPort, e.DPort, e.Proto, e.TrHour, e.IByt, e.IPkt)
			job.flow(&record.FeaturizedFlow{Flow: *e, SrcWord: src, DstWord: dst}, to)
			return ""
		})
	case meta.Kind == record.KindFlow:
		return scoreStream(g.ctx, ins, out, d, func(e *record.FeaturizedFlow, to *record.ScoredFlow) string {
			job.flow(e, to)
			return ""
		})
	case meta.Kind == record.KindDNS && ev:
		return scoreStream(g.ctx, ins, out, d, func(e *record.DNS, to *record.ScoredDNS) string {
			if why := feature.DNSReject(e); why != "" {
				return why
			}
			job.dns(&record.FeaturizedDNS{DNS: *e, Doc: feature.DNSDoc(e), Word: job.fz.DNSWord(e)}, to)
			return ""
		})
	case meta.Kind == record.KindDNS:
		return scoreStream(g.ctx, ins, out, d, func(e *record.FeaturizedDNS, to *record.ScoredDNS) string {
			job.dns(e, to)
			return ""
		})
	case meta.Kind == record.KindProxy && ev:
		return scoreProxyEvents(g.ctx, job, ins, out, d)
	case meta.Kind == record.KindProxy:
		return scoreStream(g.ctx, ins, out, d, func(e *record.FeaturizedProxy, to *record.ScoredProxy) string {
			job.proxy(e, to)
			return ""
		})
	}
	closeInputs(ins)
	return fmt.Errorf("cannot score %s records", meta)
}

func explain(r score.Result, method string) record.Explanation {
	return record.Explanation{Score: r.Score, LDAScore: r.Score, Method: method, TopTopic: r.TopTopic, TopTopicWeight: r.TopTopicWeight}
}

func (j *scoreJob) flow(e *record.FeaturizedFlow, to *record.ScoredFlow) {
	src, dst, low := j.scorer.Flow(e.SIP, e.SrcWord, e.DIP, e.DstWord)
	*to = record.ScoredFlow{FeaturizedFlow: *e, SrcScore: src.Score, DstScore: dst.Score, Explanation: explain(low, j.method)}
}

func (j *scoreJob) dns(e *record.FeaturizedDNS, to *record.ScoredDNS) {
	*to = record.ScoredDNS{FeaturizedDNS: *e, Explanation: explain(j.scorer.Score(e.Doc, e.Word), j.method)}
}

func (j *scoreJob) proxy(e *record.FeaturizedProxy, to *record.ScoredProxy) {
	*to = record.ScoredProxy{FeaturizedProxy: *e, Explanation: explain(j.scorer.Score(e.Doc, e.Word), j.method)}
}

// scoreStream scores every record of the inputs with fn, which fills the
// scored record or returns why the row is rejected.
func scoreStream[E, S any](ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, fn func(*E, *S) string) error {
	r, err := newConcat[E](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return err
	}
	defer r.Close()
	w, err := ioformat.Create[S](d, meta)
	if err != nil {
		return err
	}
	rej := &feature.Rejects[struct{}]{}
	in := make([]E, ioformat.BatchSize)
	out := make([]S, ioformat.BatchSize)
	for {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return err
		}
		n, rerr := r.Read(in)
		k := 0
		for i := range in[:n] {
			if why := fn(&in[i], &out[k]); why != "" {
				rej.Count++
				if rej.Reasons == nil {
					rej.Reasons = map[string]int64{}
				}
				rej.Reasons[why]++
				continue
			}
			k++
		}
		if k > 0 {
			if err := w.Write(out[:k]); err != nil {
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
	if err := w.Close(); err != nil {
		return err
	}
	rej.Log(meta.Kind)
	if n := r.Skipped(); n > 0 {
		return &SkippedError{Count: n, Unit: "records"}
	}
	return nil
}

// scoreProxyEvents scores proxy lines. With the model's user-agent counts
// it streams; a model trained on words only has none, and the lines are
// then held to count them (as Spot's scoring did).
func scoreProxyEvents(ctx context.Context, job *scoreJob, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest) error {
	if ua := job.fz.Options().UserAgents; ua != nil {
		return scoreStream(ctx, ins, meta, d, func(e *record.Proxy, to *record.ScoredProxy) string {
			if why := feature.ProxyReject(e); why != "" {
				return why
			}
			job.proxy(&record.FeaturizedProxy{Proxy: *e, Doc: e.ClientIP, Word: job.fz.ProxyWord(e, ua[feature.ProxyAgent(e)])}, to)
			return ""
		})
	}
	r, err := newConcat[record.Proxy](ctx, ins)
	if err != nil {
		closeInputs(ins)
		return err
	}
	lines, err := feature.ReadAllProxy(ctx, r)
	skipped := r.Skipped()
	r.Close()
	if err != nil {
		return err
	}
	ua := feature.UserAgentCounts(lines)
	w, err := ioformat.Create[record.ScoredProxy](d, meta)
	if err != nil {
		return err
	}
	rej := &feature.Rejects[struct{}]{}
	out := ioformat.Touched(make([]record.ScoredProxy, ioformat.BatchSize))[:0]
	for i := range lines {
		e := &lines[i]
		if why := feature.ProxyReject(e); why != "" {
			rej.Count++
			continue
		}
		var s record.ScoredProxy
		job.proxy(&record.FeaturizedProxy{Proxy: *e, Doc: e.ClientIP, Word: job.fz.ProxyWord(e, ua[feature.ProxyAgent(e)])}, &s)
		out = append(out, s)
		if len(out) == cap(out) || i == len(lines)-1 {
			if err := w.Write(out); err != nil {
				w.Abort()
				return err
			}
			out = out[:0]
		}
	}
	if len(out) > 0 {
		if err := w.Write(out); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	rej.Log(meta.Kind)
	if skipped > 0 {
		return &SkippedError{Count: skipped, Unit: "records"}
	}
	return nil
}

// scoreFast is the columnar Parquet-to-Parquet path for flows; it reports
// whether it handled the request.
func scoreFast(g *globals, job *scoreJob, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest) (bool, error) {
	if meta.Kind != record.KindFlow || meta.Stream != record.StreamEvents {
		return false, nil
	}
	return runColumnar[record.ScoredFlow](g, ins, d, record.Meta{Kind: meta.Kind, Stream: record.StreamScored}, job.scorer, job.method)
}
