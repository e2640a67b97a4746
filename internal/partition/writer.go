package partition

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Writer writes one input's records into the partitions under a root, one
// file per partition, named after the input. It is an ioformat.Writer:
// Close renames every partition's file into place and records the list in
// ROOT/_inputs/NAME.files; Abort leaves nothing behind.
type Writer[T any] struct {
	root   string
	by     By
	name   string // file name in each partition, with its extension
	format ioformat.Format
	meta   record.Meta
	time   func(*T) int64
	open   map[int64]ioformat.Writer[T]
	last   int64 // key of cur
	cur    ioformat.Writer[T]
	done   bool
}

// NewWriter returns a writer of input's records into root partitioned by,
// in format (Parquet or NDJSON); timeOf gives a record's time in seconds
// since the Unix epoch.
func NewWriter[T any](root string, by By, input string, format ioformat.Format, meta record.Meta, timeOf func(*T) int64) (*Writer[T], error) {
	if by == None {
		return nil, errors.New("partition: no partitioning")
	}
	if format != ioformat.Parquet && format != ioformat.NDJSON {
		return nil, fmt.Errorf("partitions are written as Parquet or NDJSON, not %s", format)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &Writer[T]{root: root, by: by, name: Name(input) + "." + string(format), format: format, meta: meta,
		time: timeOf, open: map[int64]ioformat.Writer[T]{}}, nil
}

// Write sends each run of records of one partition to that partition's file.
func (w *Writer[T]) Write(recs []T) error {
	for len(recs) > 0 {
		k := w.by.Key(w.time(&recs[0]))
		n := 1
		for n < len(recs) && w.by.Key(w.time(&recs[n])) == k {
			n++
		}
		if w.cur == nil || k != w.last {
			if err := w.use(k); err != nil {
				return err
			}
		}
		if err := w.cur.Write(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// use makes the file of partition k the current one, creating it if new.
func (w *Writer[T]) use(k int64) error {
	pw, ok := w.open[k]
	if !ok {
		path := filepath.Join(w.root, w.file(k))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var err error
		pw, err = ioformat.Create[T](ioformat.Dest{Path: path, Format: w.format}, w.meta)
		if err != nil {
			return err
		}
		w.open[k] = pw
	}
	w.cur, w.last = pw, k
	return nil
}

// Files are the files, relative to the root, that Close writes (or wrote),
// in partition order.
func (w *Writer[T]) Files() []string {
	keys := w.keys()
	files := make([]string, len(keys))
	for i, k := range keys {
		files[i] = w.file(k)
	}
	return files
}

func (w *Writer[T]) keys() []int64 {
	keys := make([]int64, 0, len(w.open))
	for k := range w.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// file is the file of partition k, relative to the root.
func (w *Writer[T]) file(k int64) string { return filepath.Join(w.by.Path(k), w.name) }

// Close writes every partition's file out and renames it into place, then
// removes the files of this input that an earlier run wrote into other
// partitions. If a file cannot be written, the files already renamed are
// removed again: an input's partitions are written whole or not at all.
func (w *Writer[T]) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	var files []string
	var err error
	for _, k := range w.keys() {
		if err != nil {
			w.open[k].Abort()
			continue
		}
		if err = w.open[k].Close(); err == nil {
			files = append(files, w.file(k))
		}
	}
	if err != nil {
		for _, f := range files {
			os.Remove(filepath.Join(w.root, f))
		}
		return err
	}
	return w.replaceManifest(files)
}

// Abort discards every partition's file.
func (w *Writer[T]) Abort() {
	if w.done {
		return
	}
	w.done = true
	for _, pw := range w.open {
		pw.Abort()
	}
}

// manifestDir holds, per input, the list of files its last run wrote.
const manifestDir = "_inputs"

// replaceManifest removes the files the input's last run listed and this
// run did not write, then lists this run's.
func (w *Writer[T]) replaceManifest(files []string) error {
	dir := filepath.Join(w.root, manifestDir)
	path := filepath.Join(dir, w.name+".files")
	for _, old := range readList(path) {
		if !slices.Contains(files, old) && filepath.Base(old) == w.name && filepath.IsLocal(old) {
			if err := os.Remove(filepath.Join(w.root, old)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	var b strings.Builder
	for _, f := range files {
		b.WriteString(filepath.ToSlash(f))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readList(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var list []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			list = append(list, filepath.FromSlash(l))
		}
	}
	return list
}
