package ioformat

import (
	"fmt"
	"strings"
	"testing"
)

func TestArena(t *testing.T) {
	var a Arena
	big := strings.Repeat("x", arenaMax+1)
	for round := range 3 {
		var got, want []string
		var lists [][]string
		for i := range 5000 { // several chunks
			s := fmt.Sprintf("name-%d-%d.example", round, i)
			if i%1000 == 0 {
				s = big
			}
			got = append(got, a.String([]byte(s)))
			want = append(want, s)
			lists = append(lists, a.Strings([]string{s, "b"}))
		}
		for i := range got {
			if got[i] != want[i] || len(lists[i]) != 2 || lists[i][0] != want[i] || lists[i][1] != "b" {
				t.Fatalf("round %d string %d: %q %q, want %q", round, i, got[i], lists[i], want[i])
			}
		}
		if l := append(lists[0], "c"); &l[0] == &lists[0][0] {
			t.Fatal("an append to a list overwrote its neighbour")
		}
		a.Reset()
	}
	if a.String(nil) != "" || a.Strings(nil) != nil {
		t.Error("empty input should give an empty string and a nil list")
	}
	var nilArena *Arena
	if nilArena.String([]byte("x")) != "x" || nilArena.Strings([]string{"y"})[0] != "y" {
		t.Error("a nil arena should allocate")
	}
	// once its chunks exist, a batch's strings cost no allocation
	b := []byte("Jan  4, 2017 04:41:06.337519000 UTC")
	l := []string{"192.0.2.1", "ns1.example"}
	if n := testing.AllocsPerRun(10, func() {
		for range 2000 {
			a.String(b)
			a.Strings(l)
		}
		a.Reset()
	}); n != 0 {
		t.Errorf("%v allocations a batch, want 0", n)
	}
}
