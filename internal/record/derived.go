package record

// Featurized events are events plus the word(s) and document(s) that
// "spot featurize" made of them. A flow has two documents, its source and
// destination addresses, and a word for each side.

// FeaturizedFlow is a flow with its source- and destination-side words.
type FeaturizedFlow struct {
	Flow
	SrcWord string `parquet:"src_word" json:"src_word" doc:"word of the flow as seen by its source address (the sip document)"`
	DstWord string `parquet:"dst_word" json:"dst_word" doc:"word of the flow as seen by its destination address (the dip document)"`
}

// FeaturizedDNS is a DNS message with its document (the client) and word.
type FeaturizedDNS struct {
	DNS
	Doc  string `parquet:"doc" json:"doc" doc:"document: the client address (ip_dst of a response, ip_src of a query)"`
	Word string `parquet:"word" json:"word" doc:"word: top-domain class, lengths, entropy, qtype and rcode bins"`
}

// FeaturizedProxy is a proxy log line with its document (the client) and word.
type FeaturizedProxy struct {
	Proxy
	Doc  string `parquet:"doc" json:"doc" doc:"document: the client address"`
	Word string `parquet:"word" json:"word" doc:"word: method, URI entropy, content type, user-agent rarity and status bins"`
}

// Count is one row of an aggregated (doc, word, count) table, the form in
// which shards are merged for training. Its kind travels in the stream's
// metadata.
type Count struct {
	Doc   string `parquet:"doc" json:"doc" doc:"document (an address)"`
	Word  string `parquet:"word" json:"word" doc:"word"`
	Count int64  `parquet:"count" json:"count" doc:"number of events of the document with the word"`
}

// Explanation says why a scored event ranks where it does: its topic-model
// score and, for methods that use detectors, the strongest detector's
// verdict on the event's subjects.
type Explanation struct {
	Score          float64 `parquet:"score" json:"score" doc:"the event's score: low means suspicious; for flows the minimum of the two sides"`
	Method         string  `parquet:"method" json:"method" doc:"scoring method, e.g. spot (Apache Spot's sum over topics of P(topic|doc)*P(word|topic)) or fused (detectors, then the topic model)"`
	TopTopic       int32   `parquet:"top_topic" json:"top_topic" doc:"topic that explains the event best (for flows, on the lower-scoring side)"`
	TopTopicWeight float64 `parquet:"top_topic_weight" json:"top_topic_weight" doc:"that topic's share of the topic-model score"`
	LDAScore       float64 `parquet:"lda_score" json:"lda_score" doc:"the topic-model score (Apache Spot's, for flows the lower side's); equal to score under --method spot"`
	Detector       string  `parquet:"detector" json:"detector" doc:"the strongest detector on the event's subjects (dns-tunnel, beacon, scan, exfil, ...); empty when none found anything"`
	DetectorScore  float64 `parquet:"detector_score" json:"detector_score" doc:"that detector's score, 0 (nothing) to 1 (certain)"`
	Subject        string  `parquet:"subject" json:"subject" doc:"what the detector judged, e.g. 10.0.0.5 > x.example (a client and registrable domain)"`
	Evidence       string  `parquet:"evidence" json:"evidence" doc:"why, in words and figures, e.g. 3,412 distinct names under x.example, ~21 kB in 1 h, 92% TXT"`
}

// ScoredFlow is a featurized flow with the score of each side.
type ScoredFlow struct {
	FeaturizedFlow
	SrcScore float64 `parquet:"src_score" json:"src_score" doc:"score of src_word under the sip document's topics"`
	DstScore float64 `parquet:"dst_score" json:"dst_score" doc:"score of dst_word under the dip document's topics"`
	Explanation
}

// ScoredDNS is a featurized DNS message with its score.
type ScoredDNS struct {
	FeaturizedDNS
	Explanation
}

// ScoredProxy is a featurized proxy log line with its score.
type ScoredProxy struct {
	FeaturizedProxy
	Explanation
}

// Meta implements Record.
func (FeaturizedFlow) Meta() Meta { return Meta{KindFlow, StreamFeaturized} }

// Meta implements Record.
func (FeaturizedDNS) Meta() Meta { return Meta{KindDNS, StreamFeaturized} }

// Meta implements Record.
func (FeaturizedProxy) Meta() Meta { return Meta{KindProxy, StreamFeaturized} }

// Meta implements Record.
func (ScoredFlow) Meta() Meta { return Meta{KindFlow, StreamScored} }

// Meta implements Record.
func (ScoredDNS) Meta() Meta { return Meta{KindDNS, StreamScored} }

// Meta implements Record.
func (ScoredProxy) Meta() Meta { return Meta{KindProxy, StreamScored} }
