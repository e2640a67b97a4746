// Package partition lays record streams out as Hive-style partitions,
// ROOT/y=YYYY/m=MM/d=DD[/h=HH]/NAME.parquet, the layout Apache Spot's Hive
// tables used and Spark, Trino and DuckDB read as one table, and finds the
// files of such a tree again, so that every stage reads a folder or a glob
// of partitions as one stream.
//
// A decoder writes one file per input and partition, named after the input
// (Name), so a rerun over the same input replaces its files rather than
// adding to them. Beside the partitions, ROOT/_inputs/NAME.files lists the
// files an input's last run wrote: a rerun removes those it no longer
// writes (an input fixed after a corrupt run may span other hours). Names
// starting with "." (temporary files) or "_" are not records: Files skips
// them, as Hive and Spark do.
package partition
