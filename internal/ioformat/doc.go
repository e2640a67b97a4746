// Package ioformat reads and writes spot's record streams: NDJSON and
// Parquet in, NDJSON, Parquet and CSV out.
//
// Inputs are sniffed (gzip and zstd are unwrapped, "PAR1" means Parquet, "{"
// means NDJSON) and carry their record kind and stream shape (record.Meta).
// Outputs go to a file that appears at its path only when Close commits it
// (package atomicfile), so a failed, interrupted or killed run never leaves
// a truncated or temporary file behind (a device or a named pipe is written
// in place); Parquet read from a pipe is spooled to a file without a name.
// Records of a flat type are written as Parquet column by column straight
// from the records (flatWriter); the others through parquet-go's
// GenericWriter. flatWriter chooses each chunk's encodings by its values,
// where parquet-go takes them from the struct tags: integers and untagged
// strings whose values repeat are RLE_DICTIONARY, other integers
// DELTA_BINARY_PACKED, and pages Snappy would not shrink, or would shrink
// at too dear a price (addresses), are stored uncompressed (the page
// header's is_compressed flag); all standard, and read by parquet-go,
// DuckDB and Arrow. A decoded NetFlow day takes a third less of decode's
// CPU time (see flatWriter). Parquet is read column by column into records, or into a
// stage's own types by their parquet tags (PairReader). Column chunks a
// stage passes through unchanged (RawOutput.CopyFrom) are copied by the
// kernel (copy_file_range) into an output file of its own on Linux, never
// through the process; to a pipe or a compressed stream, through the buffer.
//
// Hostile input costs bounded memory: an NDJSON line is read in a doubling
// buffer up to MaxRecordSize, past which it is skipped in constant memory;
// a Parquet footer is checked before parquet-go reads it (every column
// chunk and page index inside the file, together no larger than it), so a
// footer listing one chunk 20,001 times, or a chunk of 2^40 bytes, is
// refused in words rather than read into gigabytes.
package ioformat
