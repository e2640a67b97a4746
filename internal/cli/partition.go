package cli

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/partition"
	"github.com/spot-hunt/spot/internal/record"
)

// decodeOutput is where a decoder writes: -o, or with --partition hour|day
// the partitions under -o DIR, one file per input and partition.
type decodeOutput[T any] struct {
	OutputFlags
	by   string
	dest ioformat.Dest
	part partition.By
	meta record.Meta
	time func(*T) int64 // a record's time, seconds since the Unix epoch
	prog *progress      // records written so far (nil: not shown)
}

// showProgress shows in a progress line named desc how much of the files
// has been read and how many records were written (when progress is shown,
// and records do not go to the same terminal); files is nil when their
// size is not known (a live capture).
func (o *decodeOutput[T]) showProgress(g *globals, desc string, files []string) {
	if o.dest.Path != "-" || !g.io.StdoutTTY {
		o.prog = g.newFileProgress(desc, files)
	}
}

func (o *decodeOutput[T]) addFlags(f *pflag.FlagSet) {
	o.AddFlags(f, "ndjson|parquet|csv")
	f.StringVar(&o.by, "partition", "", "write Hive-style partitions under -o `DIR` by UTC hour|day (y=/m=/d=/h=), one Parquet file per input and partition, named after the input: a rerun replaces them")
}

// resolve checks the flags; meta and timeOf describe the records.
func (o *decodeOutput[T]) resolve(io *IO, meta record.Meta, timeOf func(*T) int64) error {
	o.meta, o.time = meta, timeOf
	by, err := partition.Parse(o.by)
	if err != nil {
		return usagef("--partition: %v", err)
	}
	o.part = by
	if o.dest, err = o.Dest(io); err != nil {
		return err
	}
	if by == partition.None {
		return nil
	}
	if o.Path == "" || o.Path == "-" {
		return usagef("--partition needs -o DIR, the root of the partitions")
	}
	if o.dest.Format == "" {
		o.dest.Format = ioformat.Parquet // -o names a folder, not a file with an extension
	}
	if o.dest.Format == ioformat.CSV {
		return usagef("--partition writes Parquet or NDJSON (-f %s)", o.dest.Format)
	}
	return nil
}

// each decodes the inputs with decode, which writes to w and closes or
// aborts it: all into -o, or with --partition each input on its own into
// its partitions, so that an input's files depend on it alone, as when a
// job array decodes it (NetFlow templates do not carry over from one input
// to the next). Inputs that skipped malformed records do not stop the
// others; their counts add up.
func (o *decodeOutput[T]) each(names []string, decode func(names []string, w ioformat.Writer[T]) error) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	defer o.prog.Done()
	if o.part == partition.None {
		w, err := ioformat.Create[T](o.dest, o.meta)
		if err != nil {
			return err
		}
		return decode(names, counted(w, o.prog))
	}
	seen := map[string]string{}
	for _, n := range names {
		if prev, ok := seen[partition.Name(n)]; ok {
			return usagef("%s and %s would write the same partition files (%s.%s): inputs of a partitioned run need distinct base names",
				ioformat.DisplayName(prev), ioformat.DisplayName(n), partition.Name(n), o.dest.Format)
		}
		seen[partition.Name(n)] = n
	}
	var skipped *SkippedError
	for _, n := range names {
		w, err := partition.NewWriter[T](o.dest.Path, o.part, n, o.dest.Format, o.meta, o.time)
		if err != nil {
			return err
		}
		err = decode([]string{n}, counted(ioformat.Writer[T](w), o.prog))
		var s *SkippedError
		switch {
		case errors.As(err, &s):
			if skipped == nil {
				skipped = &SkippedError{Unit: s.Unit}
			}
			skipped.Count += s.Count
			skipped.Inputs += s.Inputs
		case err != nil:
			return err
		}
	}
	if skipped != nil {
		return skipped
	}
	return nil
}
