package ioformat

import (
	"io"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	in := "a\r\n" + strings.Repeat("x", 40) + "\nb\n\n" + strings.Repeat("y", 40) + "\nc"
	l := NewLines(strings.NewReader(in), 16)
	var got []string
	for {
		line, long, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := string(line)
		if long {
			s = "LONG"
		}
		got = append(got, s+"@"+string(rune('0'+l.Number())))
	}
	if want := "a@1 LONG@2 b@3 @4 LONG@5 c@6"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
