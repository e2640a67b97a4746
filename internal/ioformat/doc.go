// Package ioformat reads and writes spot's record streams: NDJSON and
// Parquet in, NDJSON, Parquet and CSV out.
//
// Inputs are sniffed (gzip and zstd are unwrapped, "PAR1" means Parquet, "{"
// means NDJSON) and carry their record kind and stream shape (record.Meta).
// Outputs go to a temporary file that is renamed into place by Close, so a
// failed or interrupted run never leaves a truncated file behind (a device
// or a named pipe is written in place). Records of a flat type are written
// as Parquet column by column straight from the records (flatWriter); the
// others through parquet-go's GenericWriter.
package ioformat
