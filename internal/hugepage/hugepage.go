package hugepage

import "unsafe"

// pageSize is the size of a transparent huge page on amd64 and arm64.
const pageSize = 2 << 20

// Make returns a slice of length 0 and capacity n whose whole huge pages
// are advised before anything touches them: appending to it faults them in
// 2 MB at a time.
func Make[T any](n int) []T {
	s := make([]T, 0, n)
	var zero T
	Advise(unsafe.Pointer(unsafe.SliceData(s)), uintptr(n)*unsafe.Sizeof(zero))
	return s
}

// Advise asks for huge pages for the whole huge pages of the n bytes at p.
// It is advice: it changes no byte, and failures are ignored.
func Advise(p unsafe.Pointer, n uintptr) {
	if p == nil || n < 2*pageSize {
		return
	}
	start := (uintptr(p) + pageSize - 1) &^ (pageSize - 1)
	end := (uintptr(p) + n) &^ (pageSize - 1)
	if end <= start {
		return
	}
	advise(unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start))
}
