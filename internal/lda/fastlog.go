package lda

import "math"

// fastLog is math.Log for the positive normal numbers training meets, about
// four times cheaper and within 1e-10 relative: it splits x = m·2^e with
// m in [√½, √2) and sums the series log m = 2·atanh((m−1)/(m+1)). Pure
// arithmetic, so its results do not depend on the machine's log.
func fastLog(x float64) float64 {
	b := math.Float64bits(x)
	e := int64(b>>52&0x7ff) - 1023
	if e == -1023 || e == 1024 {
		return math.Log(x) // zero, subnormal, Inf or NaN
	}
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52)
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	f := (m - 1) / (m + 1)
	f2 := f * f
	p := 1.0 / 13
	p = p*f2 + 1.0/11
	p = p*f2 + 1.0/9
	p = p*f2 + 1.0/7
	p = p*f2 + 1.0/5
	p = p*f2 + 1.0/3
	p = p*f2 + 1
	return 2*f*p + float64(e)*math.Ln2
}
