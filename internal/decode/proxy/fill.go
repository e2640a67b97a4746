package proxy

import (
	"strings"

	"github.com/spot-hunt/spot/internal/record"
)

// Filler fills the columns that every source of proxy records derives the
// same way, for the decoders of other logs of web requests (Zeek's
// http.log, Suricata's http events).
type Filler struct{ clk clock }

// URL fills host, urischeme, uriport, uripath, uriquery and uriextension
// from a request's Host header and its URI (origin form, or absolute as a
// proxy receives it); port, the server's port, stands when the URI and the
// Host header name none. Requests these logs see are cleartext: the scheme
// is http unless the URI says otherwise.
func (f *Filler) URL(r *record.Proxy, host, uri, port string) {
	p := splitURL([]byte(uri), 0, len(uri))
	sub := func(s [2]int) string { return uri[s[0]:s[1]] }
	hostPort := ""
	if c := strings.LastIndexByte(host, ':'); c >= 0 && !strings.HasSuffix(host, "]") && isPort([]byte(host[c+1:])) {
		host, hostPort = host[:c], host[c+1:]
	}
	if p.host[1] > p.host[0] {
		host = sub(p.host)
	}
	r.Host = host
	r.URIScheme = sub(p.scheme)
	if r.URIScheme == "" {
		r.URIScheme = "http"
	}
	r.URIPath, r.URIQuery = sub(p.path), sub(p.query)
	switch {
	case p.port[1] > p.port[0]:
		r.URIPort = sub(p.port)
	case hostPort != "":
		r.URIPort = hostPort
	case port != "":
		r.URIPort = port
	default:
		r.URIPort = defaultPort(r.URIScheme)
	}
	r.URIExtension = extensionOf(r.URIPath)
}

// Finish fills "-" for absent strings, fulluri, and the time columns from
// tsNs (nanoseconds since the epoch).
func (f *Filler) Finish(r *record.Proxy, tsNs int64) {
	dashEmpty(r)
	parts, n := spotURI(r.Host, r.URIPath, r.URIQuery)
	r.FullURI = strings.Join(parts[:n], "")
	sec := floorDiv(tsNs, 1e9)
	f.clk.set(r, sec, tsNs-sec*1e9)
}

// dashEmpty writes "-" in the string columns left empty, as proxies log
// an absent value.
func dashEmpty(r *record.Proxy) {
	for _, p := range [...]*string{&r.ClientIP, &r.Host, &r.ReqMethod, &r.UserAgent, &r.ResContType,
		&r.Username, &r.AuthGroup, &r.ExceptionID, &r.FilterResult, &r.WebCat, &r.Referer, &r.RespCode,
		&r.Action, &r.URIScheme, &r.URIPort, &r.URIPath, &r.URIQuery, &r.URIExtension, &r.ServerIP,
		&r.VirusID, &r.BCAppName, &r.BCAppOper} {
		if *p == "" {
			*p = "-"
		}
	}
}

// spotURI gives the n parts whose concatenation is Apache Spot's fulluri:
// host + path + query, the path and query used only when longer than one
// character (a lone "-" or "/" is dropped). The parts come back in an array
// rather than joined through a callback, which would cost two allocations
// a record on the decoders' hot path.
func spotURI(host, path, query string) (parts [3]string, n int) {
	parts[0], n = host, 1
	if len(path) > 1 {
		parts[n], n = path, n+1
	}
	if len(query) > 1 {
		parts[n], n = query, n+1
	}
	return parts, n
}
