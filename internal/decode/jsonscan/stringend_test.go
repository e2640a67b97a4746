package jsonscan

import (
	"bytes"
	"testing"
)

// stringEndRef is stringEnd as a quote search that counts the backslashes
// before each quote found.
func stringEndRef(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		if b[j] != '"' {
			continue
		}
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
	}
	return -1
}

// TestStringEnd: strings of every length up to three words, their last
// quote escaped or not by runs of backslashes at every position, with text
// after them or not, end where the reference says.
func TestStringEnd(t *testing.T) {
	for n := 0; n <= 26; n++ {
		for at := 0; at <= n; at++ {
			for run := 0; run <= 3; run++ {
				for _, tail := range []string{"", `,"k":"v"}`, `\"x" `} {
					body := bytes.Repeat([]byte{'a'}, n)
					body = append(body[:at], append(bytes.Repeat([]byte{'\\'}, run), body[at:]...)...)
					b := append(append(append([]byte(`x"`), body...), '"'), tail...)
					want := stringEndRef(b, 1)
					got, err := stringEnd(b, 1)
					if err != nil {
						got = -1
					}
					if got != want {
						t.Fatalf("stringEnd(%q) = %d, %v; want %d", b, got, err, want)
					}
				}
			}
		}
	}
}
