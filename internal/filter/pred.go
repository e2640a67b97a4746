package filter

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// Pred is a --where expression in the form a column path evaluates
// without the expr VM: comparisons of columns with constants or with each
// other (==, !=, <, <=, >, >=), a column in a list of constants, contains,
// startsWith, endsWith, matches, inCIDR and boolean columns, joined by &&,
// || and not. It evaluates a row group's columns at once, with the
// expression's results (expr-lang's semantics: integers compare as int,
// an integer with a float as float64), and from integer columns' bounds it
// tells when no row of a group can match.
type Pred struct {
	src  string
	root pnode
	cols []PredColumn
}

// PredColumn is a column a Pred reads, and the kind of the record field
// that holds it (what its values are converted to first).
type PredColumn struct {
	Name string
	Kind reflect.Kind
}

// Vector is one column of a row group as a Pred reads it: integers of any
// width as int64, floats as float64.
type Vector struct {
	Ints   []int64
	Floats []float64
	Strs   []string
	Bools  []bool
}

// Bounds are the least and greatest values of an integer column in a row
// group (nulls counted as zero); OK is false when they are not known.
type Bounds struct {
	Lo, Hi int64
	OK     bool
}

// Pred returns the expression as a Pred; ok is false when it needs the VM
// (arithmetic, functions other than inCIDR, lists, ...).
func (e *Expr) Pred() (p *Pred, ok bool) {
	c := &predCompiler{kinds: map[string]reflect.Kind{}, index: map[string]int{}}
	for _, f := range e.copies {
		c.kinds[f.name] = f.kind
	}
	node := e.program.Node()
	root, ok := c.bool(node)
	if !ok {
		return nil, false
	}
	return &Pred{src: e.src, root: root, cols: c.cols}, true
}

// Columns returns the columns the predicate reads; Eval takes their
// vectors in this order.
func (p *Pred) Columns() []PredColumn { return p.cols }

func (p *Pred) String() string { return p.src }

// MayMatch reports whether a row group whose columns have the bounds b
// (one per column, in Columns' order; only integer columns' are used) can
// hold a row the predicate keeps.
func (p *Pred) MayMatch(b []Bounds) bool {
	t, _ := p.root.bounds(b)
	return t
}

// PredEval evaluates a Pred; each goroutine needs its own.
type PredEval struct {
	p     *Pred
	v     []Vector
	free  [][]bool
	all   []bool
	float []float64 // an integer column as float64
	fl2   []float64
}

// NewEval returns an evaluator of p.
func (p *Pred) NewEval() *PredEval { return &PredEval{p: p} }

// Eval returns, for each of the n rows whose columns are v (in Columns'
// order), whether the predicate keeps it. The slice is the evaluator's
// until the next call.
func (e *PredEval) Eval(v []Vector, n int) []bool {
	e.v = v
	if cap(e.all) < n {
		e.all = make([]bool, n)
		e.free = nil
	}
	e.all = e.all[:n]
	for i := range e.all {
		e.all[i] = true
	}
	out := e.mask()
	e.p.root.eval(e, e.all, out)
	e.release(out)
	return out
}

func (e *PredEval) mask() []bool {
	n := len(e.all)
	if k := len(e.free); k > 0 {
		m := e.free[k-1]
		e.free = e.free[:k-1]
		return m[:n]
	}
	return make([]bool, n, cap(e.all))
}

func (e *PredEval) release(m []bool) { e.free = append(e.free, m) }

// asFloats returns an integer column as float64 (in one of two scratch
// slices, so that two columns can be converted at once).
func (e *PredEval) asFloats(xs []int64, second bool) []float64 {
	s := &e.float
	if second {
		s = &e.fl2
	}
	*s = (*s)[:0]
	for _, x := range xs {
		*s = append(*s, float64(x))
	}
	return *s
}

// pnode is a node of a Pred.
type pnode interface {
	// eval sets out[i] to the node's value at each row i with in[i], and
	// to false at the others.
	eval(e *PredEval, in, out []bool)
	// bounds says whether the node may be true, and may be false, on a
	// row group whose columns have the bounds b.
	bounds(b []Bounds) (mayTrue, mayFalse bool)
}

type andNode struct{ l, r pnode }

func (n andNode) eval(e *PredEval, in, out []bool) {
	m := e.mask()
	n.l.eval(e, in, m)
	n.r.eval(e, m, out)
	e.release(m)
}

func (n andNode) bounds(b []Bounds) (bool, bool) {
	lt, lf := n.l.bounds(b)
	rt, rf := n.r.bounds(b)
	return lt && rt, lf || rf
}

type orNode struct{ l, r pnode }

func (n orNode) eval(e *PredEval, in, out []bool) {
	m, rest := e.mask(), e.mask()
	n.l.eval(e, in, m)
	for i := range rest {
		rest[i] = in[i] && !m[i]
	}
	n.r.eval(e, rest, out)
	for i := range out {
		out[i] = out[i] || m[i]
	}
	e.release(m)
	e.release(rest)
}

func (n orNode) bounds(b []Bounds) (bool, bool) {
	lt, lf := n.l.bounds(b)
	rt, rf := n.r.bounds(b)
	return lt || rt, lf && rf
}

type notNode struct{ x pnode }

func (n notNode) eval(e *PredEval, in, out []bool) {
	m := e.mask()
	n.x.eval(e, in, m)
	for i := range out {
		out[i] = in[i] && !m[i]
	}
	e.release(m)
}

func (n notNode) bounds(b []Bounds) (bool, bool) {
	t, f := n.x.bounds(b)
	return f, t
}

type constNode bool

func (n constNode) eval(_ *PredEval, in, out []bool) {
	for i := range out {
		out[i] = in[i] && bool(n)
	}
}

func (n constNode) bounds([]Bounds) (bool, bool) { return bool(n), !bool(n) }

// The comparison operators.
type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"==": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

// flip is the operator with its operands swapped: c < x is x > c.
func (op cmpOp) flip() cmpOp {
	return [...]cmpOp{opEq, opNe, opGt, opGe, opLt, opLe}[op]
}

// cmpConst compares a column with a constant: integer columns with an
// integer as int64, with a float (and float columns) as float64.
type cmpConst struct {
	col   int
	op    cmpOp
	kind  reflect.Kind // the vector compared: Int64, Float64 or String
	asF   bool         // an integer column compared as float64
	i     int64
	f     float64
	s     string
	isInt bool // the column is an integer column
}

func (n cmpConst) eval(e *PredEval, in, out []bool) {
	v := &e.v[n.col]
	switch {
	case n.kind == reflect.String:
		compare(v.Strs, n.s, n.op, in, out)
	case n.asF:
		compare(e.asFloats(v.Ints, false), n.f, n.op, in, out)
	case n.kind == reflect.Float64:
		compare(v.Floats, n.f, n.op, in, out)
	default:
		compare(v.Ints, n.i, n.op, in, out)
	}
}

func (n cmpConst) bounds(b []Bounds) (bool, bool) {
	bd := b[n.col]
	if !n.isInt || !bd.OK {
		return true, true
	}
	if n.asF {
		return rangeCmp(float64(bd.Lo), float64(bd.Hi), n.f, n.op)
	}
	return rangeCmp(bd.Lo, bd.Hi, n.i, n.op)
}

// rangeCmp says whether x OP c may be true, and may be false, for some x
// in [lo, hi].
func rangeCmp[T int64 | float64](lo, hi, c T, op cmpOp) (bool, bool) {
	switch op {
	case opEq:
		return lo <= c && c <= hi, !(lo == c && hi == c)
	case opNe:
		return !(lo == c && hi == c), lo <= c && c <= hi
	case opLt:
		return lo < c, hi >= c
	case opLe:
		return lo <= c, hi > c
	case opGt:
		return hi > c, lo <= c
	default: // opGe
		return hi >= c, lo < c
	}
}

func compare[T int64 | float64 | string](xs []T, c T, op cmpOp, in, out []bool) {
	xs = xs[:len(out)]
	in = in[:len(out)]
	switch op {
	case opEq:
		for i, x := range xs {
			out[i] = in[i] && x == c
		}
	case opNe:
		for i, x := range xs {
			out[i] = in[i] && x != c
		}
	case opLt:
		for i, x := range xs {
			out[i] = in[i] && x < c
		}
	case opLe:
		for i, x := range xs {
			out[i] = in[i] && x <= c
		}
	case opGt:
		for i, x := range xs {
			out[i] = in[i] && x > c
		}
	case opGe:
		for i, x := range xs {
			out[i] = in[i] && x >= c
		}
	}
}

// cmpCols compares two columns of one type (integers with floats as
// float64).
type cmpCols struct {
	a, b       int
	op         cmpOp
	kind       reflect.Kind // Int64, Float64, String or Bool
	aInt, bInt bool         // with kind Float64: which side is an integer column
}

func (n cmpCols) eval(e *PredEval, in, out []bool) {
	va, vb := &e.v[n.a], &e.v[n.b]
	switch n.kind {
	case reflect.String:
		compareCols(va.Strs, vb.Strs, n.op, in, out)
	case reflect.Int64:
		compareCols(va.Ints, vb.Ints, n.op, in, out)
	case reflect.Float64:
		fa, fb := va.Floats, vb.Floats
		if n.aInt {
			fa = e.asFloats(va.Ints, false)
		}
		if n.bInt {
			fb = e.asFloats(vb.Ints, true)
		}
		compareCols(fa, fb, n.op, in, out)
	case reflect.Bool:
		xs, ys := va.Bools[:len(out)], vb.Bools[:len(out)]
		for i := range out {
			out[i] = in[i] && (xs[i] == ys[i]) == (n.op == opEq)
		}
	}
}

func (cmpCols) bounds([]Bounds) (bool, bool) { return true, true }

func compareCols[T int64 | float64 | string](xs, ys []T, op cmpOp, in, out []bool) {
	xs, ys, in = xs[:len(out)], ys[:len(out)], in[:len(out)]
	for i := range out {
		var r bool
		switch x, y := xs[i], ys[i]; op {
		case opEq:
			r = x == y
		case opNe:
			r = x != y
		case opLt:
			r = x < y
		case opLe:
			r = x <= y
		case opGt:
			r = x > y
		case opGe:
			r = x >= y
		}
		out[i] = in[i] && r
	}
}

// boolCol is a boolean column.
type boolCol int

func (n boolCol) eval(e *PredEval, in, out []bool) {
	xs := e.v[n].Bools[:len(out)]
	for i := range out {
		out[i] = in[i] && xs[i]
	}
}

func (boolCol) bounds([]Bounds) (bool, bool) { return true, true }

// inInts is an integer column in a list of integers.
type inInts struct {
	col int
	set map[int64]struct{}
}

func (n inInts) eval(e *PredEval, in, out []bool) {
	xs := e.v[n.col].Ints[:len(out)]
	for i := range out {
		if in[i] {
			_, out[i] = n.set[xs[i]]
		} else {
			out[i] = false
		}
	}
}

func (n inInts) bounds(b []Bounds) (bool, bool) {
	bd := b[n.col]
	if !bd.OK {
		return true, true
	}
	t := false
	for v := range n.set {
		t = t || (bd.Lo <= v && v <= bd.Hi)
	}
	_, one := n.set[bd.Lo]
	return t, !(bd.Lo == bd.Hi && one)
}

// inStrs is a string column in a list of strings.
type inStrs struct {
	col int
	set map[string]struct{}
}

func (n inStrs) eval(e *PredEval, in, out []bool) {
	xs := e.v[n.col].Strs[:len(out)]
	for i := range out {
		if in[i] {
			_, out[i] = n.set[xs[i]]
		} else {
			out[i] = false
		}
	}
}

func (inStrs) bounds([]Bounds) (bool, bool) { return true, true }

// strTest is a test of a string column: contains, startsWith, endsWith,
// matches or inCIDR with a constant.
type strTest struct {
	col  int
	test func(string) bool
}

func (n strTest) eval(e *PredEval, in, out []bool) {
	xs := e.v[n.col].Strs[:len(out)]
	for i := range out {
		out[i] = in[i] && n.test(xs[i])
	}
}

func (strTest) bounds([]Bounds) (bool, bool) { return true, true }

// predCompiler turns a checked (and optimized) expr-lang tree into pnodes.
type predCompiler struct {
	kinds map[string]reflect.Kind // the record field kind of each column
	index map[string]int
	cols  []PredColumn
}

// column returns the index of a column the predicate reads and its kind.
func (c *predCompiler) column(n ast.Node) (int, reflect.Kind, bool) {
	id, ok := n.(*ast.IdentifierNode)
	if !ok {
		return 0, 0, false
	}
	k, ok := c.kinds[id.Value]
	if !ok || k == reflect.Slice {
		return 0, 0, false
	}
	i, ok := c.index[id.Value]
	if !ok {
		i = len(c.cols)
		c.index[id.Value] = i
		c.cols = append(c.cols, PredColumn{Name: id.Value, Kind: k})
	}
	return i, k, true
}

func isInt(k reflect.Kind) bool   { return k == reflect.Int32 || k == reflect.Int64 }
func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }

func (c *predCompiler) bool(n ast.Node) (pnode, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		return constNode(n.Value), true
	case *ast.ConstantNode:
		b, ok := n.Value.(bool)
		return constNode(b), ok
	case *ast.IdentifierNode:
		i, k, ok := c.column(n)
		return boolCol(i), ok && k == reflect.Bool
	case *ast.UnaryNode:
		if n.Operator != "!" && n.Operator != "not" {
			return nil, false
		}
		x, ok := c.bool(n.Node)
		return notNode{x}, ok
	case *ast.CallNode:
		return c.call(n)
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			l, ok := c.bool(n.Left)
			if !ok {
				return nil, false
			}
			r, ok := c.bool(n.Right)
			if !ok {
				return nil, false
			}
			if n.Operator == "&&" || n.Operator == "and" {
				return andNode{l, r}, true
			}
			return orNode{l, r}, true
		case "in":
			return c.in(n)
		case "contains", "startsWith", "endsWith", "matches":
			return c.strOp(n)
		}
		if op, ok := cmpOps[n.Operator]; ok {
			return c.compare(op, n.Left, n.Right)
		}
	}
	return nil, false
}

// compare compiles l OP r: a column with a constant or with a column.
func (c *predCompiler) compare(op cmpOp, l, r ast.Node) (pnode, bool) {
	if _, isCol := l.(*ast.IdentifierNode); !isCol {
		l, r, op = r, l, op.flip()
	}
	a, ka, ok := c.column(l)
	if !ok {
		return nil, false
	}
	if b, kb, ok := c.column(r); ok {
		switch {
		case isInt(ka) && isInt(kb):
			return cmpCols{a: a, b: b, op: op, kind: reflect.Int64}, true
		case (isInt(ka) || isFloat(ka)) && (isInt(kb) || isFloat(kb)):
			return cmpCols{a: a, b: b, op: op, kind: reflect.Float64, aInt: isInt(ka), bInt: isInt(kb)}, true
		case ka == reflect.String && kb == reflect.String:
			return cmpCols{a: a, b: b, op: op, kind: reflect.String}, true
		case ka == reflect.Bool && kb == reflect.Bool && (op == opEq || op == opNe):
			return cmpCols{a: a, b: b, op: op, kind: reflect.Bool}, true
		}
		return nil, false
	}
	switch r := r.(type) {
	case *ast.IntegerNode:
		switch {
		case isInt(ka):
			return cmpConst{col: a, op: op, kind: reflect.Int64, i: int64(r.Value), isInt: true}, true
		case isFloat(ka):
			return cmpConst{col: a, op: op, kind: reflect.Float64, f: float64(r.Value)}, true
		}
	case *ast.FloatNode:
		switch {
		case isInt(ka):
			return cmpConst{col: a, op: op, kind: reflect.Float64, asF: true, f: r.Value, isInt: true}, true
		case isFloat(ka):
			return cmpConst{col: a, op: op, kind: reflect.Float64, f: r.Value}, true
		}
	case *ast.StringNode:
		if ka == reflect.String {
			return cmpConst{col: a, op: op, kind: reflect.String, s: r.Value}, true
		}
	case *ast.BoolNode:
		if ka == reflect.Bool && (op == opEq || op == opNe) {
			if r.Value == (op == opEq) {
				return boolCol(a), true
			}
			return notNode{boolCol(a)}, true
		}
	}
	return nil, false
}

// in compiles a column in a list of constants (which expr-lang's
// optimizer makes a set when they are all integers or all strings).
func (c *predCompiler) in(n *ast.BinaryNode) (pnode, bool) {
	col, k, ok := c.column(n.Left)
	if !ok {
		return nil, false
	}
	var list []ast.Node // a list the optimizer did not make a set of
	switch r := n.Right.(type) {
	case *ast.ArrayNode:
		list = r.Nodes
	case *ast.ConstantNode:
		if vs, ok := r.Value.([]any); ok { // folded (e.g. [-3])
			for _, v := range vs {
				switch v := v.(type) {
				case int:
					list = append(list, &ast.IntegerNode{Value: v})
				case float64:
					list = append(list, &ast.FloatNode{Value: v})
				case string:
					list = append(list, &ast.StringNode{Value: v})
				default:
					return nil, false
				}
			}
			if list == nil {
				list = []ast.Node{}
			}
		}
	}
	if list != nil { // col == each, as the VM compares them
		var or pnode = constNode(false)
		for i := len(list) - 1; i >= 0; i-- {
			eq, ok := c.compare(opEq, n.Left, list[i])
			if !ok {
				return nil, false
			}
			or = orNode{eq, or}
		}
		return or, true
	}
	set, ok := n.Right.(*ast.ConstantNode)
	if !ok {
		return nil, false
	}
	switch s := set.Value.(type) {
	case map[int]struct{}:
		if !isInt(k) {
			return nil, false
		}
		m := make(map[int64]struct{}, len(s))
		for v := range s {
			m[int64(v)] = struct{}{}
		}
		return inInts{col, m}, true
	case map[string]struct{}:
		if k != reflect.String {
			return nil, false
		}
		return inStrs{col, s}, true
	}
	return nil, false
}

// strOp compiles a string column's contains, startsWith, endsWith or
// matches with a constant.
func (c *predCompiler) strOp(n *ast.BinaryNode) (pnode, bool) {
	col, k, ok := c.column(n.Left)
	if !ok || k != reflect.String {
		return nil, false
	}
	s, ok := n.Right.(*ast.StringNode)
	if !ok {
		return nil, false
	}
	v := s.Value
	switch n.Operator {
	case "contains":
		return strTest{col, func(x string) bool { return strings.Contains(x, v) }}, true
	case "startsWith":
		return strTest{col, func(x string) bool { return strings.HasPrefix(x, v) }}, true
	case "endsWith":
		return strTest{col, func(x string) bool { return strings.HasSuffix(x, v) }}, true
	}
	re, err := regexp.Compile(v)
	if err != nil {
		return nil, false
	}
	return strTest{col, re.MatchString}, true
}

// call compiles inCIDR(column, "block").
func (c *predCompiler) call(n *ast.CallNode) (pnode, bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "inCIDR" || len(n.Arguments) != 2 {
		return nil, false
	}
	col, k, ok := c.column(n.Arguments[0])
	if !ok || k != reflect.String {
		return nil, false
	}
	s, ok := n.Arguments[1].(*ast.StringNode)
	if !ok {
		return nil, false
	}
	p, err := netip.ParsePrefix(s.Value)
	if err != nil {
		return nil, false // the VM says why, at the first record
	}
	p = p.Masked()
	return strTest{col, func(x string) bool { return cidrContains(p, x) }}, true
}
