package report

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/enrich/enrichtest"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"

	"context"
)

// proxyDay makes proxy requests from 8 clients, with hostile user agents
// and URIs.
func proxyDay(n int) (events []record.Proxy, scored []record.ScoredProxy) {
	r := rand.New(rand.NewPCG(5, 6))
	hosts := []string{"www.example.com", "news.example.org", "198.51.100.7", "static.example.net"}
	agents := []string{"Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", hostile[1], "python-requests/2.31"}
	for i := range n {
		ts := t0.Add(time.Duration(i) * 3 * time.Hour / time.Duration(n))
		host := hosts[r.IntN(len(hosts))]
		path := fmt.Sprintf("/p/%d", r.IntN(50))
		if i%53 == 7 {
			path = "/search?q=" + hostile[i%len(hostile)]
		}
		p := record.Proxy{PDate: ts.Format("2006-01-02"), PTime: ts.Format("15:04:05"), TsNs: ts.UnixNano(),
			ClientIP: fmt.Sprintf("10.1.0.%d", 20+r.IntN(8)), Host: host, ReqMethod: "GET", UserAgent: agents[r.IntN(len(agents))],
			ResContType: "text/html", RespCode: []string{"200", "404", "302"}[r.IntN(3)], FullURI: host + path,
			SCBytes: int64(r.IntN(50000)), CSBytes: 300, EID: int64(i + 1)}
		events = append(events, p)
		s := record.ScoredProxy{FeaturizedProxy: record.FeaturizedProxy{Proxy: p, Doc: p.ClientIP, Word: "1_9_GET_14_text_3_4_200"}}
		s.Score, s.Method = r.Float64()/100, "spot"
		scored = append(scored, s)
	}
	return
}

// The HTML reports open in headless Chromium (Debian's, driven by
// playwright-core: scripts/browser/check.mjs) without a console error or a
// single request beyond the file; charts, timelines, the chord diagram and
// the map are drawn; sorting and search work; hostile strings in names,
// URIs and user agents show as text and run nothing. SPOT_SCREENSHOT=PNG
// also saves a screenshot of the first page.
func TestHTMLInChromium(t *testing.T) {
	check, err := filepath.Abs("../../scripts/browser/check.mjs")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = append(missing, "/usr/bin/chromium (Debian's chromium)")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(check), "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "scripts/browser/node_modules (npm ci --prefix scripts/browser)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser check needs %s (.ci/run installs them)", strings.Join(missing, ", "))
		}
		t.Skipf("the browser check needs %s", strings.Join(missing, ", "))
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	enrichtest.WriteMMDB(t, db, map[string]enrichtest.Place{
		"198.51.100.0/26":   {Country: "NL", City: "Amsterdam", Lat: 52.37, Lon: 4.9, ASN: 64500, ASOrg: "Example Transit"},
		"198.51.100.64/26":  {Country: "BR", City: "São Paulo", Lat: -23.55, Lon: -46.63, ASN: 64501, ASOrg: "Exemplo"},
		"198.51.100.128/25": {Country: "JP", City: "Tokyo", Lat: 35.68, Lon: 139.69, ASN: 64502, ASOrg: "例"},
	})
	ti := filepath.Join(dir, "ti.txt")
	os.WriteFile(ti, []byte("t.example,3,tunnels\n198.51.100.7,2,scanners\n"), 0o644)
	en, err := enrich.Open(enrich.Options{GeoIP: []string{db}, Reputation: []string{ti}})
	if err != nil {
		t.Fatal(err)
	}
	defer en.Close()

	dnsPage := filepath.Join(dir, "dns.html")
	r := buildDNS(t, dir, Options{Top: 400, Storyboards: 6, Enricher: en, Reenrich: true, Title: "spot report: DNS, hostile names", Now: t0})
	writePage(t, r, dnsPage)

	events, scored := proxyDay(1500)
	in := Inputs{Scored: []*ioformat.Input{writeRecs(t, dir, "pscored.ndjson", scored)}, Context: []*ioformat.Input{writeRecs(t, dir, "pevents.ndjson", events)}}
	pr, err := Build(context.Background(), record.KindProxy, in, Options{Top: 300, Storyboards: 4, Enricher: en, Reenrich: true, Title: "spot report: proxy, hostile agents", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	proxyPage := filepath.Join(dir, "proxy.html")
	writePage(t, pr, proxyPage)

	args := []string{check, "--expect-map"}
	for _, h := range hostile {
		args = append(args, "--hostile", strings.TrimSpace(strings.ReplaceAll(h, "\u2028", "")))
	}
	if shot := os.Getenv("SPOT_SCREENSHOT"); shot != "" {
		args = append(args, "--screenshot", shot)
	}
	args = append(args, dnsPage, proxyPage)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("browser check: %v", err)
	}
	if got := strings.Count(string(out), `"consoleErrors":0`); got != 2 {
		t.Errorf("%d of 2 pages checked", got)
	}
}

func writePage(t *testing.T, r *Report, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
