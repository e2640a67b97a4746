// Package suricata reads Suricata's EVE JSON log (eve.json) into flow, DNS
// and proxy records: flow and netflow events into flows, dns events into
// DNS records, http events into proxy records. One log mixes every event
// type; each decoder takes its own and counts the others, by event_type,
// as passed over (alert, anomaly, tls, fileinfo, stats, ...). A line that
// is not a JSON object, or an event that cannot be read (a time that is
// not one, a count that is not a number, an unknown rrtype name) is
// skipped, counted and named by its line. Lines are read with a lazy
// scanner (package jsonscan) that builds no value for what is not read, and
// an event of a type the decoder does not take is passed over as soon as
// its event_type is read: the rest of its line is not read, so a line cut
// short after its event_type counts as passed over, not as skipped, by the
// decoders that do not take its type (the one that does skips it).
//
// Mapping says which field fills which column of each kind of record, and
// what is converted on the way ("spot help schema flow|dns|proxy suricata" prints it).
//
// Each record's event id hashes the input's base name, the event's line
// number and the line (a version 1 response: its first answer's).
package suricata
