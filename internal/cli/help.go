package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/spot-hunt/spot/internal/decode/suricata"
	"github.com/spot-hunt/spot/internal/decode/zeek"
	"github.com/spot-hunt/spot/internal/record"
)

const formatsHelp = `Record streams are NDJSON or Parquet.

Input
  Files are named as arguments; none, or -, is stdin. The format is sniffed:
  "PAR1" is Parquet, "{" is NDJSON. gzip- and zstd-compressed input is read
  transparently. Parquet read from a pipe is first spooled to a temporary file
  in $TMPDIR (its footer comes last). Several inputs are read one after the
  other and must hold records of one kind. A folder stands for the record
  files under it (.parquet, .ndjson, .jsonl; names starting with . or _
  are skipped), in name order; a quoted pattern is expanded by spot, ** for
  any number of folders: spot score -m m.model 'day/**/*.parquet'.
  An NDJSON line longer than --max-record-size (16MiB) is read past in
  constant memory, skipped and counted (exit 3).

Partitions
  Decoders write Hive-style partitions with --partition hour|day -o DIR:
  DIR/y=YYYY/m=MM/d=DD/h=HH/NAME.parquet, one file per input and partition,
  NAME being the input's file name, so a rerun over an input replaces its
  files (DIR/_inputs/ lists what each input wrote). Each input is decoded on
  its own, as a job array decodes it. Spark, Trino and DuckDB read the tree
  as one table: read_parquet('DIR/**/*.parquet', hive_partitioning=true).

Output
  -o PATH writes to PATH (default -, stdout). The format follows -o's
  extension (.parquet, .ndjson/.jsonl, .csv) or -f; otherwise NDJSON. A
  path ending .gz or .zst (out.csv.gz) is written gzip or zstd compressed.
  Files are written without a name (on Linux; elsewhere under a temporary
  one) and named when complete, so a failed, interrupted or killed run
  leaves no partial file. Parquet is never written to a terminal (use
  --force). Parquet is Snappy-compressed, in row groups of
  131072 rows.

Kinds and shapes
  Every stream says what it holds: its kind (flow, dns, proxy) and its shape
  (events, featurized, counts, scored). Parquet carries them in key-value
  metadata (spot.kind, spot.stream); NDJSON in each object ("kind", and
  "stream" for anything but events). Parquet without that metadata, such as
  Apache Spot's own Hive tables, is recognised by its column names.
  Findings (kind finding, shape scored) are detectors' verdicts on subjects
  that spot score writes beside the scored events.

Converting
  spot filter with no predicate copies records, so it converts:
    spot filter flows.ndjson -o flows.parquet
    spot filter flows.parquet -f csv > flows.csv`

const environmentHelp = `SPOT_MODEL      default for score's -m/--model
SPOT_LOG_LEVEL  default for --log-level (debug, info, warn, error)
SPOT_CORPUS     where tests, benchmarks and the evaluation find the test corpus
                (default ../shared/corpus)
TMPDIR          where Parquet read from a pipe is spooled
NO_COLOR        when set and not empty, report draws no colour`

func addHelpTopics(root *cobra.Command, g *globals) {
	topic := func(name, short, long string) *cobra.Command {
		return &cobra.Command{Use: name, Short: short, Long: long}
	}
	root.AddCommand(
		topic("formats", "record stream formats: NDJSON, Parquet, CSV", formatsHelp),
		topic("exit-codes", "what spot's exit status means", strings.TrimSpace(exitStatusHelp)),
		topic("environment", "environment variables spot reads", environmentHelp),
		topic("schema", "the columns of each kind: spot help schema KIND [SHAPE]",
			"spot help schema KIND [SHAPE] prints each column of KIND (flow, dns or proxy)\nrecords, its type and meaning. SHAPE is events (default), featurized,\ncounts or scored; enriched lists the columns spot filter --enrich adds;\nzeek or suricata says which field of their logs fills which column.\n\"spot help schema finding\" prints the columns of the findings spot score\nwrites: a detector's verdict on a subject."),
	)
	def := root.HelpFunc()
	root.SetHelpCommand(&cobra.Command{
		Use:               "help [command|topic]",
		Short:             "help about any command or topic",
		ValidArgsFunction: completeHelp(root),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "schema" && len(args) > 1 {
				return printSchema(g.io.Out, args[1:])
			}
			c, _, err := root.Find(args)
			if err != nil || c == nil {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			def(c, args)
			return nil
		},
	})
}

func printSchema(w io.Writer, args []string) error {
	kind, err := record.ParseKind(args[0])
	if err != nil {
		return usageError{err}
	}
	m := record.Meta{Kind: kind, Stream: record.StreamEvents}
	if kind == record.KindFinding {
		m.Stream = record.StreamScored
	}
	if len(args) > 1 {
		if text, ok := map[string]map[string]string{"zeek": zeek.Mapping, "suricata": suricata.Mapping}[args[1]]; ok {
			if text[string(kind)] == "" {
				return usagef("%s logs give no %s records", args[1], kind)
			}
			_, err := fmt.Fprint(w, text[string(kind)])
			return err
		}
		m.Stream = record.Stream(args[1])
	}
	ex := record.Example(m)
	title := fmt.Sprintf("%s %s records", m.Kind, m.Stream)
	if m.Stream == "enriched" {
		ex = record.ContextExample(kind)
		title = fmt.Sprintf("columns spot filter --enrich adds to %s records (after the stream's own)", kind)
	}
	if ex == nil {
		return usagef("unknown shape %q of %s records (want events, featurized, counts, scored or enriched; findings are only scored)", m.Stream, m.Kind)
	}
	fmt.Fprintf(w, "%s\n\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tMEANING")
	for _, c := range record.Columns(ex) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Type, c.Doc)
	}
	return tw.Flush()
}

// noDefault is the flag annotation of flags to which no default applies
// (--max-score: without it, no limit): their help shows none.
const noDefault = "spot_no_default"

// markNoDefault marks the flags named as having no default.
func markNoDefault(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		fs.SetAnnotation(n, noDefault, []string{"true"})
	}
}

// tidied returns a copy of fs whose flags show at most one default in
// help: pflag's "(default x)" is left out where the usage states its own
// ("default: $SPOT_LOG_LEVEL, else warn") or where none applies. The flags
// themselves keep their defaults (man pages show them).
func tidied(fs *pflag.FlagSet) *pflag.FlagSet {
	out := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	out.SortFlags = fs.SortFlags
	fs.VisitAll(func(f *pflag.Flag) {
		c := *f
		if strings.Contains(f.Usage, "default:") || f.Annotations[noDefault] != nil {
			c.DefValue = zeroDefault(f.Value.Type())
		}
		out.AddFlag(&c)
	})
	return out
}

// zeroDefault is the DefValue for which pflag shows no default, by the
// flag's type.
func zeroDefault(typ string) string {
	switch {
	case typ == "bool":
		return "false"
	case typ == "duration":
		return "0s"
	case strings.HasSuffix(typ, "Slice"), strings.HasSuffix(typ, "Array"):
		return "[]"
	case strings.HasPrefix(typ, "int"), strings.HasPrefix(typ, "uint"), strings.HasPrefix(typ, "float"), typ == "count":
		return "0"
	}
	return ""
}

var wrapOnce sync.Once

// wrapFlagHelp makes c's help wrap its flags' text to the terminal's width
// (COLUMNS, else 80 when stdout is not a terminal).
func wrapFlagHelp(c *cobra.Command) {
	wrapOnce.Do(func() {
		cobra.AddTemplateFunc("wrappedFlagUsages", func(fs *pflag.FlagSet) string { return tidied(fs).FlagUsagesWrapped(helpWidth()) })
	})
	c.SetUsageTemplate(strings.NewReplacer(
		".LocalFlags.FlagUsages", "wrappedFlagUsages .LocalFlags",
		".InheritedFlags.FlagUsages", "wrappedFlagUsages .InheritedFlags",
	).Replace(c.UsageTemplate()))
}

// helpWidth is the width help is wrapped to: the terminal's, else $COLUMNS,
// else 80; never under 40.
func helpWidth() int {
	w := 80
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		w = n
	} else if cols, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && cols > 0 {
		w = cols
	}
	return max(w, 40)
}
