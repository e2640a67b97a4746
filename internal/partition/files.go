package partition

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// Files expands the names a stage was given into the record files they
// stand for, so that a folder or a glob of partitions reads as one stream:
//
//   - a folder stands for every record file under it (.parquet, .ndjson,
//     .jsonl, .json, possibly .gz or .zst), in lexical order: partitions in
//     time order;
//   - a name that does not exist and holds * ? or [ is a pattern (as
//     filepath.Match, and ** for any number of folders), standing for the
//     files it matches in lexical order; matching none is an error;
//   - any other name ("-" for standard input, a file) stands for itself.
//
// Names starting with "." or "_" under a folder or a ** are skipped: they
// are temporary files, manifests and markers (_SUCCESS), as Hive and Spark
// skip them.
func Files(names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if name == "" || name == "-" {
			out = append(out, name)
			continue
		}
		st, err := os.Stat(name)
		switch {
		case err == nil && st.IsDir():
			files, err := walk(name)
			if err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("%s: a folder with no record files (.parquet, .ndjson, .jsonl) in it", name)
			}
			out = append(out, files...)
		case err != nil && strings.ContainsAny(name, "*?["):
			files, err := Glob(name)
			if err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("%s: no file matches", name)
			}
			out = append(out, files...)
		default:
			out = append(out, name) // opening it reports what is wrong
		}
	}
	return out, nil
}

// hidden reports whether a file or folder name is not a record file of a
// tree: a temporary file, a manifest, a marker.
func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// isRecordFile reports whether a name's extension is a record stream's.
func isRecordFile(name string) bool {
	f := ioformat.FormatFromPath(name)
	return f == ioformat.Parquet || f == ioformat.NDJSON
}

// walk lists the record files under root, in lexical order.
func walk(root string) ([]string, error) { return walkFiles(root, isRecordFile) }

// walkAll lists every file under root but hidden ones.
func walkAll(root string) ([]string, error) {
	return walkFiles(root, func(string) bool { return true })
}

func walkFiles(root string, want func(name string) bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		if hidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && want(d.Name()) && isFile(path, d) {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// isFile reports whether a walked entry is a file (or a link to one).
func isFile(path string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// Glob returns the files matching pattern in lexical order, where ** (a
// whole path element) matches any number of folders and the other
// elements are filepath.Match patterns. Names starting with "." or "_" are
// matched only by an element that starts with that character.
func Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("%s: %w", pattern, err)
	}
	clean := filepath.Clean(pattern)
	elems := strings.Split(filepath.ToSlash(clean), "/")
	// The fixed folders before the first pattern element.
	root, i := "", 0
	if strings.HasPrefix(clean, string(filepath.Separator)) {
		root, i = string(filepath.Separator), 1
	}
	for ; i < len(elems)-1 && !strings.ContainsAny(elems[i], "*?["); i++ {
		root = filepath.Join(root, elems[i])
	}
	if root == "" {
		root = "."
	}
	var out []string
	if err := match(root, elems[i:], &out); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// match appends to out the files under dir matching the pattern elements.
func match(dir string, elems []string, out *[]string) error {
	if len(elems) == 0 {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) || os.IsPermission(err) {
			return nil
		}
		return err
	}
	el, last := elems[0], len(elems) == 1
	if el == "**" && last { // every file below
		files, err := walkAll(dir)
		*out = append(*out, files...)
		return err
	}
	if el == "**" {
		if err := match(dir, elems[1:], out); err != nil { // zero folders
			return err
		}
		for _, e := range entries {
			if e.IsDir() && !hidden(e.Name()) {
				if err := match(filepath.Join(dir, e.Name()), elems, out); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if hidden(name) && !strings.HasPrefix(el, name[:1]) {
			continue
		}
		if ok, _ := filepath.Match(el, name); !ok {
			continue
		}
		path := filepath.Join(dir, name)
		switch {
		case last && isFile(path, e):
			*out = append(*out, path)
		case !last && (e.IsDir() || isDirLink(path, e)):
			if err := match(path, elems[1:], out); err != nil {
				return err
			}
		}
	}
	return nil
}

func isDirLink(path string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
