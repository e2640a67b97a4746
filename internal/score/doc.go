// Package score is the score stage: it reads events (or featurized events)
// and a model from spot train and writes each event scored and explained.
// An event's route reads downward in Run: featurize with the model's
// settings, then, for the fused method, the detectors (package detect, a
// first pass over the inputs, which Rewind lets it read twice), then the
// topic model's score (lda.Scorer) and the fused score (Fuse), then the
// writer; flows from Parquet to Parquet go column by column (package
// columnar). The detectors' pass reads Parquet column by column too,
// straight into the detectors' events (ioformat.PairReader, the strings
// lent while the parts observe them), and other formats as records.
//
// The methods: fused ranks by the detectors' evidence first and Apache
// Spot's score within it; spot is Apache Spot's score exactly; population,
// peer and hybrid are the topic model's variants (lda.Method).
//
// Every path counts the events whose words and hosts the model knows
// (Stats.KnownWords, KnownHosts: on the goroutine that scores, or per row
// group in the columnar workers, summed at the end), so that a model of
// other traffic, which scores every event 0, says so (Stats.Unfamiliar).
//
// Departure from DESIGN.md's layout: the topic model's scoring (Apache
// Spot's Σθφ and its variants) lives in package lda beside the model it
// reads, as lda.Scorer, so that the columnar hot path can use it without
// depending on this package, which drives both.
package score
