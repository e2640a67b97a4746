package proxy

import (
	"bytes"

	"github.com/spot-hunt/spot/internal/record"
)

// urlParts are spans (offsets into a line) of a request URL's parts; an
// empty span is an absent part.
type urlParts struct {
	scheme, host, port, path, query [2]int
}

// splitURL splits l[a:b], a URL as proxies log it: absolute
// ("http://host:port/path?query"), authority only ("host:443", CONNECT),
// origin form ("/path?query", web servers), or scheme-less
// ("host/path"). Anything else (Squid's "error:..." pseudo-URLs) is kept
// whole as the path.
func splitURL(l []byte, a, b int) (p urlParts) {
	u := l[a:b]
	if len(u) == 0 || (len(u) == 1 && u[0] == '-') {
		return p
	}
	if u[0] == '/' {
		splitPathQuery(l, a, b, &p)
		return p
	}
	auth := a
	if k := schemeEnd(u); k > 0 {
		p.scheme = [2]int{a, a + k}
		auth = a + k + 3
	} else if bytes.IndexByte(u, '/') < 0 && bytes.IndexByte(u, '?') < 0 {
		// host:port (CONNECT) or a bare host; else an opaque pseudo-URL
		if c := bytes.LastIndexByte(u, ':'); c >= 0 && !isPort(u[c+1:]) && u[len(u)-1] != ']' {
			p.path = [2]int{a, b}
			return p
		}
	}
	end := auth
	for end < b && l[end] != '/' && l[end] != '?' && l[end] != '#' {
		end++
	}
	hostStart := auth
	if at := bytes.LastIndexByte(l[auth:end], '@'); at >= 0 {
		hostStart = auth + at + 1
	}
	hostEnd := end
	if hostStart < end && l[hostStart] == '[' { // [v6]:port
		if rb := bytes.IndexByte(l[hostStart:end], ']'); rb >= 0 {
			hostEnd = hostStart + rb + 1
			if hostEnd < end && l[hostEnd] == ':' {
				p.port = [2]int{hostEnd + 1, end}
			}
		}
	} else if c := bytes.LastIndexByte(l[hostStart:end], ':'); c >= 0 {
		hostEnd = hostStart + c
		p.port = [2]int{hostEnd + 1, end}
	}
	p.host = [2]int{hostStart, hostEnd}
	splitPathQuery(l, end, b, &p)
	return p
}

// schemeEnd returns the length of u's scheme when u starts with
// "scheme://", else 0.
func schemeEnd(u []byte) int {
	for i, c := range u {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			if len(u) >= i+3 && u[i+1] == '/' && u[i+2] == '/' {
				return i
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

func isPort(b []byte) bool {
	_, ok := atoi(b)
	return ok && len(b) <= 5
}

func splitPathQuery(l []byte, a, b int, p *urlParts) {
	if a >= b {
		return
	}
	if q := bytes.IndexByte(l[a:b], '?'); q >= 0 {
		p.path = [2]int{a, a + q}
		p.query = [2]int{a + q, b}
		return
	}
	p.path = [2]int{a, b}
}

// setURL fills r's URL columns from p (spans are absolute arena offsets).
// The port defaults from the scheme, the extension comes from the path.
func (d *Decoder) setURL(r *record.Proxy, p urlParts) {
	r.URIScheme = d.str(p.scheme[0], p.scheme[1])
	r.Host = d.str(p.host[0], p.host[1])
	r.URIPath = d.str(p.path[0], p.path[1])
	r.URIQuery = d.str(p.query[0], p.query[1])
	if p.port[1] > p.port[0] {
		r.URIPort = d.str(p.port[0], p.port[1])
	} else {
		r.URIPort = defaultPort(r.URIScheme)
	}
	r.URIExtension = d.extension(p.path[0], p.path[1])
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http", "HTTP", "ws":
		return "80"
	case "https", "HTTPS", "wss":
		return "443"
	case "ftp", "FTP":
		return "21"
	}
	return "-"
}

// extension is the file extension of the last segment of the path at arena
// offsets [a, b), without the dot, as Blue Coat's cs-uri-extension; "-"
// when there is none.
func (d *Decoder) extension(a, b int) string {
	p := d.arena[a:b]
	for i := len(p) - 1; i >= 0; i-- {
		switch p[i] {
		case '/', ':':
			return "-"
		case '.':
			if i == len(p)-1 || i == 0 || p[i-1] == '/' {
				return "-"
			}
			return d.str(a+i+1, b)
		}
	}
	return "-"
}
