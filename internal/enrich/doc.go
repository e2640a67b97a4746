// Package enrich adds what an analyst needs around a suspicious event, from
// files the user has, each optional: network context (a CSV of CIDR blocks,
// addresses or ranges with names, marked internal or external; Apache
// Spot's ipranges.csv reads as is), geolocation and autonomous systems
// (MaxMind-format .mmdb databases through oschwald/maxminddb-golang, and
// Spot's iploc.csv), reputation from local threat-intelligence lists
// (addresses, CIDR blocks, domains and URLs with Spot's levels -1..3), and
// IANA's names for DNS classes, types and rcodes, IP protocols and HTTP
// status codes (tables embedded from iana/, whose SOURCES.md gives each
// table's source and date).
//
// Spot's OA called web services for reputation (McAfee GTI, Facebook
// ThreatExchange); spot reads lists on disk and never reaches the network.
package enrich
