// Package hugepage asks Linux to back a large array with transparent huge
// pages (2 MB) where the system gives them only to those who ask
// (/sys/kernel/mm/transparent_hugepage/enabled set to madvise, as on the
// bench machine); the Go runtime does not ask for its heap.
//
// A process pays a page fault for every page of new memory it touches. On
// the bench machine, a virtual machine, a fault costs about 4 µs whatever
// the page's size: filling 180 MB of new memory in 4 KB pages took 0.7 s
// of CPU (user and system), in 2 MB pages 0.03 s. spot train fills its
// corpus so (12 bytes a pair, 180 MB for the bench day).
//
// Elsewhere (other systems, THP off or always) the advice is a no-op.
package hugepage
