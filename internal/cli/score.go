package cli

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/detect"
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
	findings  string
	subjects  int
	top       int
	detectors []string
	within    string
	states    []string
	contacts  []string
	lookups   []string
}

func newScoreCmd(g *globals) *cobra.Command {
	o := &scoreOptions{}
	cmd := &cobra.Command{
		Use:   "score -m MODEL [FILE...]",
		Short: "score each event by how likely its host is to say it",
		Long: withExitStatus(`Score reads event streams (NDJSON or Parquet) and a model from "spot train",
and writes scored events: each event's word(s), document, score and the topic
that explains it best. Low scores are the suspicious events. Streams, with
memory bounded by the model (and, for the fused method, by the detectors'
--max-subjects).

The words are made with the featurizer settings stored in the model (top
domains, user domain, domain parser, proxy user-agent counts). Featurized
events keep their words. A flow's score is the lower of its two sides
(src_score: sip saying src_word; dst_score: dip saying dst_word).

Methods (--method):
  fused       the default: the detectors (spot detect --help) judge each
              event's subjects (client and domain, source and destination,
              scanner, ...) over the whole input; an event ranks by its
              strongest verdict, and by Apache Spot's score within it
              (--within), and says why: detector, detector_score, subject,
              evidence, lda_score. Files are read twice; a pipe once: its
              events are scored when it goes idle or ends. DNS with
              --contacts FLOWS also weighs names resolved to addresses
              their client never contacted (spot detect --help).
              Flows with --lookups DNS, the mirror of --contacts: the DNS
              records of the same traffic (spot decode dns of the same
              capture, or the resolver's log) are joined to the lookup
              flows (client address and port, resolver, time), and a
              lookup that led to a strong finding of its client (0.55 or
              more, not DNS itself) shares that finding's verdict, with
              evidence saying how: its answers held the finding's
              destination, which the client then contacted; or its name
              was looked up just before at least 6, and half, of the
              finding's connections (within 1 s), and at least half of
              the client's lookups of it were followed so. Flows carry no
              names, so without this a C2 name's lookups rank with every
              other lookup of the client. Findings do not change. Needs
              flows read from files, or --state (a judged state written
              by this version keeps what the name rule needs), and DNS
              records with client_port (spot decode dns writes it).
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
(--unseen-doc zero). A model that knows the words, or the hosts, of under a
tenth of the events (one of other traffic, or of other hours: a flow's word
holds its hour) is said to on stderr, with the share it knows. Rows Apache
Spot's filters reject are left out and counted.`),
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
	f.StringVar(&o.method, "method", "fused", score.MethodHelp)
	f.StringVar(&o.unseenDoc, "unseen-doc", "mean", "score of hosts the model never saw: mean (the training hosts' mean topic mixture) or zero (Apache Spot)")
	f.StringVar(&o.findings, "findings", "", "with --method fused, also write the detectors' findings (one record per suspicious subject) to `FILE` (.parquet, .ndjson or .csv)")
	f.StringVar(&o.within, "within", "spot", "with --method fused, the topic-model `METHOD` that orders events within a level of the detectors' evidence: spot, population, peer or hybrid")
	f.StringSliceVar(&o.states, "state", nil, "with --method fused, judge subjects by the detectors' state in `FILE` (from spot detect --state, merged over the shards of a day) instead of running the detectors over the input")
	f.StringSliceVar(&o.detectors, "detectors", nil, "with --method fused, run only these `NAMES` (comma-separated: "+strings.Join(detect.Names, ", ")+"); default all")
	f.IntVar(&o.subjects, "max-subjects", 0, "most subjects each detector table keeps, `N` (default 1048576); beyond it the least active are dropped, with a warning")
	f.StringSliceVar(&o.contacts, "contacts", nil, "with --method fused, "+contactsHelp+"; see spot detect --help")
	f.IntVar(&o.top, "top", 0, "write only the `N` lowest-ranked events, lowest first: what spot filter --top N keeps of the whole output (Apache Spot's maxresults), without writing the rest (0: every event)")
	f.StringSliceVar(&o.lookups, "lookups", nil, "with --method fused, flows: DNS records in `FILE` (spot decode dns of the same traffic; Parquet, NDJSON or CSV), whose lookups that led to a strong finding share its verdict")
	return cmd
}

func runScore(g *globals, o *scoreOptions, args []string) error {
	if o.model == "" {
		return usagef("score needs -m MODEL (or $SPOT_MODEL)")
	}
	method, err := score.ParseMethod(o.method)
	if err != nil {
		return usagef("--method: %v", err)
	}
	unseen, err := lda.ParseUnseenDoc(o.unseenDoc)
	if err != nil {
		return usagef("--unseen-doc: %v", err)
	}
	within, err := lda.ParseMethod(o.within)
	if err != nil {
		return usagef("--within: %v", err)
	}
	if (o.findings != "" || len(o.states) > 0 || len(o.contacts) > 0 || len(o.lookups) > 0) && method != score.Fused {
		return usagef("--findings, --state, --contacts and --lookups need --method fused: the other methods run no detectors")
	}
	if slices.ContainsFunc(o.lookups, func(p string) bool { return p == "" || p == "-" }) {
		return usagef("--lookups reads files, not standard input")
	}
	if o.subjects < 0 {
		return usagef("--max-subjects must be positive")
	}
	if o.top < 0 {
		return usagef("--top must be positive")
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
	for _, n := range o.detectors {
		if !slices.Contains(detect.Names, n) {
			return usagef("--detectors: unknown detector %q (want %s)", n, strings.Join(detect.Names, ", "))
		}
	}
	opts := score.Options{Model: o.model, Method: method, Unseen: unseen, Within: within,
		Limits: detect.Limits{Subjects: o.subjects, Only: o.detectors}, Top: o.top}
	if len(o.contacts) > 0 && meta.Kind != record.KindDNS {
		closeInputs(ins)
		return usagef("--contacts weigh DNS names against flows; the input holds %s events", meta.Kind)
	}
	if opts.Limits.Contacts, err = readContacts(g, o.contacts, o.subjects); err != nil {
		closeInputs(ins)
		return err
	}
	if len(o.lookups) > 0 {
		if meta.Kind != record.KindFlow {
			closeInputs(ins)
			return usagef("--lookups join DNS lookups to flows; the input holds %s events (for DNS, --contacts FLOWS is the mirror)", meta.Kind)
		}
		if slices.ContainsFunc(ins, isStdin) && len(o.states) == 0 {
			closeInputs(ins)
			return usagef("--lookups: give the flows as files (they are read twice) or --state, not standard input")
		}
		if opts.Lookups, err = lookupsReader(g, o.lookups, o.subjects); err != nil {
			closeInputs(ins)
			return err
		}
	}
	if o.findings != "" {
		opts.Findings = &ioformat.Dest{Path: o.findings, Stdout: g.io.Out, StdoutTTY: g.io.StdoutTTY}
	}
	if len(o.states) > 0 {
		if opts.State, err = readStates(o.states, opts.Limits); err != nil {
			closeInputs(ins)
			return err
		}
	}
	// the fused method's first pass over files is the detectors'
	detectPass := method == score.Fused && opts.State == nil && !slices.ContainsFunc(ins, isStdin)
	desc := "score"
	if detectPass {
		desc = "score: detectors"
	}
	prog := g.inputProgress(desc, ins, d)
	opts.Progress = prog.adder()
	if detectPass {
		opts.DetectProgress, opts.Progress = prog.adder(), prog.stage("score")
	}
	input := inputList(ins)
	st, err := score.Run(g.ctx, ins, meta, d, opts)
	prog.Done()
	if err != nil {
		return err
	}
	for _, w := range st.Unfamiliar(opts) {
		slog.Warn(w.Msg, append([]any{"model", o.model, "input", input}, w.Args...)...)
	}
	logRejects(meta.Kind, columnar.Stats{Rejected: st.Rejected, Reasons: st.Reasons}, feature.HintFeaturize)
	if method == score.Fused {
		logFindings(st.Findings)
	}
	if st.Skipped > 0 {
		return &SkippedError{Count: st.Skipped, Unit: "records"}
	}
	if st.LookupsSkipped > 0 {
		return &SkippedError{Count: st.LookupsSkipped, Unit: "lookup records"}
	}
	return contactsSkipped(opts.Limits.Contacts)
}

// lookupsReader checks the DNS files of --lookups and returns their reader
// for score.Options.Lookups.
func lookupsReader(g *globals, paths []string, subjects int) (func(map[string]bool) (*detect.Lookups, error), error) {
	ins, meta, err := openInputs(paths, nil)
	if err != nil {
		return nil, err
	}
	if len(ins) > 0 && meta.Kind != record.KindDNS {
		closeInputs(ins)
		return nil, usagef("--lookups: %s holds %s records; lookups are DNS records (spot decode dns)", ioformat.DisplayName(ins[0].Name), meta)
	}
	closeInputs(ins)
	return func(clients map[string]bool) (*detect.Lookups, error) {
		ins, _, err := openInputs(paths, nil)
		if err != nil {
			return nil, err
		}
		return score.ReadLookups(g.ctx, ins, clients, subjects)
	}, nil
}

// logFindings says how many findings each detector made.
func logFindings(fs []record.Finding) {
	by := map[string]int64{}
	for _, f := range fs {
		by[f.Detector]++
	}
	args := []any{"findings", len(fs)}
	for _, k := range feature.SortedKeys(by) {
		args = append(args, k, by[k])
	}
	slog.Info("detectors", args...)
}
