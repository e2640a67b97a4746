// Package record defines the records that flow between spot's stages: flow,
// dns and proxy events with Apache Spot's Hive column names and types, the
// featurized, count and scored forms built from them, and the schema
// documentation printed by "spot help schema".
//
// Departure from DESIGN.md's DNS columns: records also carry client_port,
// the client's port (a query's source port, a response's destination
// port), so that a lookup can be joined to its flow by client address and
// port, resolver and time (spot score --lookups). It is added, not
// renamed; Parquet written before it reads with the port 0 (unknown).
package record
