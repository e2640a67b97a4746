// Package ioformat reads and writes spot's record streams: NDJSON and
// Parquet in, NDJSON, Parquet and CSV out.
//
// Inputs are sniffed (gzip and zstd are unwrapped, "PAR1" means Parquet, "{"
// means NDJSON) and carry their record kind and stream shape (record.Meta).
// Outputs go to a temporary file that is renamed into place by Close, so a
// failed or interrupted run never leaves a truncated file behind.
package ioformat
