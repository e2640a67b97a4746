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
var page = template.Must(template.New("report").Parse(`<!doctype html>
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

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	data, err := json.Marshal(r) // escapes <, > and & as \u003c...: no </script> can appear
	if err != nil {
		return err
	}
	d := pageData{
		Title: r.titleOr(),
		CSP: template.HTML(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ` + cspHash(reportJS) +
			`; style-src ` + cspHash(reportCSS) + `; img-src data:; base-uri 'none'; form-action 'none'">`),
		CSS:  template.CSS(reportCSS),
		JS:   template.JS(reportJS),
		Data: template.JS(data),
	}
	if r.HasGeo {
		d.Land = landPath
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}
