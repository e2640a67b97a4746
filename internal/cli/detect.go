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
	subjects  int
	detectors []string
	minScore  float64
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
whole day's subjects again; a judged state cannot be merged.

The detectors' memory is bounded by --max-subjects per table: past it the
least active subjects are dropped, with a warning, and a sharded run may then
differ from one process. Detect holds no events: it streams.`),
		Example: `  spot decode dns capture.pcap | spot detect -f csv
  spot detect flows/*.parquet -o findings.parquet
  spot detect --state states/*.state -o day.findings.ndjson`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv (findings)")
	f.BoolVar(&o.state, "state", false, "write the detectors' state (to merge shards) instead of findings; -o FILE needed")
	f.BoolVar(&o.judged, "judged", false, "with --state: write the state judged, its verdicts alone (for spot score --state; cannot be merged)")
	f.StringSliceVar(&o.detectors, "detectors", nil, "run only these `NAMES` (comma-separated: "+strings.Join(detect.Names, ", ")+"); default all")
	f.IntVar(&o.subjects, "max-subjects", 0, "most subjects each detector table keeps, `N` (default 1048576); beyond it the least active are dropped, with a warning")
	f.Float64Var(&o.minScore, "min-score", 0.2, "write findings scoring at least `X` (0-1)")
	return cmd
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
	if o.state && (o.out.Path == "" || o.out.Path == "-") && g.io.StdoutTTY {
		return usagef("--state writes a binary file: give -o FILE")
	}
	lim := detect.Limits{Subjects: o.subjects, Only: o.detectors, Report: o.minScore}
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
			logFindings(set.Finish())
			write = set.WriteJudged
		}
		if err := write(w); err != nil {
			w.Abort()
			return err
		}
		return w.Close()
	}
	fs := set.Finish()
	logFindings(fs)
	d, err := o.out.Dest(g.io)
	if err != nil {
		return err
	}
	w, err := ioformat.Create[record.Finding](d, record.Finding{}.Meta())
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		if err := w.Write(fs); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
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

// readStates reads detector states and merges them into one.
func readStates(paths []string, lim detect.Limits) (detect.Set, error) {
	var set detect.Set
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		s, err := detect.ReadState(f, lim)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if set == nil {
			set = s
			continue
		}
		if err := set.Merge(s); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return set, nil
}
