package dns

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// The oracle test: every DNS message tshark decodes in a capture must have a
// spot record with the same fields, and spot must make no record tshark
// has no message for. tshark's JSON output (one object per message, in
// order, --no-duplicate-keys) is read in document order.

type kv struct {
	k string
	v any
}

// readJSON reads one value keeping object key order ([]kv).
func readJSON(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return t, nil
	}
	switch d {
	case '{':
		var obj []kv
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, kv{k.(string), v})
		}
		_, err = dec.Token()
		return obj, err
	case '[':
		var arr []any
		for dec.More() {
			v, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token()
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// get returns the first value of key in obj (the first element when the
// value is an array of duplicates).
func get(v any, key string) any {
	obj, _ := v.([]kv)
	for _, e := range obj {
		if e.k == key {
			return e.v
		}
	}
	return nil
}

func all(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// last is the last of a layer's occurrences.
func last(v any) any {
	if a := all(v); len(a) > 0 {
		return a[len(a)-1]
	}
	return nil
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			return str(v[0])
		}
	}
	return ""
}

// find returns the first string value of key anywhere under v, in
// document order.
func find(v any, key string) (string, bool) {
	switch v := v.(type) {
	case []kv:
		for _, e := range v {
			if e.k == key {
				return str(e.v), true
			}
			if s, ok := find(e.v, key); ok {
				return s, true
			}
		}
	case []any:
		for _, e := range v {
			if s, ok := find(e, key); ok {
				return s, true
			}
		}
	}
	return "", false
}

type oracleMsg struct {
	frame     int64
	malformed bool
	want      map[string]string
	// answers tshark shows no data field for (types spot writes as hex)
	skipAnswer []bool
	// tshark's JSON grouped identical answers (--no-duplicate-keys makes
	// them one key's array), so their order is lost: compare sorted
	grouped bool
}

// answerField is tshark's field for the data of each record type spot
// renders as text (MX adds dns.mx.preference, TXT joins every dns.txt).
var answerField = map[string]string{
	"1": "dns.a", "28": "dns.aaaa", "2": "dns.ns", "5": "dns.cname", "12": "dns.ptr.domain_name",
	"39": "dns.dname", "6": "dns.soa.mname", "15": "dns.mx.mail_exchange", "33": "dns.srv.target", "16": "dns.txt",
}

// tsharkAnswers returns the data of each answer of a dns layer as spot
// renders it ("" where tshark has no field for it, skip set), whether
// identical answers were grouped, and the first answer's TTL.
func tsharkAnswers(m any) (answers []string, skip []bool, grouped bool, ttl string) {
	ttl = "0"
	section, _ := get(m, "Answers").([]kv)
	if section == nil {
		section, _ = get(m, "Prerequisites").([]kv) // UPDATE
	}
	for _, e := range section {
		rrs := all(e.v)
		grouped = grouped || len(rrs) > 1
		for _, rr := range rrs {
			typ := str(get(rr, "dns.resp.type"))
			if len(answers) == 0 {
				ttl = str(get(rr, "dns.resp.ttl"))
			}
			field, ok := answerField[typ]
			var data string
			switch {
			case !ok:
			case typ == "16":
				for _, t := range all(get(rr, field)) {
					data += str(t)
				}
			case typ == "15":
				data = str(get(rr, "dns.mx.preference")) + " " + str(get(rr, field))
			default:
				data = str(get(rr, field))
			}
			answers = append(answers, data)
			skip = append(skip, !ok)
		}
	}
	return answers, skip, grouped, ttl
}

// tsharkJSON returns tshark's JSON of the DNS messages in file. With
// SPOT_TSHARK_CACHE set (make mutate sets it) the output is kept in that
// folder under a hash of tshark's version, its arguments and the capture,
// and read from there next time, so mutation runs need not run tshark per
// mutant.
func tsharkJSON(t *testing.T, tshark, file string) io.ReadCloser {
	args := []string{"-n", "-r", file, "-Y", "dns || mdns || llmnr", "-T", "json", "--no-duplicate-keys",
		"-J", "frame ip ipv6 icmp icmpv6 udp tcp dns mdns llmnr _ws.malformed"}
	run := func() []byte {
		cmd := exec.Command(tshark, args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, _ := cmd.Output() // tshark exits non-zero on a capture cut short, after printing what it read
		return out
	}
	cache := os.Getenv("SPOT_TSHARK_CACHE")
	if cache == "" {
		return io.NopCloser(bytes.NewReader(run()))
	}
	version, err := tsharkVersion(tshark)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(version)
	h.Write([]byte(strings.Join(args[3:], "\x00")))
	h.Write(data)
	path := filepath.Join(cache, hex.EncodeToString(h.Sum(nil))+".json")
	if f, err := os.Open(path); err == nil {
		return f
	}
	out := run()
	tmp := path + "." + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, out, 0o644); err == nil {
		os.Rename(tmp, path)
	}
	return io.NopCloser(bytes.NewReader(out))
}

// tsharkVersion is tshark's version text, asked once per binary: tshark
// takes a second or two to start, once per capture otherwise.
func tsharkVersion(tshark string) ([]byte, error) {
	versions.Lock()
	defer versions.Unlock()
	if v, ok := versions.m[tshark]; ok {
		return v, nil
	}
	v, err := exec.Command(tshark, "--version").Output()
	if err == nil {
		versions.m[tshark] = v
	}
	return v, err
}

var versions = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

func tsharkMessages(t *testing.T, tshark, file string) []oracleMsg {
	out := tsharkJSON(t, tshark, file)
	defer out.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(out, 1<<20))
	if tok, err := dec.Token(); err != nil {
		if err == io.EOF {
			return nil
		}
		t.Fatalf("tshark %s: %v", file, err)
	} else if tok != json.Delim('[') {
		t.Fatalf("tshark %s: unexpected %v", file, tok)
	}
	var msgs []oracleMsg
	for dec.More() {
		pkt, err := readJSON(dec)
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		layers := get(get(pkt, "_source"), "layers")
		fr := get(layers, "frame")
		frame, _ := strconv.ParseInt(str(get(fr, "frame.number")), 10, 64)
		malformed := get(layers, "_ws.malformed") != nil
		// The innermost IP layer's addresses (tshark lists every
		// occurrence; frame.protocols says which of IPv4 and IPv6 is last).
		src, dst := "", ""
		inner := ""
		for _, p := range strings.Split(str(get(fr, "frame.protocols")), ":") {
			if p == "ip" || p == "ipv6" {
				inner = p
			}
		}
		if ip := all(get(layers, "ip")); inner == "ip" && len(ip) > 0 {
			src, dst = str(get(ip[len(ip)-1], "ip.src")), str(get(ip[len(ip)-1], "ip.dst"))
		} else if ip6 := all(get(layers, "ipv6")); inner == "ipv6" && len(ip6) > 0 {
			src, dst = str(get(ip6[len(ip6)-1], "ipv6.src")), str(get(ip6[len(ip6)-1], "ipv6.dst"))
		}
		// The datagram an ICMP error quotes is inside tshark's icmp layer.
		if q := get(last(get(layers, "icmp")), "ip"); q != nil {
			src, dst = str(get(q, "ip.src")), str(get(q, "ip.dst"))
		} else if q := get(last(get(layers, "icmpv6")), "ipv6"); q != nil {
			src, dst = str(get(q, "ipv6.src")), str(get(q, "ipv6.dst"))
		}
		transport := "udp"
		if get(layers, "tcp") != nil {
			transport = "tcp"
		}
		// the innermost transport header's ports (udp.srcport, udp.dstport;
		// tcp likewise), or the quoted datagram's
		l4 := last(get(layers, transport))
		if q := get(last(get(layers, "icmp")), "udp"); q != nil {
			l4 = q
		} else if q := get(last(get(layers, "icmpv6")), "udp"); q != nil {
			l4 = q
		}
		sport, dport := str(get(l4, transport+".srcport")), str(get(l4, transport+".dstport"))
		var dnsLayers []any
		for _, l := range []string{"dns", "mdns", "llmnr"} {
			dnsLayers = append(dnsLayers, all(get(layers, l))...)
		}
		for _, m := range dnsLayers {
			w := map[string]string{
				"frame_time": str(get(fr, "frame.time")),
				"frame_len":  str(get(fr, "frame.len")),
				"ip_src":     src,
				"ip_dst":     dst,
			}
			id, _ := strconv.ParseInt(strings.TrimPrefix(str(get(m, "dns.id")), "0x"), 16, 64)
			w["dns_id"] = strconv.FormatInt(id, 10)
			flags := get(m, "dns.flags_tree")
			w["response"] = str(get(flags, "dns.flags.response"))
			rcode := str(get(flags, "dns.flags.rcode"))
			if rcode == "" {
				rcode = "0"
			}
			w["rcode"] = rcode
			w["client_port"] = sport
			if w["response"] == "1" {
				w["client_port"] = dport
			}
			// the first question (the zone of an UPDATE), in document order
			if name, ok := find(m, "dns.qry.name"); ok {
				typ, _ := find(m, "dns.qry.type")
				class, _ := find(m, "dns.qry.class")
				w["qry_name"] = name
				w["qry_type"] = typ
				c, _ := strconv.ParseInt(strings.TrimPrefix(class, "0x"), 16, 64)
				w["qry_class"] = strconv.FormatInt(c, 10)
			} else {
				w["qry_name"], w["qry_type"], w["qry_class"] = "", "0", "0"
			}
			// dns_a: the first A, else AAAA, of the answer section
			// (DESIGN.md; tshark's dns.a also lists glue records).
			section := get(m, "Answers")
			if section == nil {
				section = get(m, "Prerequisites") // UPDATE
			}
			a, ok := find(section, "dns.a")
			if !ok {
				a, _ = find(section, "dns.aaaa")
			}
			w["dns_a"] = a
			w["transport"] = transport
			w["ancount"] = str(get(m, "dns.count.answers"))
			if w["ancount"] == "" { // an UPDATE's answer section holds its prerequisites
				w["ancount"] = str(get(m, "dns.count.prerequisites"))
			}
			answers, skip, grouped, ttl := tsharkAnswers(m)
			w["answers"] = strings.Join(answers, "\x1f")
			w["ttl"] = ttl
			msgs = append(msgs, oracleMsg{frame: frame, malformed: malformed, want: w, skipAnswer: skip, grouped: grouped})
		}
	}
	return msgs
}

func spotFields(r *record.DNS) map[string]string {
	resp := "0"
	if r.Response {
		resp = "1"
	}
	c, _ := strconv.ParseInt(strings.TrimPrefix(r.QryClass, "0x"), 16, 64)
	return map[string]string{
		"frame_time":  r.FrameTime,
		"frame_len":   strconv.Itoa(int(r.FrameLen)),
		"ip_src":      r.IPSrc,
		"ip_dst":      r.IPDst,
		"client_port": strconv.Itoa(int(r.ClientPort)),
		"dns_id":      strconv.Itoa(int(r.ID)),
		"response":    resp,
		"rcode":       strconv.Itoa(int(r.QryRcode)),
		"qry_name":    r.QryName,
		"qry_type":    strconv.Itoa(int(r.QryType)),
		"qry_class":   strconv.FormatInt(c, 10),
		"dns_a":       r.A,
		"transport":   r.Transport,
		"ancount":     strconv.Itoa(int(r.ANCount)),
		"ttl":         strconv.FormatInt(r.TTL, 10),
		"answers":     strings.Join(r.Answers, "\x1f"),
	}
}

// decodeFile decodes every message (queries too) of a capture.
func decodeFile(t testing.TB, file string) ([]record.DNS, []Problem, error) {
	src, err := pcap.Open(file, nil)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	src.SetUnwrapper(tunnel.New())
	// tshark's DNS ports: 53 (UDP, TCP), 5353 (TCP; mDNS on UDP), 5355 (LLMNR)
	d := NewDecoder(Options{Ports: []int{53, 5353, 5355}, Queries: true, Answers: true, ICMPQuotes: true}, filepath.Base(file))
	d.Text = new(ioformat.Arena) // as decode dns keeps them (never reset here)
	var recs []record.DNS
	var probs []Problem
	for {
		p, err := src.Next()
		if err == io.EOF {
			return recs, probs, nil
		}
		if err != nil {
			return recs, probs, err
		}
		if p.Status == pcap.OK {
			recs, probs = d.Packet(p, recs, probs)
		}
	}
}

type oracleResult struct {
	compared, malformedDiffs int
	tsharkMsgs, tsharkFrames int
	problems                 []string
	notes                    []string
}

func oracleFile(t *testing.T, tshark, file string) oracleResult {
	var res oracleResult
	want := tsharkMessages(t, tshark, file)
	res.tsharkMsgs = len(want)
	got, _, err := decodeFile(t, file)
	if err != nil {
		res.notes = append(res.notes, fmt.Sprintf("capture error: %v", err))
	}
	byFrame := map[int64][]record.DNS{}
	for _, r := range got {
		byFrame[r.Frame] = append(byFrame[r.Frame], r)
	}
	seen := map[int64]int{}
	wantFrames := map[int64]bool{}
	for _, w := range want {
		if !wantFrames[w.frame] {
			res.tsharkFrames++
		}
		wantFrames[w.frame] = true
		i := seen[w.frame]
		seen[w.frame]++
		recs := byFrame[w.frame]
		if i >= len(recs) {
			msg := fmt.Sprintf("frame %d message %d: no spot record (tshark %v)", w.frame, i+1, w.want)
			if w.malformed {
				res.malformedDiffs++
				res.notes = append(res.notes, "tshark-malformed "+msg)
			} else {
				res.problems = append(res.problems, msg)
			}
			continue
		}
		g := spotFields(&recs[i])
		if a := recs[i].Answers; len(w.skipAnswer) == len(a) {
			a = slices.Clone(a)
			for j, skip := range w.skipAnswer {
				if skip {
					a[j] = ""
				}
			}
			g["answers"] = strings.Join(a, "\x1f")
			if w.grouped && !slices.Contains(w.skipAnswer, true) {
				slices.Sort(a)
				g["answers"] = strings.Join(a, "\x1f")
				want := strings.Split(w.want["answers"], "\x1f")
				slices.Sort(want)
				w.want["answers"] = strings.Join(want, "\x1f")
			} else if w.grouped {
				g["answers"] = w.want["answers"] // order and hex answers unknown: the count is compared (ancount)
			}
		}
		var diffs []string
		for k, wv := range w.want {
			if g[k] != wv {
				diffs = append(diffs, fmt.Sprintf("%s: spot %q tshark %q", k, g[k], wv))
			}
		}
		if len(diffs) > 0 {
			msg := fmt.Sprintf("frame %d message %d: %s", w.frame, i+1, strings.Join(diffs, "; "))
			if w.malformed {
				res.malformedDiffs++
				res.notes = append(res.notes, "tshark-malformed "+msg)
			} else {
				res.problems = append(res.problems, msg)
			}
			continue
		}
		res.compared++
	}
	if res.compared+res.malformedDiffs+len(res.problems) < res.tsharkMsgs {
		res.problems = append(res.problems, "not every tshark message was compared")
	}
	for f, recs := range byFrame {
		if len(recs) > seen[f] {
			res.problems = append(res.problems, fmt.Sprintf("frame %d: %d spot records, tshark %d messages", f, len(recs), seen[f]))
		}
	}
	return res
}

func runOracle(t *testing.T, files []string) map[string]oracleResult {
	tshark := testenv.Tool(t, "tshark")
	results := make(map[string]oracleResult)
	var mu sync.Mutex
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := oracleFile(t, tshark, f)
			mu.Lock()
			results[f] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	total, malformed := 0, 0
	for _, f := range files {
		r := results[f]
		total += r.compared
		malformed += r.malformedDiffs
		if len(r.problems) > 0 {
			p := r.problems
			if len(p) > 8 {
				p = append(p[:8:8], fmt.Sprintf("... and %d more", len(r.problems)-8))
			}
			t.Errorf("%s: %d messages match, %d problems:\n  %s", f, r.compared, len(r.problems), strings.Join(p, "\n  "))
		}
		for _, n := range r.notes {
			t.Logf("%s: %s", filepath.Base(f), n)
		}
	}
	t.Logf("%d messages compared equal in %d captures; %d tshark-malformed messages differ (see notes)", total, len(files), malformed)
	return results
}

func captureFiles(t testing.TB, dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	return files
}

func TestOracleTestdata(t *testing.T) {
	dir := testenv.Testdata(t, "dns")
	files := captureFiles(t, dir)
	res := runOracle(t, files)
	total := 0
	for _, r := range res {
		total += r.compared
	}
	if total < 1100 {
		t.Errorf("only %d messages compared", total)
	}
	// the generated captures (capture_test.go): every message equal
	for name, pkts := range generated {
		r, n := res[filepath.Join(dir, name)], messageCount(pkts())
		if r.tsharkMsgs != n || r.compared != n {
			t.Errorf("%s: %d of %d messages compared equal (tshark read %d)", name, r.compared, n, r.tsharkMsgs)
		}
	}
}

// TestOracleCodePoints puts every code point, U+0000 to U+10FFFF
// (surrogates included), in UTF-8 in question names, 60-odd to a name,
// and compares spot's names with tshark's.
func TestOracleCodePoints(t *testing.T) {
	if testing.Short() && !testenv.InCI() {
		t.Skip("-short: 18,286 messages through tshark")
	}
	var msgs [][]byte
	var labels [][]byte
	var label []byte
	flush := func(last bool) {
		if len(label) > 0 {
			labels = append(labels, label)
			label = nil
		}
		if len(labels) == 4 || last && len(labels) > 0 {
			msgs = append(msgs, response(uint16(len(msgs)), dnsName(labels...)))
			labels = nil
		}
	}
	for r := uint32(0); r <= 0x10ffff; r++ {
		seq := utf8Seq(r, utf8Len(r))
		if len(label)+len(seq) > 62 { // 4 labels and 3 dots stay under 253 bytes
			flush(false)
		}
		label = append(label, seq...)
	}
	flush(true)
	file := filepath.Join(t.TempDir(), "codepoints.pcap")
	if err := os.WriteFile(file, writeCapture(udpPackets(msgs)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runOracle(t, []string{file})[file]
	if r.compared != len(msgs) || r.tsharkMsgs != len(msgs) {
		t.Errorf("%d of %d messages compared equal (tshark read %d)", r.compared, len(msgs), r.tsharkMsgs)
	}
}

func TestOracleCorpus(t *testing.T) {
	if testing.Short() && !testenv.InCI() {
		t.Skip("-short: the corpus-wide oracle takes minutes")
	}
	dir := testenv.Corpus(t, "dns")
	files := captureFiles(t, dir)
	res := runOracle(t, files)
	total := 0
	for _, r := range res {
		total += r.compared
	}
	// MANIFEST.md: 33,999 packets of dnsperf-nsd.pcap carry DNS; TCP
	// segments carry several messages, so there are more messages.
	nsd := res[filepath.Join(dir, "generated", "dnsperf-nsd.pcap")]
	if nsd.tsharkFrames != 33999 || nsd.compared != nsd.tsharkMsgs || nsd.compared < 33999 {
		t.Errorf("dnsperf-nsd.pcap: %d of tshark's %d messages (in %d packets) compared equal, want all, in 33,999 packets",
			nsd.compared, nsd.tsharkMsgs, nsd.tsharkFrames)
	}
	t.Logf("dnsperf-nsd.pcap: %d messages in %d packets compared equal", nsd.compared, nsd.tsharkFrames)
	if total < 35000 {
		t.Errorf("only %d messages compared", total)
	}
}

// TestOracleTunnels holds the DNS messages inside tunnels to tshark's
// innermost fields: Zeek's tunnel traces (GRE, PPTP in 4in6, GRE over UDP,
// Geneve carrying VXLAN, VXLAN three deep, GTP, Teredo, DNS quoted by an
// ICMP error inside GRE).
//
// The traces are merged into one (mergecap, of tshark's Debian package), so
// that tshark starts once rather than 51 times.
func TestOracleTunnels(t *testing.T) {
	files := captureFiles(t, testenv.Corpus(t, "tunnels"))
	merged := filepath.Join(t.TempDir(), "tunnels.pcapng")
	cmd := exec.Command(testenv.Tool(t, "mergecap"), append([]string{"-a", "-F", "pcapng", "-w", merged}, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	res := runOracle(t, []string{merged})
	total := 0
	for _, r := range res {
		total += r.compared
	}
	if total < 23 {
		t.Errorf("only %d messages compared", total)
	}
}
