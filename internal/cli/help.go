package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

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
		topic("schema", "the columns of each record kind: spot help schema flow|dns|proxy|finding [SHAPE|zeek|suricata]",
			"spot help schema KIND [SHAPE] prints each column of KIND (flow, dns or proxy)\nrecords, its type and meaning. SHAPE is events (default), featurized,\ncounts or scored; enriched lists the columns spot filter --enrich adds;\nzeek or suricata says which field of their logs fills which column.\n\"spot help schema finding\" prints the columns of the findings spot score\nwrites: a detector's verdict on a subject."),
	)
	def := root.HelpFunc()
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command|topic]",
		Short: "help about any command or topic",
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
