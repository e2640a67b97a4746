package cli

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestFlagHelp: every command's flag help is wrapped to the terminal's
// width (COLUMNS here), shows at most one default per flag, and none where
// none applies (#20 item 8).
func TestFlagHelp(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if !c.IsAvailableCommand() && len(path) > 0 {
			return
		}
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(Command(), nil)
	if len(paths) < 10 {
		t.Fatalf("%d commands", len(paths))
	}
	flagLine := regexp.MustCompile(`^\s+(-\w, )?--[a-z-]+`)
	for _, path := range paths {
		st, out, errb := Test("")
		if code := Run(context.Background(), append(path, "--help"), st); code != ExitOK {
			t.Fatalf("spot %v --help: exit %d: %s", path, code, errb)
		}
		_, flags, ok := strings.Cut(out.String(), "Flags:\n")
		if !ok {
			continue
		}
		var entries []string // each flag's help, its lines joined
		for _, l := range strings.Split(flags, "\n") {
			if len(l) > 80 {
				t.Errorf("spot %v --help: a line of %d columns: %q", path, len(l), l)
			}
			switch {
			case flagLine.MatchString(l):
				entries = append(entries, l)
			case strings.HasPrefix(l, "   ") && len(entries) > 0:
				entries[len(entries)-1] += " " + strings.TrimSpace(l)
			}
		}
		for _, e := range entries {
			if strings.Contains(e, "default:") && strings.Contains(e, "(default ") && !strings.Contains(e, "--reputation") {
				t.Errorf("spot %v --help: two defaults: %q", path, e)
			}
			if strings.Contains(e, "--max-score") && strings.Contains(e, "(default") {
				t.Errorf("spot %v --help: a default where none applies: %q", path, e)
			}
		}
	}
}

// TestCompletion: completion offers the values of the flags that take one
// of a few words, and the topics, kinds and shapes of "spot help schema".
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"score", "--method", ""}, []string{"spot", "population"}},
		{[]string{"decode", "flow", "--from", ""}, []string{"auto", "exports", "packets"}},
		{[]string{"decode", "flow", "-i", ""}, []string{"nfcapd", "zeek", "suricata", "nfdump-csv"}},
		{[]string{"decode", "proxy", "-i", ""}, []string{"squid", "w3c", "bluecoat"}},
		{[]string{"featurize", "--domain-parser", ""}, []string{"spot", "psl"}},
		{[]string{"filter", "-f", ""}, []string{"ndjson", "parquet", "csv"}},
		{[]string{"decode", "dns", "--partition", ""}, []string{"hour", "day"}},
		{[]string{"--log-level", ""}, []string{"debug", "warn"}},
		{[]string{"help", ""}, []string{"schema", "formats", "score"}},
		{[]string{"help", "schema", ""}, []string{"flow", "dns", "proxy", "finding"}},
		{[]string{"help", "schema", "dns", ""}, []string{"events", "scored", "enriched", "zeek", "suricata"}},
	} {
		st, out, errb := Test("")
		if code := Run(context.Background(), append([]string{cobra.ShellCompRequestCmd}, tc.args...), st); code != ExitOK {
			t.Fatalf("complete %q: exit %d: %s", tc.args, code, errb)
		}
		got := strings.Split(out.String(), "\n")
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("complete %q: %q, want %q among them", tc.args, got, w)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestReadmeNamesBashCompletion: the bash completion script calls
// bash-completion's functions, so the README says to install that package.
func TestReadmeNamesBashCompletion(t *testing.T) {
	script, err := os.ReadFile("../../completions/spot.bash")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(script), "_get_comp_words_by_ref") && !strings.Contains(string(readme), "bash-completion package") {
		t.Error("completions/spot.bash needs the bash-completion package, and README.md does not name it")
	}
}
