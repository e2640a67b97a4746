package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"golang.org/x/net/publicsuffix"
)

// Expr is a --where expression compiled once for one record type: its
// names are the stream's columns, typed as the schema types them (integers
// as int, floats as float64, lists as []string), so a misspelt column or a
// string compared with a number fails before any record is read.
type Expr struct {
	src     string
	program *vm.Program
	env     reflect.Type // a struct with one field per column, tagged expr:"column"
	copies  []fieldCopy  // the columns the expression names
	columns []string
}

// fieldCopy moves one column's value from a record into the environment.
type fieldCopy struct {
	name     string
	from, to uintptr
	kind     reflect.Kind // the record field's kind
}

// Compile compiles src, an expr-lang expression of type bool, against the
// columns of records of type recType (a struct with parquet-tagged fields,
// embedded structs flattened).
func Compile(src string, recType reflect.Type) (*Expr, error) {
	fields := columnFields(recType)
	var sf []reflect.StructField
	for i, f := range fields {
		sf = append(sf, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: envType(f.typ), Tag: reflect.StructTag(`expr:"` + f.name + `"`)})
	}
	env := reflect.StructOf(sf)
	// The environment is typed as the struct itself (not a pointer to it), so
	// that columns compile to field loads by index rather than lookups by name
	// at every record; the pointer Match passes is dereferenced.
	program, err := expr.Compile(src, expr.Env(reflect.New(env).Elem().Interface()), expr.AsBool(),
		expr.Function("inCIDR", inCIDR, new(func(string, string) bool)),
		expr.Function("domain", registrable, new(func(string) string)))
	if err != nil {
		return nil, explain(err, src, fields)
	}
	e := &Expr{src: src, program: program, env: env}
	used := map[string]bool{}
	var v identifiers
	node := program.Node()
	ast.Walk(&node, &v)
	for _, n := range v {
		used[n] = true
	}
	for i, f := range fields {
		if used[f.name] {
			e.copies = append(e.copies, fieldCopy{name: f.name, from: f.off, to: env.Field(i).Offset, kind: f.typ.Kind()})
			e.columns = append(e.columns, f.name)
		}
	}
	return e, nil
}

// Columns returns the columns the expression reads.
func (e *Expr) Columns() []string { return e.columns }

func (e *Expr) String() string { return e.src }

type identifiers []string

func (v *identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		*v = append(*v, id.Value)
	}
}

// Evaluator evaluates an Expr; each goroutine needs its own.
type Evaluator struct {
	e   *Expr
	vm  vm.VM
	env reflect.Value // *env struct
	ptr unsafe.Pointer
	arg any
}

// NewEvaluator returns an evaluator of e.
func (e *Expr) NewEvaluator() *Evaluator {
	v := reflect.New(e.env)
	return &Evaluator{e: e, env: v, ptr: v.UnsafePointer(), arg: v.Interface()}
}

// Match reports whether the record at rec (a pointer to the record type
// the expression was compiled for) satisfies the expression.
func (ev *Evaluator) Match(rec unsafe.Pointer) (bool, error) {
	for _, c := range ev.e.copies {
		src, dst := unsafe.Add(rec, c.from), unsafe.Add(ev.ptr, c.to)
		switch c.kind {
		case reflect.String:
			*(*string)(dst) = *(*string)(src)
		case reflect.Int64:
			*(*int)(dst) = int(*(*int64)(src))
		case reflect.Int32:
			*(*int)(dst) = int(*(*int32)(src))
		case reflect.Float64:
			*(*float64)(dst) = *(*float64)(src)
		case reflect.Float32:
			*(*float64)(dst) = float64(*(*float32)(src))
		case reflect.Bool:
			*(*bool)(dst) = *(*bool)(src)
		case reflect.Slice:
			*(*[]string)(dst) = *(*[]string)(src)
		}
	}
	out, err := ev.vm.Run(ev.e.program, ev.arg)
	if err != nil {
		return false, fmt.Errorf("--where %q: %w", ev.e.src, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// column is a scalar or list field of a record type, by column name.
type column struct {
	name string
	off  uintptr
	typ  reflect.Type
}

// columnFields lists t's columns in order, embedded structs flattened.
func columnFields(t reflect.Type) []column {
	var out []column
	var walk func(t reflect.Type, base uintptr)
	walk = func(t reflect.Type, base uintptr) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, base+f.Offset)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			switch f.Type.Kind() {
			case reflect.String, reflect.Bool, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
			case reflect.Slice:
				if f.Type.Elem().Kind() != reflect.String {
					continue
				}
			default:
				continue
			}
			out = append(out, column{name: name, off: base + f.Offset, typ: f.Type})
		}
	}
	walk(t, 0)
	return out
}

// ColumnOffset returns where column name lives in a record of type t and
// its kind; ok is false when t has no such column.
func ColumnOffset(t reflect.Type, name string) (off uintptr, kind reflect.Kind, ok bool) {
	for _, c := range columnFields(t) {
		if c.name == name {
			return c.off, c.typ.Kind(), true
		}
	}
	return 0, 0, false
}

func envType(t reflect.Type) reflect.Type {
	switch t.Kind() {
	case reflect.Int32, reflect.Int64:
		return reflect.TypeFor[int]()
	case reflect.Float32:
		return reflect.TypeFor[float64]()
	}
	return t
}

// explain turns a compile error into one that names the expression's
// column where it went wrong and, for an unknown name, the nearest column.
func explain(err error, src string, fields []column) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return fmt.Errorf("--where: %w", err)
	}
	msg := fe.Message
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		if near := nearest(name, fields); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		} else {
			msg += " (spot help schema KIND lists the columns)"
		}
	}
	col := fe.Column + 1
	line := src
	if strings.Contains(src, "\n") {
		lines := strings.Split(src, "\n")
		if fe.Line >= 1 && fe.Line <= len(lines) {
			line = lines[fe.Line-1]
		}
		return fmt.Errorf("--where: line %d, column %d: %s\n  %s\n  %s^", fe.Line, col, msg, line, strings.Repeat(" ", fe.Column))
	}
	return fmt.Errorf("--where: column %d: %s\n  %s\n  %s^", col, msg, line, strings.Repeat(" ", fe.Column))
}

// nearest returns the column name closest to name, if any is close.
func nearest(name string, fields []column) string {
	best, bestD := "", max(1, len(name)/3)+1
	for _, f := range fields {
		if d := editDistance(strings.ToLower(name), f.name); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c = 1 + min(prev[j-1], prev[j], cur[j-1])
			}
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// prefixes caches the CIDR blocks expressions name (a handful each).
var prefixes sync.Map // string -> netip.Prefix or error

// inCIDR(addr, "10.0.0.0/8") is true when addr is in the block.
func inCIDR(params ...any) (any, error) {
	ip, _ := params[0].(string)
	block, _ := params[1].(string)
	v, ok := prefixes.Load(block)
	if !ok {
		p, err := netip.ParsePrefix(block)
		if err != nil {
			v = fmt.Errorf("inCIDR: %q is not a CIDR block", block)
		} else {
			v = p.Masked()
		}
		prefixes.Store(block, v)
	}
	if err, isErr := v.(error); isErr {
		return nil, err
	}
	return cidrContains(v.(netip.Prefix), ip), nil
}

// cidrContains reports whether ip, an address as text, is in block (an
// address that does not parse is in none).
func cidrContains(block netip.Prefix, ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && block.Contains(a.Unmap())
}

// domain(name) is the registrable domain of a name by the Public Suffix
// List: domain("a.b.example.co.uk") is "example.co.uk".
func registrable(params ...any) (any, error) {
	name, _ := params[0].(string)
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return name, nil
	}
	return d, nil
}
