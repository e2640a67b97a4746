package main

// Mutant schemata (Untch, Offutt and Harrold, 1993): most mutants of a
// package are compiled into one test binary, each behind a switch read from
// SPOT_MUTANT, so that a mutant costs one run of the tests instead of a
// compile and a link. A comparison x < y becomes spotMutantCmp(x, y, <, id1,
// <=, id2, >=), x + y becomes spotMutantArith(x, y, +, id, -), and so on:
// the same operation on the same operands, evaluated once each and in the
// same order, unless the switch names one of its mutants.
//
// A mutant goes into the schema only when go/types says the rewrite keeps
// its types: not in a constant expression (a call is never constant), an
// operand with a type to infer the helper's from, numbers for arithmetic.
// The others, and any the compiler still rejects (by line), are compiled one
// by one as before. Line numbers are kept (nothing inserted holds a
// newline), so the compiler's errors point at the original lines.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// schema is the test binaries (the package's, related ones) holding the
// mutants of ids.
type schema struct {
	bins []schemaBin
	ids  map[*mutant]int
}

type schemaBin struct{ bin, dir, run string }

// an edit inserts text at off (span orders edits at the same offset:
// openings of wider expressions first, closings of narrower ones first), or
// replaces the token at off (size bytes).
type edit struct {
	off, size int
	text      string
	open      bool
	span      int
}

type listedPackage struct {
	ImportPath, Name, Dir, Export string
	GoFiles                       []string
}

// buildSchema compiles the schema of a package's mutants; nil when none
// can be.
func (r *runner) buildSchema(pkg, dir string, ms []*mutant) *schema {
	cmd := exec.CommandContext(r.ctx, "go", "list", "-export", "-deps", "-json", "./"+pkg)
	cmd.Dir, cmd.Env = r.root, r.env
	out, err := cmd.Output()
	if err != nil {
		fmt.Printf("schema: go list: %v (each mutant is compiled on its own)\n", err)
		return nil
	}
	exports := map[string]string{}
	var self listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			fmt.Printf("schema: go list: %v\n", err)
			return nil
		}
		exports[p.ImportPath] = p.Export
		self = p // the package itself comes last
	}
	fset := token.NewFileSet()
	var files []*ast.File
	srcs := map[string][]byte{}
	for _, name := range self.GoFiles {
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil
		}
		files = append(files, f)
		srcs[name] = src
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if e := exports[path]; e != "" {
			return os.Open(e)
		}
		return nil, fmt.Errorf("no export data for %s", path)
	})}
	if _, err := conf.Check(self.ImportPath, fset, files, info); err != nil {
		fmt.Printf("schema: type check: %v (each mutant is compiled on its own)\n", err)
		return nil
	}

	// the node of each mutated token, by file and offset
	type site struct {
		node       ast.Node
		start, end int // lines
	}
	sites := map[string]site{}
	for _, f := range files {
		name := fset.File(f.Pos()).Name()
		ast.Inspect(f, func(n ast.Node) bool {
			var pos token.Pos
			switch n := n.(type) {
			case *ast.BinaryExpr:
				pos = n.OpPos
			case *ast.UnaryExpr:
				pos = n.OpPos
			case *ast.IncDecStmt:
				pos = n.TokPos
			default:
				return true
			}
			sites[fmt.Sprintf("%s:%d", name, fset.Position(pos).Offset)] = site{n, fset.Position(n.Pos()).Line, fset.Position(n.End()).Line}
			return true
		})
	}
	// the mutants of each site
	bySite := map[string][]*mutant{}
	for _, m := range ms {
		k := fmt.Sprintf("%s:%d", m.rel, m.offset)
		if _, ok := sites[k]; ok {
			bySite[k] = append(bySite[k], m)
		}
	}
	mutated := map[string]map[int]bool{} // offsets of mutated tokens, by file
	for _, m := range ms {
		if mutated[m.rel] == nil {
			mutated[m.rel] = map[int]bool{}
		}
		mutated[m.rel][m.offset] = true
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	typed := func(e ast.Expr) bool {
		t := info.Types[e].Type
		b, ok := t.(*types.Basic)
		return t != nil && !(ok && b.Info()&types.IsUntyped != 0)
	}
	number := func(e ast.Expr) (ok, integer bool) {
		t := info.Types[e].Type
		if t == nil {
			return false, false
		}
		b, isBasic := t.Underlying().(*types.Basic)
		if !isBasic || b.Info()&types.IsUntyped != 0 {
			return false, false
		}
		return b.Info()&types.IsNumeric != 0, b.Info()&types.IsInteger != 0
	}

	ids := map[*mutant]int{}
	next := 0
	id := func(m *mutant) int {
		next++
		ids[m] = next
		return next
	}
	// exclude: lines (by file) whose mutants the compiler rejected
	build := func(exclude map[string]map[int]bool) (map[*mutant]int, map[string][]edit) {
		ids, next = map[*mutant]int{}, 0
		edits := map[string][]edit{}
		keys := make([]string, 0, len(bySite))
		for k := range bySite {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, group := sites[k], bySite[k]
			rel := group[0].rel
			rejected := false
			for l := s.start; l <= s.end; l++ {
				rejected = rejected || exclude[rel][l]
			}
			if rejected {
				continue
			}
			span := off(s.node.End()) - off(s.node.Pos())
			add := func(es ...edit) { edits[rel] = append(edits[rel], es...) }
			switch n := s.node.(type) {
			case *ast.BinaryExpr:
				if info.Types[n].Value != nil || (!typed(n.X) && !typed(n.Y)) {
					continue // constant, or no type to infer
				}
				open := edit{off: off(n.X.Pos()), open: true, span: span}
				op := edit{off: off(n.OpPos), size: len(n.Op.String()), text: ","}
				closing := edit{off: off(n.Y.End()), span: span}
				switch n.Op {
				case token.EQL, token.NEQ:
					open.text = "(("
					closing.text = fmt.Sprintf(") != spotMutantOn(%d))", id(group[0]))
					add(open, closing)
				case token.LSS, token.LEQ, token.GTR, token.GEQ:
					alts := []string{"-1", "0", "-1", "0"}
					for i, m := range group[:min(2, len(group))] {
						alts[2*i], alts[2*i+1] = strconv.Itoa(id(m)), strconv.Itoa(int(m.new))
					}
					open.text = "spotMutantCmp("
					closing.text = fmt.Sprintf(", %d, %s)", int(n.Op), strings.Join(alts, ", "))
					add(open, op, closing)
				case token.ADD, token.SUB, token.MUL, token.QUO, token.REM:
					isNum, isInt := number(n)
					if !isNum || len(group) != 1 {
						continue
					}
					open.text = "spotMutantArith("
					if isInt {
						open.text = "spotMutantArithInt("
					}
					closing.text = fmt.Sprintf(", %d, %d, %d)", int(n.Op), id(group[0]), int(group[0].new))
					add(open, op, closing)
				}
			case *ast.UnaryExpr:
				if isNum, _ := number(n); info.Types[n].Value != nil || !isNum || n.Op != token.SUB {
					continue
				}
				add(edit{off: off(n.OpPos), size: 1, text: "spotMutantNeg("},
					edit{off: off(n.X.End()), span: span, text: fmt.Sprintf(", %d)", id(group[0]))})
			case *ast.IncDecStmt:
				// x++ becomes x += spotMutantStep(x, ++, id): x is read twice,
				// so only when reading it has no effect and holds no mutant
				clean := true
				ast.Inspect(n.X, func(c ast.Node) bool {
					if _, call := c.(*ast.CallExpr); call {
						clean = false
					}
					if c != nil && c.Pos().IsValid() {
						for o := off(c.Pos()); o < off(c.End()); o++ {
							if mutated[rel][o] {
								clean = false
							}
						}
					}
					return clean
				})
				if isNum, _ := number(n.X); !clean || !isNum {
					continue
				}
				x := string(srcs[rel][off(n.X.Pos()):off(n.X.End())])
				add(edit{off: off(n.TokPos), size: 2, text: fmt.Sprintf(" += spotMutantStep(%s, %d, %d)", x, int(n.Tok), id(group[0]))})
			}
		}
		return ids, edits
	}

	exclude := map[string]map[int]bool{}
	bin := filepath.Join(r.work, "schema.test")
	for round := 0; round < 10; round++ {
		ids, edits := build(exclude)
		if len(ids) == 0 {
			return nil
		}
		replace := map[string]string{filepath.Join(dir, "spot_mutant_schema.go"): filepath.Join(r.work, "spot_mutant_schema.go")}
		if err := os.WriteFile(replace[filepath.Join(dir, "spot_mutant_schema.go")], []byte(helpers(self.Name)), 0o644); err != nil {
			return nil
		}
		for rel, es := range edits {
			f := filepath.Join(r.work, "schema_"+strings.ReplaceAll(rel, "/", "_"))
			if err := os.WriteFile(f, apply(srcs[rel], es), 0o644); err != nil {
				return nil
			}
			replace[filepath.Join(dir, rel)] = f
		}
		b, _ := json.Marshal(map[string]map[string]string{"Replace": replace})
		overlay := filepath.Join(r.work, "schema.json")
		if err := os.WriteFile(overlay, b, 0o644); err != nil {
			return nil
		}
		cmd := exec.CommandContext(r.ctx, "go", "test", "-c", "-o", bin, "-vet=off", "-ldflags=-w", "-overlay", overlay, "./"+pkg)
		cmd.Dir, cmd.Env = r.root, r.env
		out, err := cmd.CombinedOutput()
		if err == nil {
			s := &schema{ids: ids, bins: []schemaBin{{bin, dir, ""}}}
			for i, rel := range Related[pkg] {
				b := filepath.Join(r.work, fmt.Sprintf("related%d.test", i))
				cmd := exec.CommandContext(r.ctx, "go", "test", "-c", "-o", b, "-vet=off", "-ldflags=-w", "-overlay", overlay, "./"+rel.pkg)
				cmd.Dir, cmd.Env = r.root, r.env
				if out, err := cmd.CombinedOutput(); err != nil {
					fmt.Printf("schema: %s does not compile with it (each mutant is compiled on its own):\n%s\n", rel.pkg, out)
					return nil
				}
				s.bins = append(s.bins, schemaBin{b, filepath.Join(r.root, rel.pkg), rel.run})
			}
			fmt.Printf("schema: %d of %d mutants in one test binary\n", len(ids), len(ms))
			return s
		}
		rejected := 0
		for _, m := range compileError.FindAllStringSubmatch(string(out), -1) {
			rel := filepath.Base(m[1])
			for k := range edits {
				if filepath.Base(k) == rel {
					rel = k
				}
			}
			line, _ := strconv.Atoi(m[2])
			if exclude[rel] == nil {
				exclude[rel] = map[int]bool{}
			}
			if !exclude[rel][line] {
				exclude[rel][line] = true
				rejected++
			}
		}
		if rejected == 0 {
			fmt.Printf("schema: does not compile (each mutant is compiled on its own):\n%s\n", out)
			return nil
		}
	}
	return nil
}

var compileError = regexp.MustCompile(`(?m)^(?:\./)?(\S+\.go):(\d+):\d+: `)

// apply makes the edits to src.
func apply(src []byte, es []edit) []byte {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.off != b.off {
			return a.off < b.off
		}
		// at one offset: closings (narrowest first), openings (widest
		// first), then a replaced token
		rank := func(e edit) int {
			switch {
			case e.size > 0:
				return 2
			case e.open:
				return 1
			}
			return 0
		}
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.open {
			return a.span > b.span
		}
		return a.span < b.span
	})
	var out []byte
	at := 0
	for _, e := range es {
		out = append(out, src[at:e.off]...)
		out = append(out, e.text...)
		at = e.off + e.size
	}
	return append(out, src[at:]...)
}

// helpers is the file of the schema's switch and operations.
func helpers(pkg string) string {
	return fmt.Sprintf(`package %s

import (
	"cmp"
	"os"
	"strconv"
)

var spotMutant, _ = strconv.Atoi(os.Getenv("SPOT_MUTANT"))

func spotMutantOn(id int) bool { return spotMutant == id }

type spotMutantInteger interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

type spotMutantNumber interface {
	spotMutantInteger | ~float32 | ~float64 | ~complex64 | ~complex128
}

func spotMutantCmp[T cmp.Ordered](x, y T, op, id1, op1, id2, op2 int) bool {
	switch spotMutant {
	case id1:
		op = op1
	case id2:
		op = op2
	}
	switch op {
	case %[2]d:
		return x < y
	case %[3]d:
		return x <= y
	case %[4]d:
		return x > y
	case %[5]d:
		return x >= y
	}
	panic("spotMutantCmp")
}

func spotMutantArith[T spotMutantNumber](x, y T, op, id, to int) T {
	if spotMutant == id {
		op = to
	}
	switch op {
	case %[6]d:
		return x + y
	case %[7]d:
		return x - y
	case %[8]d:
		return x * y
	case %[9]d:
		return x / y
	}
	panic("spotMutantArith")
}

func spotMutantArithInt[T spotMutantInteger](x, y T, op, id, to int) T {
	if spotMutant == id {
		op = to
	}
	if op == %[10]d {
		return x %% y
	}
	return spotMutantArith(x, y, op, -1, 0)
}

func spotMutantNeg[T spotMutantNumber](x T, id int) T {
	if spotMutant == id {
		return +x
	}
	return -x
}

func spotMutantStep[T spotMutantNumber](_ T, op, id int) T {
	var one T = 1
	if spotMutant == id {
		op = %[11]d + %[12]d - op
	}
	if op == %[11]d {
		return one
	}
	return -one
}
`, pkg, int(token.LSS), int(token.LEQ), int(token.GTR), int(token.GEQ),
		int(token.ADD), int(token.SUB), int(token.MUL), int(token.QUO), int(token.REM), int(token.INC), int(token.DEC))
}

// testSchema runs the schema's tests with mutant id switched on (0: none).
func (r *runner) testSchema(s *schema, id int, timeout time.Duration) (string, string) {
	var all strings.Builder
	for _, b := range s.bins {
		args := []string{"-test.paniconexit0", "-test.count=1", "-test.short", "-test.failfast", "-test.timeout", timeout.String()}
		if b.run != "" {
			args = append(args, "-test.run", b.run)
		}
		out, status := r.run1(exec.Command(b.bin, args...), b.dir, []string{fmt.Sprintf("SPOT_MUTANT=%d", id)}, timeout+time.Minute)
		if status == timedOut && !r.retrying {
			r.retrying = true // a loaded machine, or a loop? once more with four times the time
			defer func() { r.retrying = false }()
			return r.testSchema(s, id, 4*timeout)
		}
		all.WriteString(out)
		if status != lived {
			return all.String(), status
		}
	}
	return all.String(), lived
}

// id is mutant m's switch in the schema, if it is there.
func (s *schema) id(m *mutant) (int, bool) {
	if s == nil {
		return 0, false
	}
	id, ok := s.ids[m]
	return id, ok
}
