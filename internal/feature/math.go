package feature

import "math"

// Log2Floor is Apache Spot's logBaseXInt(x, 2): the integer part of log2(x),
// truncated toward zero; 0 for x = 0 (and for negative x, whose logarithm
// is NaN and truncates to 0 on the JVM).
//
// It is computed exactly from the float's exponent rather than as
// log10(x)/log10(2): the two agree for every integer up to 2^53 (checked
// against a correctly rounded log10 for every power of two).
func Log2Floor(x float64) int {
	if !(x > 0) || math.IsInf(x, 0) {
		return 0
	}
	if x < 1 {
		// log2 is negative; the JVM truncates toward zero.
		return int(math.Log2(x))
	}
	frac, exp := math.Frexp(x) // x = frac * 2^exp, frac in [0.5, 1)
	_ = frac
	return exp - 1
}

// CeilLog2 is Apache Spot's ceilLog2: ⌈log2 x⌉, for x ≥ 1.
func CeilLog2(x float64) int {
	if x <= 0 {
		return math.MinInt32 // the JVM's (int) of -Infinity; rows that reach it are rejected first
	}
	if x < 1 {
		return int(math.Ceil(math.Log2(x)))
	}
	frac, exp := math.Frexp(x)
	if frac == 0.5 {
		return exp - 1
	}
	return exp
}

// Bin returns the index of the first cut with v ≤ cut, or -1 when v is
// above every cut (Spot's MathUtils.bin).
func Bin(v float64, cuts []float64) int {
	for i, c := range cuts {
		if v <= c {
			return i
		}
	}
	return -1
}

// EntropyCuts are Spot's 20 fixed entropy bins (0.3 bits wide), shared by
// the DNS subdomain and proxy URI words.
var EntropyCuts = []float64{0.0, 0.3, 0.6, 0.9, 1.2,
	1.5, 1.8, 2.1, 2.4, 2.7,
	3.0, 3.3, 3.6, 3.9, 4.2,
	4.5, 4.8, 5.1, 5.4, math.Inf(1)}

var log10of2 = math.Log10(2)

// Entropy is the Shannon entropy, in bits, of a string's character
// frequencies (Spot's Entropy.stringEntropy; characters are UTF-16 code
// units on the JVM, runes here, the same for ASCII names). The empty string
// has entropy 0.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var ascii [128]int32
	var other map[rune]int32
	n := 0
	// order of first appearance, so the float sum is deterministic
	var order []rune
	var small [64]rune
	order = small[:0]
	for _, r := range s {
		n++
		if r < 128 {
			if ascii[r] == 0 {
				order = append(order, r)
			}
			ascii[r]++
			continue
		}
		if other == nil {
			other = map[rune]int32{}
		}
		if other[r] == 0 {
			order = append(order, r)
		}
		other[r]++
	}
	total := float64(n)
	h := 0.0
	for _, r := range order {
		var c int32
		if r < 128 {
			c = ascii[r]
		} else {
			c = other[r]
		}
		p := float64(c) / total
		h += -p * math.Log10(p) / log10of2
	}
	return h
}
