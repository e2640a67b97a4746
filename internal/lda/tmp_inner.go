package lda

func SetInner(n int, mix float64) { innerIters = n; initMix = mix }
