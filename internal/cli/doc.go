// Package cli is spot's command line: one cobra command per file, the shared
// input/output flag bundles, help topics and the mapping of errors to exit
// codes. Only this package touches the process's standard streams.
package cli
