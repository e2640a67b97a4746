package main

import (
	"strings"
	"testing"
)

const src = `package p

func f(a, b int) bool {
	a--
	return a-b < -1 && a >= b
}
`

func TestMutate(t *testing.T) {
	for _, c := range []struct {
		line, col int
		typ, want string
	}{
		{4, 3, "INCREMENT_DECREMENT", "\ta++\n"},
		{5, 10, "ARITHMETIC_BASE", "\treturn a+b < -1 && a >= b\n"},
		{5, 10, "INVERT_NEGATIVES", "\treturn a+b < -1 && a >= b\n"},
		{5, 13, "CONDITIONALS_BOUNDARY", "\treturn a-b <= -1 && a >= b\n"},
		{5, 13, "CONDITIONALS_NEGATION", "\treturn a-b >= -1 && a >= b\n"},
		{5, 15, "INVERT_NEGATIVES", "\treturn a-b < +1 && a >= b\n"},
		{5, 23, "CONDITIONALS_BOUNDARY", "\treturn a-b < -1 && a > b\n"},
		{5, 23, "CONDITIONALS_NEGATION", "\treturn a-b < -1 && a < b\n"},
	} {
		m, err := mutate([]byte(src), c.line, c.col, c.typ)
		if err != nil {
			t.Errorf("%d:%d %s: %v", c.line, c.col, c.typ, err)
			continue
		}
		lines := strings.SplitAfter(string(m.src), "\n")
		if got := lines[c.line-1]; got != c.want {
			t.Errorf("%d:%d %s: %q, want %q", c.line, c.col, c.typ, got, c.want)
		}
		if strings.Join(lines[:c.line-1], "") != strings.Join(strings.SplitAfter(src, "\n")[:c.line-1], "") {
			t.Errorf("%d:%d %s: lines before the mutant changed", c.line, c.col, c.typ)
		}
	}
	// a position without a token of the type is an error, never a silent no-op
	for _, c := range []struct {
		line, col int
		typ       string
	}{{5, 12, "ARITHMETIC_BASE"}, {5, 13, "INCREMENT_DECREMENT"}, {5, 13, "NO_SUCH_TYPE"}, {9, 1, "ARITHMETIC_BASE"}} {
		if _, err := mutate([]byte(src), c.line, c.col, c.typ); err == nil {
			t.Errorf("%d:%d %s: no error", c.line, c.col, c.typ)
		}
	}
}
