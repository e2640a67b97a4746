package detect

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = uintptr(unix.Getpagesize())

// populate has the kernel map the pages of s's memory in one call
// (MADV_POPULATE_WRITE, Linux 5.14), where a table's first writes to new
// states would fault them in one at a time: on 10M flows of as many pairs
// the states' page faults were a third of the detectors' CPU time, and
// populating them first halves that. Older kernels refuse it, and the
// pages fault in as before.
func populate[T any](s []T) []T {
	var z T
	base := unsafe.Pointer(unsafe.SliceData(s))
	p := uintptr(base)
	lo, hi := (p+pageSize-1)&^(pageSize-1), (p+uintptr(cap(s))*unsafe.Sizeof(z))&^(pageSize-1)
	if hi > lo {
		unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(base, lo-p)), hi-lo), unix.MADV_POPULATE_WRITE)
	}
	return s
}
