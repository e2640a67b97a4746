package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/score"
)

type detectOptions struct {
	out       OutputFlags
	state     bool
	judged    bool
	findings  string
	subjects  int
	detectors []string
	minScore  float64
	contacts  []string
}

func newDetectCmd(g *globals) *cobra.Command {
	o := &detectOptions{}
	cmd := &cobra.Command{
		Use:   "detect [FILE...]",
		Short: "judge subjects with the detectors alone: findings, or detector state for a sharded run",
		Long: withExitStatus(`Detect reads events of one kind (NDJSON or Parquet, sniffed) and runs the
detectors that spot score --method fused runs, without a model: dns-tunnel,
beacon and context for DNS; beacon, scan, exfil, long-conn, brute-force and
context for flows; beacon, exfil and rare-agent for proxy logs. It writes a
finding for every subject scoring at least --min-score, strongest first.
(spot score also gives a flow of a host with a strong finding the "host"
verdict, half that finding's score; it is no finding of its own.)

With --state it writes the detectors' state instead (a binary file, for -o),
and it also reads states: give it the states of a day's shards and it merges
them, exactly, into the state of the whole day (with --state) or its
findings. spot score --state FILE scores a shard with that whole-day state,
so a sharded run ranks every event as one process over the whole day would:

  spot detect --state h=00.parquet -o states/h=00.state     # map, per shard
  spot detect --state states/*.state -o day.state           # reduce
  spot detect --state --judged day.state -o day.judged       # judge once
  spot score -m dns.model --state day.judged h=00.parquet -o scored/h=00.parquet

With --judged the state is written judged: the day's verdicts alone, small
and quick to read, so that each shard's score does not load and judge the
whole day's subjects again; a judged state cannot be merged. Given the
shards' states, --judged merges and judges them in one pass, and --findings
writes the findings beside the state:

  spot detect --state --judged states/*.state -o day.judged --findings day.findings.parquet

With --contacts, DNS is judged beside flow records of the same traffic (spot
decode flow of the same capture, --from packets, or NetFlow): a client whose
names under a domain resolved to addresses it never contacted is more
suspicious (+0.1 to that domain's verdicts), one that contacted them less
(down to -0.1); the evidence says which ("its names resolved to 4 addresses
(9 answers), contacted none"). Only clients the flows see connecting to some
address they resolved, and that are no resolvers, are judged; never a host
that leaves most of what it resolves unused (browsers prefetch names); never
a name with no other evidence. DNS flows themselves (port 53) are left out.
A full state does not keep contacts: give them where its verdicts are
judged (findings, or --state --judged).

The detectors' memory is bounded by --max-subjects per table: past it the
least active subjects are dropped, with a warning, and a sharded run may then
differ from one process (contacts hold at most as many pairs: past it, those
of a sample of hosts, and the others are not judged against them). Detect
holds no events: it streams.`),
		Example: `  spot decode dns capture.pcap | spot detect -f csv
  spot detect flows/*.parquet -o findings.parquet
  spot detect dns.parquet --contacts flows.parquet -f csv
  spot detect --state states/*.state -o day.findings.ndjson`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv (findings)")
	f.BoolVar(&o.state, "state", false, "write the detectors' state (to merge shards) instead of findings; -o FILE needed")
	f.BoolVar(&o.judged, "judged", false, "with --state: write the state judged, its verdicts alone (for spot score --state; cannot be merged)")
	f.StringVar(&o.findings, "findings", "", "with --state --judged: also write the findings to `FILE` (.parquet, .ndjson or .csv)")
	f.StringSliceVar(&o.detectors, "detectors", nil, "run only these `NAMES` (comma-separated: "+strings.Join(detect.Names, ", ")+"); default all")
	f.IntVar(&o.subjects, "max-subjects", 0, "most subjects each detector table keeps, `N` (default 1048576); beyond it the least active are dropped, with a warning")
	f.Float64Var(&o.minScore, "min-score", 0.2, "write findings scoring at least `X` (0-1)")
	f.StringSliceVar(&o.contacts, "contacts", nil, contactsHelp)
	return cmd
}

const contactsHelp = "DNS: flow records in `FILE` (spot decode flow of the same traffic; Parquet, NDJSON or CSV) saying which addresses each client contacted, to weigh names resolved but never contacted (context)"

// readContacts reads the flow records of --contacts (nil without them).
func readContacts(g *globals, paths []string, subjects int) (*detect.Contacts, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if slices.ContainsFunc(paths, func(p string) bool { return p == "" || p == "-" }) {
		return nil, usagef("--contacts reads files, not standard input")
	}
	ins, meta, err := openInputs(paths, nil)
	if err != nil {
		return nil, err
	}
	if len(ins) == 0 {
		return detect.NewContacts(subjects), nil
	}
	if meta.Kind != record.KindFlow {
		closeInputs(ins)
		return nil, usagef("--contacts: %s holds %s records; contacts are flows (spot decode flow)", ioformat.DisplayName(ins[0].Name), meta)
	}
	return score.ReadContacts(g.ctx, ins, subjects)
}

// contactsSkipped is the error for the malformed contacts the readers
// skipped, if any (exit status 3, after the output is written).
func contactsSkipped(c *detect.Contacts) error {
	if c == nil || c.Malformed == 0 {
		return nil
	}
	return &SkippedError{Count: c.Malformed, Unit: "contact records"}
}

func runDetect(g *globals, o *detectOptions, args []string) error {
	for _, n := range o.detectors {
		if !slices.Contains(detect.Names, n) {
			return usagef("--detectors: unknown detector %q (want %s)", n, strings.Join(detect.Names, ", "))
		}
	}
	if o.minScore <= 0 || o.minScore > 1 {
		return usagef("--min-score must be in (0, 1]")
	}
	if o.subjects < 0 {
		return usagef("--max-subjects must be positive")
	}
	if o.judged && !o.state {
		return usagef("--judged writes a state: give --state too")
	}
	if o.findings != "" && !o.judged {
		return usagef("--findings writes findings beside a judged state: give --state --judged too (without --state, findings are detect's output)")
	}
	if o.state && (o.out.Path == "" || o.out.Path == "-") && g.io.StdoutTTY {
		return usagef("--state writes a binary file: give -o FILE")
	}
	if len(o.contacts) > 0 && o.state && !o.judged {
		return usagef("--contacts weigh verdicts, and a full state keeps none: give them where it is judged (its findings, or --state --judged)")
	}
	lim := detect.Limits{Subjects: o.subjects, Only: o.detectors, Report: o.minScore}
	var err error
	if lim.Contacts, err = readContacts(g, o.contacts, o.subjects); err != nil {
		return err
	}
	states, events, err := splitStates(args)
	if err != nil {
		return err
	}
	var set detect.Set
	switch {
	case len(states) > 0 && len(events) > 0:
		return usagef("give detect events or detector states, not both (%s is a state, %s is not)", states[0], events[0])
	case len(states) > 0:
		if set, err = readStates(states, lim); err != nil {
			return err
		}
	default:
		ins, meta, err := openInputs(events, g.io.In)
		if err != nil {
			return err
		}
		defer closeInputs(ins)
		if len(ins) == 0 {
			return usagef("the input is empty: no events to judge")
		}
		if meta.Stream != record.StreamEvents && meta.Stream != record.StreamFeaturized && meta.Stream != record.StreamScored {
			return fmt.Errorf("detect reads events; %s holds %s records", ioformat.DisplayName(ins[0].Name), meta)
		}
		// nothing is written during the pass, even to a terminal's stdout
		prog := g.inputProgress("detect", ins, ioformat.Dest{})
		set, err = score.Detect(g.ctx, ins, meta.Kind, lim, prog.adder())
		prog.Done()
		if err != nil {
			return err
		}
	}
	if lim.Contacts != nil && set.Kind() != record.KindDNS {
		return usagef("--contacts weigh DNS names against flows; the input holds %s events", set.Kind())
	}
	if o.state {
		d, err := o.out.Dest(g.io)
		if err != nil {
			return err
		}
		w, err := ioformat.CreateRaw(d)
		if err != nil {
			return err
		}
		write := set.WriteState
		if o.judged {
			fs := set.Finish()
			logFindings(fs)
			if o.findings != "" {
				if err := score.WriteFindings(ioformat.Dest{Path: o.findings, Stdout: g.io.Out, StdoutTTY: g.io.StdoutTTY}, fs); err != nil {
					w.Abort()
					return err
				}
			}
			write = set.WriteJudged
		}
		if err := write(w); err != nil {
			w.Abort()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return contactsSkipped(lim.Contacts)
	}
	fs := set.Finish()
	logFindings(fs)
	d, err := o.out.Dest(g.io)
	if err != nil {
		return err
	}
	if err := score.WriteFindings(d, fs); err != nil {
		return err
	}
	return contactsSkipped(lim.Contacts)
}

// splitStates tells detector states (by their magic) from event streams.
func splitStates(args []string) (states, events []string, err error) {
	for _, a := range args {
		if a == "" || a == "-" {
			events = append(events, a)
			continue
		}
		f, err := os.Open(a)
		if err != nil {
			return nil, nil, err
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if detect.IsState(head[:n]) {
			states = append(states, a)
		} else {
			events = append(events, a)
		}
	}
	return states, events, nil
}

// readStates reads detector states and merges them into one, each merged
// as it is read.
func readStates(paths []string, lim detect.Limits) (detect.Set, error) {
	var set detect.Set
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		if set == nil {
			set, err = detect.ReadState(f, lim)
		} else {
			err = detect.MergeState(set, f)
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return set, nil
}
