package cli

import (
	"fmt"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// parquetFiles returns the inputs' Parquet files when every input is Parquet.
func parquetFiles(ins []*ioformat.Input) ([]*parquet.File, bool) {
	var fs []*parquet.File
	for _, in := range ins {
		pf := in.ParquetFile()
		if pf == nil {
			return nil, false
		}
		fs = append(fs, pf)
	}
	return fs, true
}

// sourceFiles are the files the inputs are read from (Runner.Files).
func sourceFiles(ins []*ioformat.Input) []*os.File {
	fs := make([]*os.File, len(ins))
	for i, in := range ins {
		fs[i] = in.SourceFile()
	}
	return fs
}

// inputNames are the inputs' names as errors show them.
func inputNames(ins []*ioformat.Input) []string {
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = ioformat.DisplayName(in.Name)
	}
	return names
}

// inputList names the inputs in a message: the first, and how many more.
func inputList(ins []*ioformat.Input) string {
	s := ioformat.DisplayName(ins[0].Name)
	if len(ins) > 1 {
		s += fmt.Sprintf(" and %d more", len(ins)-1)
	}
	return s
}

// isStdin reports whether an input is standard input.
func isStdin(in *ioformat.Input) bool { return in.Name == "" || in.Name == "-" }

// runColumnar runs the columnar flow path from Parquet inputs to a Parquet
// output of type T; it reports false (and does nothing) when the inputs or
// output do not allow it.
func runColumnar[T any](g *globals, ins []*ioformat.Input, d ioformat.Dest, out record.Meta) (bool, error) {
	if d.ResolvedFormat() != ioformat.Parquet {
		return false, nil
	}
	files, ok := parquetFiles(ins)
	if !ok {
		return false, nil
	}
	full := parquet.SchemaOf(new(T))
	plan, ok := columnar.Flows(files, full)
	if !ok {
		return false, nil
	}
	defer closeInputs(ins)
	w, err := ioformat.CreateRaw(d)
	if err != nil {
		return true, err
	}
	r := &columnar.Runner{Names: inputNames(ins), Options: ioformat.ParquetOptions(out), Files: sourceFiles(ins)}
	if prog := g.inputProgress("featurize", ins, d); prog != nil {
		defer prog.Done()
		r.Progress = prog.Add
	}
	st, err := r.Run(g.ctx, files, plan, full, columnar.ExtraSchema(full), w)
	if err != nil {
		w.Abort()
		return true, err
	}
	if err := w.Close(); err != nil {
		return true, err
	}
	logRejects(out.Kind, st, feature.HintRejectsFlag) // featurize's --rejects
	return true, nil
}

// logRejects reports the rows a columnar run left out.
func logRejects(kind record.Kind, st columnar.Stats, hint string) {
	feature.LogRejects(kind, st.Rejected, st.Reasons, hint)
}
