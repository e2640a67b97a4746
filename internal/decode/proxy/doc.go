// Package proxy decodes web-proxy access logs into record.Proxy: Blue Coat
// ProxySG bcreportermain_v1 (the layout Apache Spot read), any W3C extended
// log whose #Fields: header names its columns (ProxySG, IIS, Squid ELFF
// logformats), Squid's native access.log, and the NCSA common and combined
// formats (Squid, Apache, nginx).
//
// Conventions shared by every format, so that one request logged in several
// formats decodes to the same values:
//
//   - Times are UTC. Squid native logs Unix time; NCSA logs carry their
//     offset; W3C and Blue Coat times are taken in Options.Location (UTC by
//     default, as the W3C draft says) unless a #GMT-Offset: directive says
//     otherwise. p_date/p_time are the second's date and time, y/m/d/h its
//     partition.
//   - A request URL is split into scheme, host, port, path, query (with its
//     leading '?', as ProxySG writes cs-uri-query) and extension (the last
//     path segment's, without the dot). The port defaults from the scheme.
//     fulluri is Spot's host + path + query, path and query used only when
//     longer than one character.
//   - Absent strings are "-"; absent numbers 0. HTTP status "000" is "0".
//   - time-taken is milliseconds.
//
// Parsing is byte-level (no regexp); a record's strings are slices of one
// arena per ~1 MiB of log, so decoding allocates almost nothing per line
// (and nothing at all once a caller's batches go round: ReuseBatches).
// Lines that cannot be decoded are reported (file and line) and skipped.
package proxy
