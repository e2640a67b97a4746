// Package detect holds spot's detectors: streaming aggregations over events,
// keyed by a subject (a client and registrable domain, a source and
// destination pair, a host), that judge each subject with a score from 0
// (nothing) to 1 (certain) and say why in words and figures.
//
// Apache Spot's topic model asks whether an event is rare for its own host,
// so a host that mostly tunnels, beacons or scans finds that normal. The
// detectors ask what hunters ask instead, each in its own file:
//
//   - dns-tunnel (dnstunnel.go): per (client, registrable domain) and per
//     registrable domain over all clients, the information carried by the
//     distinct query names (Paxson et al., USENIX Security 2013), with the
//     qtype mix, NXDOMAIN share, label lengths and answer sizes as evidence;
//   - beacon (beacon.go): regular inter-arrival times (RITA v5's timestamp
//     score: Bowley skew and MAD of the gaps), sizes and coverage of the
//     window, per (source, destination, port) for flows, per (client, name)
//     and (client, domain) for DNS and per (client, host) for proxy logs;
//   - scan (scan.go): fan-out of unanswered connections per source: hosts
//     per port and ports per host (Zeek's and Slips' thresholds);
//   - exfil and long-conn (exfil.go): bytes sent per pair far above the
//     pair's host's and its peers' norm, and total connection time per pair;
//   - brute-force (bruteforce.go): many short connections to a login service
//     (SSH, RDP, databases, ...), or at one a second or faster to any;
//   - context (context.go, contacts.go): prevalence of a domain, name or
//     destination across clients, and, for DNS given flow records of the
//     same traffic (Contacts, --contacts), whether a client contacted the
//     addresses its names resolved to: modifiers of the others' scores,
//     never findings of their own;
//   - rare-agent (proxy.go): user agents only one or two clients send;
//   - host (host.go) and lookups (lookups.go): verdicts of flows that are
//     no subject's own: a host's other flows, and, given the DNS records
//     of the same traffic (Lookups, score --lookups), the lookups that led
//     to a finding, which share its verdict.
//
// Detectors see every event once (Observe), then judge every subject
// (Finish), then tell for any event the strongest verdict on its subjects
// (Explain): scoring reads its input twice. State is bounded: each table
// keeps at most a documented number of subjects (Limits), dropping the
// least active when full (lossy counting, so the heavy hitters stay) and
// saying so once on stderr; once full, the flow tables let a new subject
// in only at its second event within a window (a doorkeeper, table.go), so
// that a flood of one-off pairs neither evicts nor costs what a kept
// subject does; distinct names are counted exactly up to a cap
// and by deterministic hash sampling above it. Every state merges exactly
// with the state of another shard of the same data (Merge), so a sharded
// run finds what one process finds, as long as no table overflowed.
//
// A subject costs no allocation of its own (table.go): most subjects of a
// busy network are seen once or twice, and with a million of them the
// detectors' cost is the memory they touch. Flows and DNS messages are
// observed on two goroutines (FlowParts, DNSParts: each keeps the subjects
// whose hash falls to it, with half the limit, and the halves join into
// one set), batches of them at a time so that a batch's memory loads
// overlap. On 10M flows of as many pairs (the table full ten times over),
// spot detect takes 2.4 s and 350 MB on this project's 2-core machine; on
// 5.1M DNS records, 2.3 s.
//
// Scores are mapped from evidence by published defaults (Paxson's 4 kB a day,
// RITA's buckets and modifiers, Zeek's and Slips' scan thresholds), not
// learned from evaluation data; each detector's file says which and where
// spot departs from them.
package detect
