package detect

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// logged runs f with slog's default logger writing to a buffer, and returns
// what it wrote.
func logged(f func()) string {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	f()
	return buf.String()
}

// A table that overflowed says so once at Finish, naming its detector and
// how many subjects it dropped; tables within their limits say nothing.
func TestFullTablesWarn(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	for _, c := range []struct {
		name string
		run  func(lim Limits)
		want []string // detectors warned of, when the tables hold 8 subjects
	}{
		{"flows", func(lim Limits) {
			s := NewFlow(lim)
			for i := range 40 {
				f := Flow{TsNs: t0 + int64(i)*1e9, EndNs: t0 + int64(i)*1e9, Src: fmt.Sprintf("10.0.0.%d", i), Dst: "10.0.1.1", DPort: int32(i), Proto: "TCP", OutBytes: 60, OutPkts: 1}
				s.Observe(&f)
			}
			s.Finish()
		}, []string{"beacon/exfil/long-conn/brute-force (pair)", "scan (source, destination)", "scan (source, port)"}},
		{"dns", func(lim Limits) {
			s := NewDNS(lim)
			for i := range 40 {
				e := DNS{TsNs: t0 + int64(i)*1e9, Client: fmt.Sprintf("10.0.0.%d", i), Server: fmt.Sprintf("10.0.1.%d", i), Name: fmt.Sprintf("n%d.example", i), QType: 1}
				s.Observe(&e)
			}
			s.Finish()
		}, []string{"dns-tunnel (client, domain)", "dns-tunnel (domain)", "beacon (client, name)", "beacon (client, domain)", "context (server)"}},
		{"proxy", func(lim Limits) {
			s := NewProxy(lim)
			for i := range 40 {
				p := Proxy{TsNs: t0 + int64(i)*1e9, Client: fmt.Sprintf("10.0.0.%d", i), Host: fmt.Sprintf("h%d.example", i), UserAgent: fmt.Sprintf("a/%d", i)}
				s.Observe(&p)
			}
			s.Finish()
		}, []string{"proxy"}},
	} {
		if out := logged(func() { c.run(Limits{}) }); out != "" {
			t.Errorf("%s within limits logged %q", c.name, out)
		}
		out := logged(func() { c.run(Limits{Subjects: 8}) })
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(c.want) {
			t.Errorf("%s over limits logged %d lines, want %d: %q", c.name, len(lines), len(c.want), out)
			continue
		}
		for i, l := range lines {
			if !strings.Contains(l, "level=WARN") || !strings.Contains(l, fmt.Sprintf("detector=%q", c.want[i])) && !strings.Contains(l, "detector="+c.want[i]+" ") ||
				!strings.Contains(l, "limit=8") || strings.Contains(l, "dropped=0 ") {
				t.Errorf("%s: warning %q, want one for %s", c.name, l, c.want[i])
			}
		}
	}
}
