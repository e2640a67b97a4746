// Package atomicfile writes files that appear at their path only when
// complete, and leaves nothing behind otherwise, however the process ends.
//
// On Linux a file being written has no name at all (O_TMPFILE): if the
// process panics, runs out of memory or is killed, the kernel frees it, and
// no ".out.tmp-*" is left in the output's folder. Commit links it under a
// temporary name and renames that onto the path, under a lock that Freeze
// (called before a forced exit) takes for good. Elsewhere, or on file
// systems without O_TMPFILE, the file is created under a temporary name
// that Abort and Freeze remove. Scratch files (spools) are unlinked as soon
// as they are created.
package atomicfile
