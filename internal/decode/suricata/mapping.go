package suricata

// Mapping says, for each kind of record (flow, dns, proxy), which field of
// Suricata's EVE events fills which column, and what is converted on the way
// ("spot help schema KIND suricata" prints it).
var Mapping = map[string]string{
	"flow": `flow and netflow events to flow records (source "suricata"):

  treceived ... tdur, tstart_ns, tend_ns  flow.start, flow.end (netflow.start, netflow.end)
  sip, sport, dip, dport                  src_ip, src_port, dest_ip, dest_port; ICMP: sport 0,
                                          dport icmp_type*256+icmp_code, as nfdump
  proto                                   nfdump's name of proto (IPv6-ICMP is ICMP6; "047" is GRE)
  flag                                    tcp.tcp_flags (hex), nfdump style; "........" but for TCP
  ipkt, ibyt, opkt, obyt                  flow: pkts_toserver, bytes_toserver, pkts_toclient,
                                          bytes_toclient. netflow (one direction an event, as
                                          NetFlow exports it): pkts, bytes, and 0, 0
  fwd, stos, input, output, sas, das,     no source: 0 (rip empty)
  dtos, dir, rip, sampling

Suricata counts the bytes of whole packets as captured, link-layer header
included (14 bytes a packet on Ethernet), where NetFlow and Zeek's
*_ip_bytes count IP bytes: its byte counts are kept as logged.
`,
	"dns": `dns events to DNS records. EVE has had three layouts, all read:
version 1 (Suricata 4 and before) logs a response as one event per
answer record ("type":"answer", rrname/rrtype/ttl/rdata of that record;
a failed lookup as one event with its rcode); the consecutive events of
one response (same flow_id, id and ports) make one record, named by the
query event that came before it when it did (else by the first answer).
Version 2 (Suricata 5 to 7) logs a response as one event with the
query's rrname and rrtype and its answers detailed ("answers") or
grouped by type ("grouped"). Version 3 (Suricata 8) logs "request" and
"response" events with the questions in "queries". A response record is
written per response; a query record per query, only when queries are
asked for, as for captures:

  frame_time, unix_tstamp, ts_ns  timestamp
  ip_dst, ip_src                  a response: client and server; a query: server and client. The
                                  client is the source of a query; of a response, the source in
                                  version 2 (flow direction) and the destination in versions 1 and
                                  3 (packet direction), unless the ports say otherwise (the end on
                                  port 53, 5353, 5355 or 853 alone is the server)
  client_port                     the client's end's port: src_port or dest_port, as above
  dns_qry_name, dns_qry_type      rrname, rrtype (queries[0] in version 3), the type's number
  dns_qry_rcode                   rcode's number (NXDOMAIN is 3)
  dns_id, transport               id, proto in lower case
  answers, ancount                rdata of each answer record that has one, in order (grouped:
                                  type by type); ancount counts every answer record
  dns_a                           the first A among the answers, else the first AAAA
  ttl                             the first answer's ttl (grouped answers have none: 0)
  dns_qry_class                   no source (EVE logs no class): empty
  frame_len, frame                no source: 0
`,
	"proxy": `http events to proxy records:

  p_date, p_time, y, m, d, h, ts_ns  timestamp (UTC)
  clientip, serverip                 src_ip, dest_ip (EVE logs http in the flow's direction)
  host, uripath, uriquery            http.hostname, http.url split at '?' (an absolute url gives the
                                     host, scheme and port too)
  urischeme, uriport, uriextension   http unless the url names one; the url's port, else http_port,
                                     else dest_port; the path's extension
  reqmethod, useragent, referer      http_method, http_user_agent, http_refer
  respcode, resconttype, scbytes     status, http_content_type, length (the response body)
  fulluri                            host + path + query, Spot's rule
  csbytes, duration, username,       no source: 0 or "-"
  authgroup, exceptionid, filterresult, webcat, action, virusid, bcappname, bcappoper
`,
}
