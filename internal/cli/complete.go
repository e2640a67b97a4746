package cli

import (
	"regexp"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/score"
)

// listedValues finds the values a flag's usage lists, as a|b|c or as
// "a, b or c".
var listedValues = regexp.MustCompile(`[a-z0-9-]+((\||, | or )[a-z0-9-]+)+`)

// listSep separates listed values.
var listSep = regexp.MustCompile(`\||, | or `)

// addCompletions makes shell completion offer the values of c's tree's
// flags that take one of a few words, and the topics and schema kinds and
// shapes of "spot help".
func addCompletions(c *cobra.Command) {
	named := map[string][]string{
		"domain-parser": {"spot", "psl"},
		"unseen-doc":    {"mean", "zero"},
	}
	for _, m := range score.Methods {
		named["method"] = append(named["method"], string(m))
	}
	listed := []string{"format", "input-format", "from", "log-level", "partition"}
	offer := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			values := named[f.Name]
			if values == nil && slices.Contains(listed, f.Name) {
				values = listSep.Split(listedValues.FindString(f.Usage), -1)
			}
			if _, done := c.GetFlagCompletionFunc(f.Name); len(values) > 1 && !done {
				c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		})
	}
	offer(c.LocalNonPersistentFlags())
	offer(c.PersistentFlags())
	for _, sub := range c.Commands() {
		addCompletions(sub)
	}
}

// completeHelp completes "spot help": commands and topics, then the kinds
// and shapes of "spot help schema".
func completeHelp(root *cobra.Command) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []string
		switch {
		case len(args) == 0:
			for _, c := range root.Commands() {
				if c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
					out = append(out, c.Name())
				}
			}
		case args[0] == "schema" && len(args) == 1:
			for _, k := range record.Kinds {
				out = append(out, string(k))
			}
			out = append(out, string(record.KindFinding))
		case args[0] == "schema" && len(args) == 2:
			for _, s := range record.Streams {
				out = append(out, string(s))
			}
			out = append(out, "enriched", "zeek", "suricata")
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
