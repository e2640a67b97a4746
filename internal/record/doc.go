// Package record defines the records that flow between spot's stages: flow,
// dns and proxy events with Apache Spot's Hive column names and types, the
// featurized, count and scored forms built from them, and the schema
// documentation printed by "spot help schema".
package record
