package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
)

// The page's script, style and map, embedded in the binary: the report
// needs nothing but itself. assets/SOURCES.md says where the map is from.
var (
	//go:embed assets/report.js
	reportJS string
	//go:embed assets/report.css
	reportCSS string
	//go:embed assets/land.txt
	landPath string
)

// The page. Its Content-Security-Policy allows only its own script and
// style (by hash) and images from data: URLs, and forbids every fetch, so
// the page loads nothing from the network and no injected markup could run
// even if the script let it in (it sets every value as text).
var pageTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
{{.CSP}}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="spot report">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header><h1 id="title">{{.Title}}</h1><p id="subtitle"></p></header>
<main id="app"><noscript><p>This report draws itself with JavaScript; the same data is in spot report -f json.</p></noscript></main>
<footer id="generated"></footer>
<script type="application/json" id="data">{{.Data}}</script>
{{if .Land}}<script type="text/plain" id="land">{{.Land}}</script>
{{end}}<script>{{.JS}}</script>
</body>
</html>
`))

type pageData struct {
	Title string
	CSP   template.HTML
	CSS   template.CSS
	JS    template.JS
	Data  template.JS
	Land  string
}

// MaxHTMLBytes is the most an HTML report weighs. A page that would weigh
// more (long DNS names, URIs and user agents in thousands of rows) leaves
// out the list's last rows, keeping at least minRowsKept, then the last
// storyboards, then more rows, and says so (Summary.RowsCut, HostsCut).
const MaxHTMLBytes = 5_000_000

const minRowsKept = 500

// WriteHTML writes the report as one self-contained HTML page of at most
// MaxHTMLBytes; the page and Summary say what it left out.
func (r *Report) WriteHTML(w io.Writer) error {
	page, data, err := r.page()
	if err != nil {
		return err
	}
	if len(page) > MaxHTMLBytes {
		// The rest of the page is what it is; the data must fit beside it,
		// with room for the two counts.
		fit, err := r.fit(MaxHTMLBytes - (len(page) - data) - 64)
		if err != nil {
			return err
		}
		if page, _, err = fit.page(); err != nil {
			return err
		}
		r.Summary.RowsCut, r.Summary.HostsCut = fit.Summary.RowsCut, fit.Summary.HostsCut
	}
	_, err = w.Write(page)
	return err
}

// fit returns a copy of r whose JSON is at most budget bytes, leaving out
// rows and storyboards from the end as WriteHTML says.
func (r *Report) fit(budget int) (*Report, error) {
	size := func(v any) (int, error) {
		b, err := json.Marshal(v)
		return len(b) + 1, err // and a comma
	}
	total, err := size(r)
	if err != nil {
		return nil, err
	}
	c := *r
	cutRows := func(keep int) error {
		for total > budget && len(c.Rows) > keep {
			n, err := size(c.Rows[len(c.Rows)-1])
			if err != nil {
				return err
			}
			total -= n
			c.Rows = c.Rows[:len(c.Rows)-1]
		}
		return nil
	}
	if err := cutRows(minRowsKept); err != nil {
		return nil, err
	}
	for total > budget && len(c.Hosts) > 0 {
		n, err := size(c.Hosts[len(c.Hosts)-1])
		if err != nil {
			return nil, err
		}
		total -= n
		c.Hosts = c.Hosts[:len(c.Hosts)-1]
	}
	if err := cutRows(0); err != nil {
		return nil, err
	}
	c.Summary.RowsCut, c.Summary.HostsCut = len(r.Rows)-len(c.Rows), len(r.Hosts)-len(c.Hosts)
	return &c, nil
}

// page renders the page, and says how much of it is the data.
func (r *Report) page() (page []byte, data int, err error) {
	b, err := json.Marshal(r) // escapes <, > and & as \u003c...: no </script> can appear
	if err != nil {
		return nil, 0, err
	}
	d := pageData{
		Title: r.titleOr(),
		CSP: template.HTML(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ` + cspHash(reportJS) +
			`; style-src ` + cspHash(reportCSS) + `; img-src data:; base-uri 'none'; form-action 'none'">`),
		CSS:  template.CSS(reportCSS),
		JS:   template.JS(reportJS),
		Data: template.JS(b),
	}
	if r.HasGeo {
		d.Land = landPath
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(b), nil
}

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}
