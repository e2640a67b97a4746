// Command gendocs writes spot's man pages (man/spot*.1) and shell completions
// (completions/spot.{bash,zsh,fish}) from the cobra command tree. The output
// is deterministic, so "make check-docs" can tell when it is stale.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/spot-hunt/spot/internal/cli"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run() error {
	root := cli.Command()
	if err := os.MkdirAll("man", 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob("man/spot*.1")
	for _, f := range old {
		os.Remove(f)
	}
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // fixed, so the pages do not change by themselves
	header := &doc.GenManHeader{Title: "SPOT", Section: "1", Date: &date, Source: "spot", Manual: "spot manual"}
	if err := doc.GenManTree(root, header, "man"); err != nil {
		return err
	}
	if err := os.MkdirAll("completions", 0o755); err != nil {
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
		if err := os.WriteFile(filepath.Join("completions", name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
