// Command gendocs writes spot's man pages (man/spot*.1) and shell completions
// (completions/spot.{bash,zsh,fish}) from the cobra command tree. The output
// is deterministic, so "make check-docs" can tell when it is stale.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/spot-hunt/spot/internal/cli"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// run writes man/ and completions/ under dir.
func run(dir string) error {
	root := cli.Command()
	manDir := filepath.Join(dir, "man")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(manDir, "spot*.1"))
	for _, f := range old {
		os.Remove(f)
	}
	manText(root)
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // fixed, so the pages do not change by themselves
	// No Title: each page is named after its command (SPOT-SCORE(1)).
	header := &doc.GenManHeader{Section: "1", Date: &date, Source: "spot", Manual: "spot manual"}
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return err
	}
	compDir := filepath.Join(dir, "completions")
	if err := os.MkdirAll(compDir, 0o755); err != nil {
		return err
	}
	for name, gen := range map[string]func(*bytes.Buffer) error{
		"spot.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"spot.zsh":  func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"spot.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(compDir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manText rewrites the long help of c's tree as the markdown the man pages
// are made from: a block of indented lines (a table, a list of options, an
// example) stays as it is written instead of being filled into a
// paragraph, and a line in capitals ("EXIT STATUS") is a section.
func manText(c *cobra.Command) {
	c.Long = manMarkdown(c.Long)
	for _, sub := range c.Commands() {
		manText(sub)
	}
}

func manMarkdown(long string) string {
	lines := strings.Split(long, "\n")
	indented := func(l string) bool { return strings.HasPrefix(l, "  ") }
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case indented(l):
			out = append(out, "```")
			for ; i < len(lines); i++ {
				if !indented(lines[i]) && !(strings.TrimSpace(lines[i]) == "" && i+1 < len(lines) && indented(lines[i+1])) {
					break
				}
				out = append(out, lines[i])
			}
			out = append(out, "```")
			i--
		case l != "" && l == strings.ToUpper(l) && strings.Trim(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") == "":
			out = append(out, "# "+l)
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
