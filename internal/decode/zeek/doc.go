// Package zeek reads Zeek's conn.log, dns.log and http.log into flow, DNS
// and proxy records, in both of Zeek's writers' formats: TSV, whose
// #separator, #set_separator, #empty_field, #unset_field, #path, #fields
// and #types headers it follows wherever they change (several logs
// concatenated, zcat of rotated logs), and JSON lines (dotted keys such as
// id.orig_h, or a nested id object; ts as epoch seconds or ISO 8601).
// Columns it has no use for, extra ones (the labels of Slips' .labeled logs)
// included, are passed over. Zeek's escapes (\x09) are undone; "-" (unset)
// leaves a column at its zero value, "(empty)" is an empty set or string.
// A row that cannot be read (a time that is not one, a count that is not a
// number, a TSV row before any #fields header) is skipped, counted and
// named by its line; rows of other logs (ssl.log, ...) are counted and
// passed over.
//
// Mapping says which field fills which column of each kind of record, and
// what is converted on the way ("spot help schema flow|dns|proxy zeek" prints it).
//
// Each record's event id hashes the input's base name, the row's line
// number and the line.
package zeek
