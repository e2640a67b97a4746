package filter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// predRec has a column of every kind a Pred reads.
type predRec struct {
	A int32    `parquet:"a"`
	B int64    `parquet:"b"`
	X float32  `parquet:"x"`
	Y float64  `parquet:"y"`
	S string   `parquet:"s"`
	T string   `parquet:"t"`
	F bool     `parquet:"f"`
	L []string `parquet:"l,list"`
}

var predStrs = []string{"", "a", "ab", "b", "10.1.2.3", "10.200.0.1", "192.168.1.7", "::ffff:10.0.0.9", "2001:db8::1", "x.example.com", "not an address"}

func predRecs(r *rand.Rand, n int) []predRec {
	out := make([]predRec, n)
	for i := range out {
		out[i] = predRec{A: int32(r.IntN(7) - 3), B: int64(r.IntN(7) - 3), S: predStrs[r.IntN(len(predStrs))],
			T: predStrs[r.IntN(len(predStrs))], F: r.IntN(2) == 0,
			X: []float32{-1.5, 0, 0.5, 2, 3, float32(math.NaN())}[r.IntN(6)],
			Y: []float64{-3, -0.25, 0, 1, 2.5, math.NaN(), math.Inf(1)}[r.IntN(7)]}
		if r.IntN(10) == 0 {
			out[i].B = 1 << 60
		}
	}
	return out
}

// predGen writes random expressions a Pred can evaluate.
type predGen struct{ r *rand.Rand }

func (g predGen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g predGen) num() string {
	if g.r.IntN(2) == 0 {
		return fmt.Sprint(g.r.IntN(9) - 4)
	}
	return g.pick("-1.5", "0.5", "2.0", "2.5", "1e18", "-0.0")
}

func (g predGen) leaf() string {
	op := g.pick("==", "!=", "<", "<=", ">", ">=")
	switch g.r.IntN(12) {
	case 0, 1:
		return g.pick("a", "b", "x", "y") + " " + op + " " + g.num()
	case 2:
		return g.num() + " " + op + " " + g.pick("a", "b", "x", "y")
	case 3:
		return g.pick("a", "b", "x", "y") + " " + op + " " + g.pick("a", "b", "x", "y")
	case 4:
		return g.pick("s", "t") + " " + op + " " + fmt.Sprintf("%q", predStrs[g.r.IntN(len(predStrs))])
	case 5:
		return "s " + op + " t"
	case 6:
		return g.pick("a", "b") + g.pick(" in ", " not in ") + g.pick("[0, 2]", "[-3]", "[1, 2, 3]")
	case 7:
		return g.pick("s", "t") + g.pick(" in ", " not in ") + g.pick(`["a", "ab"]`, `["10.1.2.3"]`)
	case 8:
		return g.pick("s", "t") + " " + g.pick("contains", "startsWith", "endsWith", "not contains", "not endsWith") + " " + g.pick(`"a"`, `"10."`, `".7"`, `""`, `"example"`)
	case 9:
		return g.pick("s", "t") + ` matches "` + g.pick(`^10\\.`, `a+b?$`, `[0-9]{3}`) + `"`
	case 10:
		return g.pick("", "not ", "!") + "inCIDR(" + g.pick("s", "t") + `, "` + g.pick("10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "10.1.2.3/32") + `")`
	}
	return g.pick("f", "!f", "f == true", "f != true", "false == f", "true", "f == f", "f != f")
}

func (g predGen) expr(depth int) string {
	if depth == 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.r.IntN(5) {
	case 0:
		return g.pick("not ", "!") + "(" + g.expr(depth-1) + ")"
	case 1, 2:
		return "(" + g.expr(depth-1) + ") " + g.pick("&&", "and") + " (" + g.expr(depth-1) + ")"
	}
	return "(" + g.expr(depth-1) + ") " + g.pick("||", "or") + " (" + g.expr(depth-1) + ")"
}

// vectors are the columns of recs as a Pred reads them.
func vectors(p *Pred, recs []predRec) []Vector {
	v := make([]Vector, len(p.Columns()))
	for i, c := range p.Columns() {
		for j := range recs {
			f := reflect.ValueOf(recs[j]).FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, c.Name) })
			switch c.Kind {
			case reflect.Int32, reflect.Int64:
				v[i].Ints = append(v[i].Ints, f.Int())
			case reflect.Float32, reflect.Float64:
				v[i].Floats = append(v[i].Floats, f.Float())
			case reflect.String:
				v[i].Strs = append(v[i].Strs, f.String())
			case reflect.Bool:
				v[i].Bools = append(v[i].Bools, f.Bool())
			}
		}
	}
	return v
}

// A Pred keeps exactly the records the VM keeps, on random expressions and
// records; one evaluator serves row groups of different sizes.
func TestPredMatchesVM(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	g := predGen{r}
	typ := reflect.TypeFor[predRec]()
	for trial := range 2000 {
		src := g.expr(3)
		e, err := Compile(src, typ)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		p, ok := e.Pred()
		if !ok {
			t.Fatalf("%s: no Pred", src)
		}
		vm, ev := e.NewEvaluator(), p.NewEval()
		for _, n := range []int{1 + trial%50, 200, 3} {
			recs := predRecs(r, n)
			got := ev.Eval(vectors(p, recs), n)
			if len(got) != n {
				t.Fatalf("%s: %d results for %d rows", src, len(got), n)
			}
			for i := range recs {
				want, err := vm.Match(unsafe.Pointer(&recs[i]))
				if err != nil {
					t.Fatalf("%s: %v", src, err)
				}
				if got[i] != want {
					t.Fatalf("%s on %+v: Pred %v, VM %v", src, recs[i], got[i], want)
				}
			}
		}
	}
}

// What a Pred cannot evaluate goes to the VM.
func TestPredDeclines(t *testing.T) {
	typ := reflect.TypeFor[predRec]()
	for _, src := range []string{
		"a + b > 2", "len(s) > 3", `lower(s) == "a"`, `"a" in l`, `domain(s) == "example.com"`,
		`inCIDR(s, "not a block")`, `inCIDR("10.0.0.1", s)`, "a % 2 == 0", `s == 1`, "dport == nil",
	} {
		e, err := Compile(strings.Replace(src, "dport", "a", 1), typ)
		if err != nil {
			continue // not even an expression over these columns
		}
		if _, ok := e.Pred(); ok {
			t.Errorf("%s: compiled to a Pred", src)
		}
	}
}

// MayMatch is false only for row groups where no row matches, and is false
// for some.
func TestPredBoundsNeverDropAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	g := predGen{r}
	typ := reflect.TypeFor[predRec]()
	pruned := 0
	for range 3000 {
		src := g.expr(2)
		e, _ := Compile(src, typ)
		p, ok := e.Pred()
		if !ok {
			t.Fatalf("%s: no Pred", src)
		}
		recs := predRecs(r, 1+r.IntN(6))
		lo, hi := int64(r.IntN(5)-2), int64(0) // a narrow range of the integer columns
		hi = lo + int64(r.IntN(3))
		for i := range recs {
			recs[i].A, recs[i].B = int32(lo+int64(r.IntN(int(hi-lo+1)))), lo+int64(r.IntN(int(hi-lo+1)))
		}
		v := vectors(p, recs)
		b := make([]Bounds, len(p.Columns()))
		for i, c := range p.Columns() {
			if c.Kind == reflect.Int32 || c.Kind == reflect.Int64 {
				b[i] = Bounds{Lo: lo, Hi: hi, OK: r.IntN(8) != 0}
			}
		}
		may := p.MayMatch(b)
		if !may {
			pruned++
		}
		for i, k := range p.NewEval().Eval(v, len(recs)) {
			if k && !may {
				t.Fatalf("%s: bounds %+v ruled out a group whose row %+v matches", src, b, recs[i])
			}
		}
	}
	if pruned < 100 {
		t.Fatalf("bounds ruled out %d groups of 3000: the pruning does not work", pruned)
	}
}

// TestPredBoundsExact: on one comparison of an integer column (or its
// negation, or a list), MayMatch rules out a row group exactly when no
// value in its bounds matches: none that could match is skipped, and none
// that cannot is read for nothing. (Two cases stay conservative, and are
// checked as such: an integer equal, or not, to a fraction; a range all
// within a "not in" list.)
func TestPredBoundsExact(t *testing.T) {
	typ := reflect.TypeFor[predRec]()
	holds := func(x int64, op string, c float64) bool {
		f := float64(x)
		switch op {
		case "==":
			return f == c
		case "!=":
			return f != c
		case "<":
			return f < c
		case "<=":
			return f <= c
		case ">":
			return f > c
		}
		return f >= c
	}
	consts := []string{"-3", "-1", "0", "2", "3", "-1.5", "0.5", "2.0"}
	for _, col := range []string{"a", "b"} {
		for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
			for _, cs := range consts {
				var c float64
				fmt.Sscan(cs, &c)
				for _, form := range []string{"%[1]s %[2]s %[3]s", "not (%[1]s %[2]s %[3]s)", "%[3]s %[4]s %[1]s"} {
					flip := map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
					src := fmt.Sprintf(form, col, op, cs, flip)
					e, err := Compile(src, typ)
					if err != nil {
						t.Fatal(err)
					}
					p, ok := e.Pred()
					if !ok {
						t.Fatalf("%s: no Pred", src)
					}
					for lo := int64(-3); lo <= 3; lo++ {
						for hi := lo; hi <= 3; hi++ {
							want := false
							for x := lo; x <= hi; x++ {
								want = want || holds(x, op, c) != strings.HasPrefix(src, "not")
							}
							exact := !((op == "==" || op == "!=") && c != math.Trunc(c))
							if got := p.MayMatch([]Bounds{{Lo: lo, Hi: hi, OK: true}}); got != want && (exact || want) {
								t.Errorf("%s on [%d, %d]: MayMatch %v, want %v", src, lo, hi, got, want)
							}
						}
					}
					if !p.MayMatch([]Bounds{{}}) {
						t.Errorf("%s: unknown bounds ruled the group out", src)
					}
				}
			}
		}
		for _, list := range []string{"[0, 2]", "[-3]", "[1, 2, 3]"} {
			for _, neg := range []bool{false, true} {
				src := col + " in " + list
				if neg {
					src = col + " not in " + list
				}
				e, _ := Compile(src, typ)
				p, _ := e.Pred()
				var set []int64
				for _, f := range strings.Split(strings.Trim(list, "[]"), ",") {
					var v int64
					fmt.Sscan(strings.TrimSpace(f), &v)
					set = append(set, v)
				}
				for lo := int64(-3); lo <= 3; lo++ {
					for hi := lo; hi <= 3; hi++ {
						want := false
						for x := lo; x <= hi; x++ {
							want = want || slices.Contains(set, x) != neg
						}
						exact := !neg || lo == hi
						if got := p.MayMatch([]Bounds{{Lo: lo, Hi: hi, OK: true}}); got != want && (exact || want) {
							t.Errorf("%s on [%d, %d]: MayMatch %v, want %v", src, lo, hi, got, want)
						}
					}
				}
			}
		}
	}
}
