//go:build !linux

package ioformat

import "os"

// kernelCopy copies nothing: only Linux has copy_file_range(2), and the
// caller copies the bytes itself.
func kernelCopy(dst, src *os.File, off, n int64) (copied int64, ok bool) { return 0, false }
