// Package testenv finds what spot's tests need outside the repository: the
// shared corpus (SPOT_CORPUS, default ../shared/corpus beside the module
// root) and peer tools such as tshark. When either is missing a test skips,
// except under CI=true, where it fails: CI must run every oracle test.
package testenv

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test because something outside it is missing
// (a peer, the corpus, a facility of the machine), failing it in CI.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg + " (CI must have it: see .ci/run)")
	}
	t.Skip(msg)
}

// ModuleRoot is the directory holding go.mod, found upwards from the
// working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Corpus returns the corpus directory sub (e.g. "dns"), skipping the test
// when the corpus is absent (failing it in CI).
func Corpus(t testing.TB, sub string) string {
	t.Helper()
	root := os.Getenv("SPOT_CORPUS")
	if root == "" {
		root = filepath.Join(ModuleRoot(t), "..", "shared", "corpus")
	}
	dir := filepath.Join(root, sub)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		Unavailable(t, "corpus "+dir+" not found (set SPOT_CORPUS)")
	}
	return dir
}

// Tool returns the path of a peer tool, skipping the test when it is not
// installed (failing it in CI).
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name+" not installed")
	}
	return path
}

// Testdata returns the absolute path of testdata/sub in the module.
func Testdata(t testing.TB, sub string) string {
	t.Helper()
	return filepath.Join(ModuleRoot(t), "testdata", sub)
}

// ReadFile returns the contents of the file at path, gunzipped when its
// name ends in .gz.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err == nil && strings.HasSuffix(path, ".gz") {
		var z *gzip.Reader
		if z, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
			data, err = io.ReadAll(z)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// DuckDB runs SQL statements with DuckDB (the npm package @duckdb/node-api,
// installed by .ci/run into scripts/duckdb) and returns the last one's rows,
// skipping the test when it is not installed (failing it in CI).
func DuckDB(t testing.TB, stmts ...string) []map[string]any {
	t.Helper()
	dir := filepath.Join(ModuleRoot(t), "scripts", "duckdb")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		if InCI() {
			t.Fatalf("DuckDB is not installed (npm ci --prefix scripts/duckdb): %v", err)
		}
		t.Skip("DuckDB is not installed: run npm ci --prefix scripts/duckdb")
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "sql.mjs")}, stmts...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	return rows
}
