// Package train gathers the document-by-word count matrix that spot train
// fits its topic model on (lda.Train), from any inputs of one kind: events,
// featurized events, scored events or count tables (NDJSON or Parquet, any
// number of shards or partitions), plus analyst feedback.
//
// Count tables on files, sorted as featurize --counts writes them and
// without feedback, are merged in order straight into the corpus
// (feature.MergeCounts into lda.SortedBuilder): memory is the corpus, 12
// bytes a pair, however many shards a day has. Their readers lend their
// strings (ioformat.LendStrings), and the merge and the builder clone only
// the few they keep: copying every row's strings was a quarter of reading's
// CPU and, as garbage, 160 MB of the peak memory. Other inputs, or tables out
// of order, are counted first (feature.Counter), then added in order. Both
// ways give the same corpus, so the same model file.
//
// Proxy events wait until every line and feedback row is in: their words
// need the user agents counted over the whole training set, as Apache Spot
// counted them.
//
// DESIGN.md's layout has no train package: this logic lived in
// internal/cli/train.go, which the design wants thin; it needs lda and
// columnar, which feature must not import, hence a package of its own.
package train
