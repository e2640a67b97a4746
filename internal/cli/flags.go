package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/partition"
	"github.com/spot-hunt/spot/internal/record"
)

// byteSize is a flag's size in bytes: a number, or one with a unit (KiB,
// MiB, GiB; K, M, G and KB, MB, GB mean the same).
type byteSize int

func (b *byteSize) String() string { return ioformat.SizeString(int(*b)) }

func (b *byteSize) Set(s string) error {
	num := strings.TrimRightFunc(s, unicode.IsLetter)
	unit := 1
	switch strings.ToUpper(strings.TrimSpace(s[len(num):])) {
	case "", "B":
	case "K", "KB", "KIB":
		unit = 1 << 10
	case "M", "MB", "MIB":
		unit = 1 << 20
	case "G", "GB", "GIB":
		unit = 1 << 30
	default:
		return fmt.Errorf("%q: unknown unit (want KiB, MiB or GiB)", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 || n > math.MaxInt32/unit {
		return fmt.Errorf("%q: want a size from 1 byte to under 2GiB", s)
	}
	*b = byteSize(n * unit)
	return nil
}

func (b *byteSize) Type() string { return "size" }

// OutputFlags are -o, -f and --force, spelled the same by every stage.
type OutputFlags struct {
	Path   string
	Format string
	Force  bool
}

// AddFlags registers the flags; formats lists the -f values the command takes.
func (o *OutputFlags) AddFlags(fs *pflag.FlagSet, formats string) {
	fs.StringVarP(&o.Path, "output", "o", "-", "write to `PATH` (- is stdout); the format follows its extension (.parquet, .ndjson, .jsonl, .csv); .gz or .zst after it compresses")
	fs.StringVarP(&o.Format, "format", "f", "", "output `FORMAT`: "+formats+" (default: from -o's extension, else ndjson)")
	fs.BoolVar(&o.Force, "force", false, "write Parquet even when stdout is a terminal")
}

// Dest resolves the flags into an ioformat.Dest.
func (o *OutputFlags) Dest(io *IO) (ioformat.Dest, error) {
	d := ioformat.Dest{Path: o.Path, Stdout: io.Out, StdoutTTY: io.StdoutTTY, Force: o.Force}
	if o.Path == "" {
		return d, usagef("-o: an empty path (use - for stdout)")
	}
	if o.Format != "" {
		f, err := ioformat.ParseFormat(o.Format)
		if err != nil {
			return d, usagef("-f: %v", err)
		}
		d.Format = f
	}
	return d, nil
}

// inputArgs returns the input files named on the command line, none
// meaning stdin ("-"). An empty name (an unset shell variable, say) is
// refused rather than read as stdin, and so is stdin named twice.
func inputArgs(args []string) ([]string, error) {
	if len(args) == 0 {
		return []string{"-"}, nil
	}
	stdin := false
	for i, a := range args {
		switch a {
		case "":
			return nil, usagef("input %d of %d is an empty file name (use - for stdin)", i+1, len(args))
		case "-":
			if stdin {
				return nil, usagef("stdin (-) named more than once")
			}
			stdin = true
		}
	}
	return args, nil
}

// openInputs opens every named record stream ("-" or none: stdin; a folder
// or a pattern: the record files of a tree of partitions) and checks that
// they hold the same kind and stream shape. Empty inputs are dropped; the
// returned meta is empty when every input was empty.
func openInputs(args []string, stdin io.Reader) ([]*ioformat.Input, record.Meta, error) {
	var ins []*ioformat.Input
	var meta record.Meta
	names, err := inputArgs(args)
	if err == nil {
		names, err = partition.Files(names)
	}
	if err != nil {
		return nil, meta, err
	}
	closeAll := func() {
		for _, in := range ins {
			in.Close()
		}
	}
	for _, name := range names {
		in, err := ioformat.Open(name, stdin)
		if err != nil {
			closeAll()
			return nil, meta, err
		}
		if in.Meta == (record.Meta{}) {
			in.Close()
			continue
		}
		if meta != (record.Meta{}) && in.Meta != meta {
			in.Close()
			closeAll()
			return nil, meta, fmt.Errorf("%s holds %s records, but %s holds %s: inputs must be of one kind",
				ioformat.DisplayName(name), in.Meta, ioformat.DisplayName(ins[0].Name), meta)
		}
		meta = in.Meta
		ins = append(ins, in)
	}
	return ins, meta, nil
}

// newConcat reads the inputs one after the other (see ioformat.Concat).
func newConcat[T any](ctx context.Context, ins []*ioformat.Input) (*ioformat.Concat[T], error) {
	return ioformat.NewConcat[T](ctx, ins)
}
