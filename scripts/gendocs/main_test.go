package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManPages (#20 item 8): each page is named after its command, and
// indented blocks (examples, the exit status table) stay verbatim blocks
// under their own section.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "man", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	score := read("spot-score.1")
	if !strings.Contains(score, `.TH "SPOT-SCORE" "1"`) {
		t.Errorf("spot-score.1 is not titled SPOT-SCORE(1): %.80q", score)
	}
	filter := read("spot-filter.1")
	for _, want := range []string{
		".EX\n  dport == 53 && proto == \"UDP\" && ibyt > 1e6\n", // an example kept as one
		".SH EXIT STATUS\n.EX\n  0    success\n",                 // the table as a table, in its section
	} {
		if !strings.Contains(filter, want) {
			t.Errorf("spot-filter.1 lacks %q", want)
		}
	}
}
