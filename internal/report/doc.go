// Package report turns a scored, filtered list into what an analyst reads:
// Apache Spot's operational analytics without its cluster. Build reads the
// scored events (and the detectors' findings, and raw events for context),
// keeps the top rows, enriches them (package enrich), and gathers a
// storyboard for each suspicious host (its timeline, its peers by
// direction, its top connections, names or URIs, its findings), chord data
// and a per-minute ingest summary. Table draws the list for a terminal
// (tablewriter, fitted to the width), WriteJSON writes the documents, HTML
// writes one self-contained page (scripts and styles embedded in the binary;
// the page loads nothing; it stays under MaxHTMLBytes, leaving out the
// list's last rows and says so), and WriteFeedback writes the rows an
// analyst should judge as a feedback file to fill in. Options.PerSubject
// caps the rows of one subject (filter.CappedTopN), so that a table shows
// more of the day than one scan.
//
// Memory is bounded by what is shown: the top rows, and per storyboard at
// most 4096 peers and items and 1500 time bins (wider bins as a timeline
// grows), whatever the context holds. A host with more peers than that
// is marked capped and the rest are counted, not named.
package report
