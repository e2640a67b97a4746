package ioformat

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// pairMain and pairSide read a flow file's columns into a type that is not
// a record's: other field names and order, a float widened, a column the
// file lacks; nullable strings (the lentFlow file) in both.
type pairMain struct {
	Dst     string  `parquet:"dip"`
	Bytes   int64   `parquet:"ibyt"`
	Dur     float64 `parquet:"tdur"`
	Missing int32   `parquet:"no_such_column"`
	Src     string  `parquet:"sip"`
}

type pairSide struct {
	Unix  int64  `parquet:"unix_tstamp"`
	Proto string `parquet:"proto"`
	Flag  string `parquet:"flag"`
}

// A PairReader reads into both batches what NewReader reads into records,
// row for row, across pages and row groups, in batches cut short by the
// shorter of the two, its strings given or lent (the batches before, lent
// through 2 Reads, stay whole).
func TestPairReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	flows := random[record.Flow](rng, 2500)
	in := writeFlat(t, filepath.Join(dir, "f.parquet"), flows)
	in.Close()
	lent := lentFlows(rng, 2500)
	lp := filepath.Join(dir, "lent.parquet")
	writeT(t, lp, record.Flow{}.Meta(), lent)
	for _, path := range []string{filepath.Join(dir, "f.parquet"), lp} {
		want := read[record.Flow](t, path, record.Flow{}.Meta())
		for _, lend := range []bool{false, true} {
			in, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewPairReader[pairMain, pairSide](in)
			if err != nil {
				t.Fatal(err)
			}
			if lend {
				r.LendStrings(2)
			}
			var kept [][]pairMain
			row := 0
			for {
				buf, side := make([]pairMain, 37+rng.IntN(60)), make([]pairSide, 37+rng.IntN(60))
				for i := range buf {
					buf[i] = pairMain{Dst: "stale", Missing: 7}
				}
				for i := range side {
					side[i] = pairSide{Proto: "stale", Unix: 7}
				}
				n, err := r.Read(buf, side)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 || n > min(len(buf), len(side)) {
					t.Fatalf("read %d rows into batches of %d and %d", n, len(buf), len(side))
				}
				for i := range n {
					w := &want[row+i]
					m := pairMain{Dst: w.DIP, Bytes: w.IByt, Dur: float64(w.TDur), Src: w.SIP}
					s := pairSide{Unix: w.UnixTstamp, Proto: w.Proto, Flag: w.Flag}
					if buf[i] != m && !(m.Dur != m.Dur && buf[i].Dur != buf[i].Dur) || side[i] != s {
						t.Fatalf("%s, lend %v: row %d read %+v %+v, want %+v %+v", filepath.Base(path), lend, row+i, buf[i], side[i], m, s)
					}
				}
				at := row
				for k := len(kept) - 1; k >= 0; k-- {
					at -= len(kept[k])
					for i, got := range kept[k] {
						if got.Src != want[at+i].SIP || got.Dst != want[at+i].DIP {
							t.Fatalf("lend %v: row %d's strings changed %d Reads on", lend, at+i, len(kept)-k)
						}
					}
				}
				if lend {
					kept = append(kept, buf[:n])
					if len(kept) > 2 {
						kept = kept[1:]
					}
				}
				row += n
			}
			if row != len(want) {
				t.Errorf("read %d rows of %d", row, len(want))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A PairReader reads Parquet only, and fields it cannot fill are errors,
// never a panic: a column named twice, a list, a type that does not convert.
func TestPairReaderRefuses(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	dp, np := filepath.Join(dir, "d.parquet"), filepath.Join(dir, "d.ndjson")
	dns := random[record.DNS](rng, 50)
	writeT(t, dp, record.DNS{}.Meta(), dns)
	writeT(t, np, record.DNS{}.Meta(), dns)
	type twice struct {
		A string `parquet:"ip_src"`
	}
	type list struct {
		Answers string `parquet:"answers"`
	}
	type notString struct {
		Name int64 `parquet:"dns_qry_name"`
	}
	for _, c := range []struct {
		name, path, want string
		open             func(*Input) error
	}{
		{"NDJSON", np, "reads Parquet", func(in *Input) error { _, err := NewPairReader[twice, list](in); return err }},
		{"twice", dp, "named twice", func(in *Input) error { _, err := NewPairReader[twice, twice](in); return err }},
		{"list", dp, "list", func(in *Input) error { _, err := NewPairReader[twice, list](in); return err }},
		{"type", dp, "do not convert", func(in *Input) error { _, err := NewPairReader[notString, twice](in); return err }},
	} {
		in, err := Open(c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = c.open(in)
		in.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
