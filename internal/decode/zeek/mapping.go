package zeek

// Mapping says, for each kind of record (flow, dns, proxy), which field of
// Zeek's logs fills which column, and what is converted on the way
// ("spot help schema KIND zeek" prints it).
var Mapping = map[string]string{
	"flow": `conn.log to flow records (source "zeek"):

  treceived ... tdur, tstart_ns, tend_ns  ts; ts + duration
  sip, sport, dip, dport                  id.orig_h, id.orig_p, id.resp_h, id.resp_p; ICMP: sport 0,
                                          dport type*256+code (Zeek logs type and code as ports), as nfdump
  proto                                   nfdump's name of ip_proto when the log has it, else of proto
                                          (icmp over IPv6 is ICMP6); empty for unknown_transport
  flag                                    the TCP flags history implies, nfdump style, both sides OR'ed:
                                          S SYN, H SYN+ACK, A ACK, D data (sent with ACK), F FIN, R RST;
                                          "........" for other protocols
  ipkt, ibyt, opkt, obyt                  orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes (IP bytes,
                                          as NetFlow counts them; orig_bytes is payload only)
  fwd, stos, input, output, sas, das,     no source: 0 (rip empty)
  dtos, dir, rip, sampling
`,
	"dns": `dns.log to DNS records (source rows: one per query/response pair). A
row that saw a response becomes a response record, the client (id.orig_h)
in ip_dst as in a response packet; a row that saw none becomes a query
record, written only when queries are asked for, as for captures:

  frame_time, unix_tstamp, ts_ns  ts (frame_time in tshark's form)
  ip_dst, ip_src                  client and server (a query: server and client)
  client_port                     id.orig_p
  dns_qry_name                    query
  dns_qry_class                   qclass as Spot writes it: 1 is 0x00000001
  dns_qry_type, dns_qry_rcode     qtype, rcode (numbers)
  dns_id, transport               trans_id, proto
  answers, ancount                answers, and how many; a TXT answer, which Zeek writes as
                                  "TXT <length> <string>" for each of its strings, as its strings
                                  joined, as tshark writes it
  dns_a                           the first IPv4 address among the answers, else the first IPv6
  ttl                             the first of TTLs, whole seconds
  frame_len, frame                no source: 0
`,
	"proxy": `http.log to proxy records:

  p_date, p_time, y, m, d, h, ts_ns  ts (UTC)
  clientip, serverip                 id.orig_h, id.resp_h
  host, uripath, uriquery            host (without a port), uri split at '?' (an absolute uri, as a
                                     proxy receives it, gives the host, scheme and port too)
  urischeme, uriport, uriextension   http unless the uri names one; the uri's port, else the Host
                                     header's, else id.resp_p; the path's extension
  reqmethod, useragent, referer      method, user_agent, referrer
  respcode, resconttype              status_code, the first of resp_mime_types (the type Zeek sniffed
                                     from the body, not the Content-Type header)
  scbytes, csbytes, username         response_body_len, request_body_len (bodies only), username
  fulluri                            host + path + query, Spot's rule
  duration, authgroup, exceptionid,  no source: 0 or "-"
  filterresult, webcat, action,
  virusid, bcappname, bcappoper
`,
}
