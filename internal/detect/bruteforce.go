package detect

import (
	"fmt"
	"math"
)

// brute-force: many short connections from one source to one TCP service,
// as password guessing (SSH, RDP, web logins) and exploit tools make them,
// 80% or more of them under 10 s and 10 kB each way. Two ways to count:
// many in all (0.3 at 30 connections, 0.56 at 100, 0.8 at 300, on a log
// scale), or fast: at least 10 connections at a rate of one a second or
// more over the pair's span, RITA's strobe rate (86,400 a day) applied to
// a burst (0.4 at 1 a second, 0.6 at 10, 0.8 at 100). Many in all counts
// only on the ports of login services (loginPorts), as Zeek's SSH password
// guessing does for SSH: a browser or an API client opens a hundred short
// connections to a web server in an ordinary half hour (flows-lab's benign
// hosts made 90 to 170 each to one server), so any other service needs the
// fast rate. The score is the larger, with the destination's prevalence (a
// service many clients use is less suspicious) as for every pair.
func (p *flowPair) bruteForce() (float64, string) {
	if p.proto != "TCP" || p.conns < 10 || float64(p.short) < 0.8*float64(p.conns) {
		return 0, ""
	}
	var score float64
	if p.conns >= 30 && loginPorts[p.dport] {
		score = 0.3 + 0.5*math.Log10(float64(p.conns)/30)
	}
	secs := math.Max(1, float64(p.last-p.first)/1e9)
	if rate := float64(p.conns) / secs; rate >= 1 {
		score = math.Max(score, 0.4+0.2*math.Log10(rate))
	}
	if score <= 0 {
		return 0, ""
	}
	return clamp01(score), fmt.Sprintf("%s connections in %s, %s short and small (under 10 s and 10 kB), %s sent, %s received",
		count(float64(p.conns)), span(p.last-p.first), pct(float64(p.short), float64(p.conns)), size(float64(p.out)), size(float64(p.in)))
}

// loginPorts are TCP services that ask for a password: FTP, SSH, telnet,
// SMTP submission, POP3, IMAP, LDAP, SMB, Kerberos, databases (MSSQL,
// Oracle, MySQL, PostgreSQL, Redis, MongoDB), RDP, VNC, WinRM and the
// alternative SSH and telnet ports scanners try (2222, 2323).
var loginPorts = map[int32]bool{21: true, 22: true, 23: true, 25: true, 88: true, 110: true, 139: true, 143: true,
	389: true, 445: true, 465: true, 587: true, 636: true, 993: true, 995: true, 1433: true, 1521: true,
	2222: true, 2323: true, 3306: true, 3389: true, 5432: true, 5900: true, 5985: true, 5986: true,
	6379: true, 27017: true}
