package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/report"
)

type reportOptions struct {
	out         string
	format      string
	top         int
	perSubject  int
	storyboards int
	context     []string
	title       string
	width       int
	color       string
	enrich      enrichFlags
}

func newReportCmd(g *globals) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report [FILE...]",
		Short: "show the suspicious events for a person to read: a table, JSON or an HTML page",
		Long: withExitStatus(`Report reads scored events (NDJSON, Parquet or CSV; typically spot filter
--top's output) and the detectors' findings (any of FILE may hold findings),
and shows the most suspicious for a person to act on, as Apache Spot's
operational analytics did:

  -f table     (default) the top rows as a text table fitted to the terminal's
               width (--width, $COLUMNS), colour only on a terminal, plain
               ASCII in a pipe; then the findings and the suspicious hosts
  -f json      the documents Spot's UI was built from: the suspicious list,
               findings, a storyboard per suspicious host (timeline, peers by
               direction, top connections, names or URIs, its findings),
               chord data and an ingest summary per minute
  -f html      one self-contained page that works offline and loads nothing:
               a sortable, searchable list with the detectors' evidence, the
               storyboards with timeline charts, a chord diagram, the ingest
               chart and, with --geoip or --iploc, a map
  -f feedback  the rows as a feedback file to judge (CSV by default, NDJSON or
               Parquet by -o's extension): every column, then empty severity
               (1 high, 2 medium, 3 low risk), analyst, noted_at and note.
               Fill in severity and give it back to spot train --feedback and
               spot filter --feedback.

Rows are the --top N lowest scores (ties broken as filter --top), at most
--per-subject of one subject (a detector's subject, else the host the row is
suspicious for), so that one scan or tunnel does not fill the list: by
default 3 in a table, no cap otherwise. Storyboards
are made for the hosts of the first rows (--storyboards); --context FILE...
gives the raw events (decoded, of the same kind) they and the ingest summary
are counted from, else they are counted from the rows shown. Enrichment
(--networks, --geoip, --iploc, --reputation, and IANA's names) is added to
every row and host; without these flags the input's own enrichment columns
(spot filter --enrich) are shown.

Report reads all its input before writing; its memory is bounded by what it
shows (the top rows, and per host at most 4096 peers and 1500 time bins).`),
		Example: `  spot score -m dns.model dns.parquet | spot filter --top 100 | spot report
  spot report top.parquet findings.parquet --context day.parquet --geoip GeoLite2-City.mmdb -f html -o hunt.html
  spot report top.parquet -f feedback -o marks.csv     # judge, then: spot train --feedback marks.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(g, o, cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "-", "write to `PATH` (- is stdout)")
	f.StringVarP(&o.format, "format", "f", "", "output `FORMAT`: table|json|html|feedback (default: from -o's extension, else table)")
	f.IntVarP(&o.top, "top", "n", 0, "show the `N` lowest-scoring rows (default: 25 for a table, 1000 otherwise)")
	f.IntVar(&o.perSubject, "per-subject", 0, "show at most `N` rows of one subject (default: 3 in a table, else no cap; 0: no cap)")
	f.IntVar(&o.storyboards, "storyboards", 20, "make a storyboard for the hosts of the first `N` rows")
	f.StringSliceVar(&o.context, "context", nil, "raw events `FILE` for the storyboards and the ingest summary (repeatable)")
	f.StringVar(&o.title, "title", "", "the report's `TITLE`")
	f.IntVar(&o.width, "width", 0, "fit the table to `N` columns (default: the terminal's width, $COLUMNS; none in a pipe)")
	f.StringVar(&o.color, "color", "auto", "colour the table: auto|always|never (auto: on a terminal, unless $NO_COLOR is set or TERM=dumb)")
	o.enrich.add(f)
	return cmd
}

func runReport(g *globals, o *reportOptions, cmd *cobra.Command, args []string) error {
	format := o.format
	if format == "" {
		switch ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(o.out, ".gz"))); ext {
		case ".html", ".htm":
			format = "html"
		case ".json":
			format = "json"
		case ".csv", ".ndjson", ".jsonl", ".parquet":
			format = "feedback"
		default:
			format = "table"
		}
	}
	switch format {
	case "table", "json", "html", "feedback":
	default:
		return usagef("-f: unknown format %q (want table, json, html or feedback)", format)
	}
	if o.top < 0 || o.storyboards < 0 || o.perSubject < 0 {
		return usagef("--top, --per-subject and --storyboards must not be negative")
	}
	if !cmd.Flags().Changed("per-subject") && format == "table" {
		o.perSubject = 3
	}
	if o.top == 0 {
		o.top = 1000
		if format == "table" {
			o.top = 25
		}
	}
	colour := false
	switch o.color {
	case "always":
		colour = true
	case "never":
	case "auto":
		colour = g.io.StdoutTTY && o.out == "-" && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	default:
		return usagef("--color: want auto, always or never, not %q", o.color)
	}
	if format == "html" && o.out == "-" && g.io.StdoutTTY {
		return usagef("refusing to write an HTML page to a terminal (use -o report.html)")
	}
	in, kind, err := openReportInputs(args, o.context, g.io.In)
	if err != nil {
		return err
	}
	// Without files, the enricher still names IANA's codes and tells
	// private addresses (internal) from others; rows then keep the input's
	// own enrichment columns.
	eo := o.enrich.options()
	en, err := enrich.Open(eo)
	if err != nil {
		closeAll(in)
		return err
	}
	defer en.Close()
	r, err := report.Build(g.ctx, kind, in, report.Options{Top: o.top, PerSubject: o.perSubject, Storyboards: o.storyboards, Enricher: en, Reenrich: !eo.Empty(), Title: o.title})
	skipped := int64(0)
	if se, ok := err.(*report.SkippedError); ok {
		skipped, err = se.Count, nil
	}
	if err != nil {
		return err
	}
	if r.Summary.Scored > int64(r.Summary.Shown) && format != "table" && !g.quiet {
		fmt.Fprintf(g.io.Err, "spot: report: showing the %d lowest-scoring of %d records (--top)\n", r.Summary.Shown, r.Summary.Scored)
	}
	if format == "feedback" {
		d := ioformat.Dest{Path: o.out, Stdout: g.io.Out, StdoutTTY: g.io.StdoutTTY, Format: ioformat.FormatFromPath(o.out)}
		if d.Format == "" {
			d.Format = ioformat.CSV
		}
		err = r.WriteFeedback(d)
	} else {
		err = writeReport(g, o, r, format, colour)
	}
	if err == nil && skipped > 0 {
		return &SkippedError{Count: skipped, Unit: "records"}
	}
	return err
}

// writeReport writes a table, JSON or HTML to -o, through a temporary
// file renamed when complete.
func writeReport(g *globals, o *reportOptions, r *report.Report, format string, colour bool) error {
	out, err := ioformat.CreateRaw(ioformat.Dest{Path: o.out, Stdout: g.io.Out, Format: "text"})
	if err != nil {
		return err
	}
	switch format {
	case "table":
		err = r.WriteTable(out, report.TableOptions{Width: tableWidth(g, o), Colour: colour})
	case "json":
		err = r.WriteJSON(out)
	case "html":
		err = r.WriteHTML(out)
	}
	if err != nil {
		out.Abort()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if s := r.Summary; format == "html" && (s.RowsCut > 0 || s.HostsCut > 0) && !g.quiet {
		fmt.Fprintf(g.io.Err, "spot: report: to stay under %d MB, the page holds the first %d of %d rows and %d of %d storyboards (-f json writes them all)\n",
			report.MaxHTMLBytes/1_000_000, s.Shown-s.RowsCut, s.Shown, len(r.Hosts)-s.HostsCut, len(r.Hosts))
	}
	if format == "html" && o.out != "-" && !g.quiet {
		fmt.Fprintf(g.io.Err, "spot: report: wrote %s\n", o.out)
	}
	return nil
}

// tableWidth is --width, else $COLUMNS, else the terminal's width; 0 (no
// limit) in a pipe.
func tableWidth(g *globals, o *reportOptions) int {
	if o.width > 0 {
		return o.width
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := g.io.Out.(*os.File); ok && g.io.StdoutTTY && o.out == "-" {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// openReportInputs opens the scored and finding inputs and the context,
// and checks their kinds agree.
func openReportInputs(args, context []string, stdin io.Reader) (report.Inputs, record.Kind, error) {
	var in report.Inputs
	var kind record.Kind
	if len(args) == 0 {
		args = []string{"-"}
	}
	fail := func(err error) (report.Inputs, record.Kind, error) {
		closeAll(in)
		return report.Inputs{}, "", err
	}
	for _, name := range args {
		x, err := ioformat.Open(name, stdin)
		if err != nil {
			return fail(err)
		}
		switch {
		case x.Meta == (record.Meta{}):
			x.Close()
		case x.Meta.Kind == record.KindFinding:
			in.Findings = append(in.Findings, x)
		case x.Meta.Stream != record.StreamScored:
			x.Close()
			return fail(usagef("%s holds %s records; report reads scored events (spot score, spot filter) and findings", ioformat.DisplayName(name), x.Meta))
		case kind != "" && x.Meta.Kind != kind:
			x.Close()
			return fail(fmt.Errorf("%s holds %s records, but earlier inputs hold %s", ioformat.DisplayName(name), x.Meta.Kind, kind))
		default:
			kind = x.Meta.Kind
			in.Scored = append(in.Scored, x)
		}
	}
	if kind == "" {
		kind = record.KindFinding
		if len(in.Findings) == 0 {
			return fail(fmt.Errorf("no records to report"))
		}
	}
	for _, name := range context {
		x, err := ioformat.Open(name, stdin)
		if err != nil {
			return fail(fmt.Errorf("--context: %w", err))
		}
		if x.Meta == (record.Meta{}) {
			x.Close()
			continue
		}
		if x.Meta.Kind != kind || x.Meta.Stream == record.StreamCounts {
			x.Close()
			return fail(usagef("--context %s holds %s records; the report is of %s events", ioformat.DisplayName(name), x.Meta, kind))
		}
		in.Context = append(in.Context, x)
	}
	return in, kind, nil
}

func closeAll(in report.Inputs) {
	for _, l := range [][]*ioformat.Input{in.Scored, in.Findings, in.Context} {
		for _, x := range l {
			x.Close()
		}
	}
}
