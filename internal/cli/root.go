package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// globals are the options and streams every command shares.
type globals struct {
	io       *IO
	ctx      context.Context
	logLevel string
	logJSON  bool
	verbose  bool
	quiet    bool
	maxRec   byteSize
	level    slog.Level // the level logs are written at
	strict   bool       // decode --strict
	progMu   sync.Mutex
	progs    []*progress // the run's progress displays (stopProgress)
}

// Main runs spot with the process's arguments and streams and returns its
// exit status; it catches SIGINT and SIGTERM from its start.
func Main() int { return MainSignals(nil) }

// MainSignals is Main reading SIGINT and SIGTERM from sigs, which was
// notified of them before Main (cmd/spot passes internal/interrupt's, so
// that a signal while spot's packages initialize is not fatal); nil: Main
// asks for them itself.
func MainSignals(sigs chan os.Signal) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := System()
	defer handleSignals(cancel, os.Stderr, sigs, func() string { return readWaiting(streams.In) })()
	if path := os.Getenv("SPOT_CPUPROFILE"); path != "" {
		defer startCPUProfile(path)()
	}
	return Run(ctx, os.Args[1:], streams)
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called: SPOT_CPUPROFILE is for developers measuring a stage.
func startCPUProfile(path string) func() {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spot: SPOT_CPUPROFILE:", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// Run runs spot with args and streams and returns its exit status.
func Run(ctx context.Context, args []string, io *IO) int {
	g := &globals{io: io, ctx: ctx}
	root := newRootCmd(g)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	g.stopProgress()
	stage := strings.TrimPrefix(cmd.CommandPath(), "spot")
	stage = strings.TrimSpace(stage)
	if stage != "" {
		stage += ": "
	}
	out := outputFile(cmd)
	if err == nil {
		// A signal that came once the work was done (while the output was
		// renamed into place, say) changes nothing: the output is whole.
		// A live capture (--interface) ends so.
		if ctx.Err() != nil && out != "" && !capturing(cmd) {
			fmt.Fprintf(io.Err, "spot: %sthe interrupt came after %s was written in full; it is kept\n", stage, out)
		}
		return ExitOK
	}
	if isBrokenPipe(err) {
		return ExitOK // the reader went away, as with "| head"; say nothing
	}
	code := exitCode(err)
	if code == ExitInterrupted {
		if out != "" {
			fmt.Fprintf(io.Err, "spot: %sinterrupted; %s was not written (a file already there keeps its content)\n", stage, out)
		} else {
			fmt.Fprintln(io.Err, "spot: interrupted")
		}
		return code
	}
	g.sayError(cmd, stage, err, code)
	return code
}

// sayError prints the closing message of a run that failed or skipped
// input: "spot: STAGE: message" (and where to find usage), or one JSON
// object under --log-json.
func (g *globals) sayError(cmd *cobra.Command, stage string, err error, code int) {
	msg := err.Error()
	var skipped *SkippedError
	if errors.As(err, &skipped) {
		switch {
		case g.quiet:
			msg += " (-q hid the warnings that name them)"
		case g.level > slog.LevelWarn:
			msg += " (--log-level " + g.logLevel + " hid the warnings that name them)"
		default:
			msg += " (the warnings above name the first ones)"
		}
	}
	if g.logJSON {
		level, attrs := slog.LevelError, []any{"stage", strings.TrimSuffix(stage, ": "), "exit", code}
		if skipped != nil {
			level = slog.LevelWarn
			attrs = append(attrs, "skipped", skipped.Count, "unit", skipped.Unit, "inputs_skipped", skipped.Inputs)
		}
		if code == ExitUsage {
			attrs = append(attrs, "help", cmd.CommandPath()+" --help")
		}
		slog.New(slog.NewJSONHandler(g.io.Err, nil)).Log(context.Background(), level, msg, attrs...)
		return
	}
	fmt.Fprintf(g.io.Err, "spot: %s%s\n", stage, msg)
	if code == ExitUsage {
		fmt.Fprintf(g.io.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// capturing reports whether cmd captures from an interface until a signal.
func capturing(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("interface")
	return f != nil && f.Value.String() != ""
}

// outputFile is the file a command's -o names, "" for standard output or a
// directory (the collector's partitions).
func outputFile(cmd *cobra.Command) string {
	f := cmd.Flags().Lookup("output")
	if f == nil || f.Value.String() == "" || f.Value.String() == "-" {
		return ""
	}
	if st, err := os.Stat(f.Value.String()); err == nil && st.IsDir() {
		return ""
	}
	return f.Value.String()
}

// Command returns spot's command tree, for generating its documentation.
func Command() *cobra.Command {
	return newRootCmd(&globals{io: System(), ctx: context.Background()})
}

// newRootCmd builds the command tree.
func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "spot",
		Short: "hunt threats in flows, DNS and proxy logs with unsupervised machine learning",
		Long: `spot finds the rare events in network flows, DNS traffic and web-proxy logs.

Each event becomes a word, each address a document; an LDA topic model learns
what every host normally says, and the events least likely under their host's
topics are the suspicious ones. The stages read and write record streams
(NDJSON or Parquet), so they join with pipes or run shard by shard on a
cluster scheduler:

  spot decode dns capture.pcap | spot featurize | spot train -o dns.model
  spot decode dns capture.pcap | spot score -m dns.model | spot filter --top 20 | spot report

See "spot help formats", "spot help schema KIND", "spot help exit-codes" and
"spot help environment".`,
		Version:           versionString(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			ioformat.MaxRecordSize = int(g.maxRec)
			return g.setupLogging()
		},
	}
	root.SetIn(g.io.In)
	root.SetOut(g.io.Out)
	root.SetErr(g.io.Err)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&g.logLevel, "log-level", envOr("SPOT_LOG_LEVEL", "warn"), "log level: debug|info|warn|error (default: $SPOT_LOG_LEVEL, else warn)")
	pf.BoolVar(&g.logJSON, "log-json", false, "write logs as JSON lines")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "log at info level and show progress")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "log errors only and show no progress")
	g.maxRec = byteSize(ioformat.MaxRecordSize)
	pf.Var(&g.maxRec, "max-record-size", "skip (and count) NDJSON records longer than `SIZE` (bytes, or with KiB, MiB, GiB)")

	root.AddGroup(&cobra.Group{ID: "stages", Title: "Stages:"})
	for _, c := range []*cobra.Command{
		newDecodeCmd(g),
		newFeaturizeCmd(g),
		newTrainCmd(g),
		newScoreCmd(g),
		newDetectCmd(g),
		newFilterCmd(g),
		newReportCmd(g),
	} {
		c.GroupID = "stages"
		root.AddCommand(c)
	}
	addHelpTopics(root, g)
	groupOnly(root)
	wrapFlagHelp(root)
	addCompletions(root)
	return root
}

// groupOnly makes cmd, which only groups subcommands, print its help when
// called alone and refuse an unknown subcommand as a usage error (exit 2)
// that names the closest ones.
func groupOnly(cmd *cobra.Command) {
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
		} else {
			var names []string
			for _, sub := range c.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			msg += " (want " + strings.Join(names, ", ") + ")"
		}
		return usagef("%s", msg)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

func (g *globals) setupLogging() error {
	level := g.logLevel
	switch {
	case g.quiet:
		level = "error"
	case g.verbose:
		level = "info"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return usagef("--log-level: %v", err)
	}
	g.level = l
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewTextHandler(g.io.Err, opts)
	if g.logJSON {
		h = slog.NewJSONHandler(g.io.Err, opts)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// showProgress reports whether progress bars should be drawn.
func (g *globals) showProgress() bool { return g.io.StderrTTY && !g.quiet }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// withExitStatus appends the EXIT STATUS section to a command's long help.
func withExitStatus(long string) string { return strings.TrimRight(long, "\n") + "\n" + exitStatusHelp }
