package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// needTool finds a peer tool; missing, the test is skipped, or fails under CI=true.
func needTool(t testing.TB, name string) string {
	t.Helper()
	return testenv.Tool(t, name)
}

// nfdumpRecords reads an nfcapd file with nfdump's JSON output (millisecond
// times) and returns one comparison key per record.
func nfdumpRecords(t testing.TB, nfdump, file string) []string {
	t.Helper()
	cmd := exec.Command(nfdump, "-r", file, "-o", "json")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nfdump -r %s: %v", file, err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("nfdump JSON of %s: %v", file, err)
	}
	var keys []string
	for _, r := range recs {
		if r["type"] != "FLOW" {
			continue
		}
		str := func(k string) string {
			if v, ok := r[k]; ok {
				return fmt.Sprint(v)
			}
			return ""
		}
		sa, da := str("src4_addr"), str("dst4_addr")
		if sa == "" {
			sa, da = str("src6_addr"), str("dst6_addr")
		}
		sp, dp, flags := str("src_port"), str("dst_port"), str("tcp_flags")
		if p := str("proto"); p == "1" || p == "58" {
			// nfdump's JSON gives ICMP type and code instead of ports.
			var typ, code int
			fmt.Sscan(str("icmp_type"), &typ)
			fmt.Sscan(str("icmp_code"), &code)
			sp, dp, flags = "0", fmt.Sprint(typ*256+code), "........"
		}
		first, _ := time.Parse("2006-01-02T15:04:05.000", str("first"))
		last, _ := time.Parse("2006-01-02T15:04:05.000", str("last"))
		keys = append(keys, fmt.Sprintf("%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s",
			first.UnixMilli(), last.UnixMilli(), sa, da, sp, dp, str("proto"),
			str("in_packets"), str("in_bytes"), flags, str("ip4_router")+str("ip6_router")))
	}
	return keys
}

func spotKey(f *record.Flow) string {
	proto := f.Proto
	for i := 0; i < 256; i++ {
		if flowrec.ProtoName(uint8(i)) == f.Proto {
			proto = fmt.Sprint(i)
			break
		}
	}
	return fmt.Sprintf("%d|%d|%s|%s|%d|%d|%s|%d|%d|%s|%s",
		f.TStartNs/1e6, f.TEndNs/1e6, f.SIP, f.DIP, f.SPort, f.DPort, proto, f.IPkt, f.IByt, f.Flag, f.RIP)
}

func decodeFile(t testing.TB, file string, o Options) ([]record.Flow, Result) {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []record.Flow
	res, err := Decode(context.Background(), file, fh, o, func(b []record.Flow) error {
		out = append(out, b...)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return out, res
}

// TestExportsMatchNfdump: spot's decode of each softflowd export capture
// equals nfdump's records of the same exports (collected by nfcapd), record
// for record, times to the millisecond.
func TestExportsMatchNfdump(t *testing.T) {
	dir := corpusDir(t, "netflow/generated")
	nfdump := needTool(t, "nfdump")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Fatal("no export captures")
	}
	for _, pcap := range pcaps {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			ports := []int{29995, 29996, 29997}
			recs, res := decodeFile(t, pcap, Options{Ports: ports})
			port := 29996 // regen-netflow.sh: v5 to 29995, v9 to 29996, IPFIX to 29997
			switch {
			case strings.Contains(pcap, "-v5."):
				port = 29995
			case strings.Contains(pcap, "-v10."):
				port = 29997
			}
			sameByContent(t, pcap, recs, port)
			if res.Skipped != 0 || res.DroppedSets != 0 {
				t.Errorf("skipped %d, dropped sets %d", res.Skipped, res.DroppedSets)
			}
			want := nfdumpRecords(t, nfdump, strings.TrimSuffix(pcap, ".pcap")+".nfcapd")
			if len(want) == 0 {
				t.Fatal("nfdump read no records: nothing to compare")
			}
			var got []string
			for i := range recs {
				got = append(got, spotKey(&recs[i]))
			}
			if strings.Contains(pcap, "-v9") {
				// nfdump 1.7.1's NetFlow v9 decoder does not read element 139
				// (icmpTypeCodeIPv6), which softflowd's v9 IPv6 ICMP template
				// uses: it reports type/code 0 where tshark and nfdump's own
				// IPFIX decode of the same flows show e.g. 135/0. Compare those
				// records without it.
				for i, k := range got {
					if strings.Contains(k, "|58|") {
						got[i] = dropField(k, 5)
					}
				}
				for i, k := range want {
					if strings.Contains(k, "|58|") {
						want[i] = dropField(k, 5)
					}
				}
				matchTimeZero(t, got, want)
			}
			compareKeys(t, got, want)
		})
	}
}

func compareKeys(t *testing.T, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	count := map[string]int{}
	for _, k := range want {
		count[k]++
	}
	var extra []string
	for _, k := range got {
		if count[k] > 0 {
			count[k]--
		} else {
			extra = append(extra, k)
		}
	}
	var missing []string
	for _, k := range want {
		if count[k] > 0 {
			count[k]--
			missing = append(missing, k)
		}
	}
	if len(extra) > 0 || len(missing) > 0 || len(got) != len(want) {
		t.Errorf("spot %d records, nfdump %d; %d only in spot, %d only in nfdump", len(got), len(want), len(extra), len(missing))
		for i := 0; i < len(extra) && i < 5; i++ {
			t.Logf("only spot:   %s", extra[i])
		}
		for i := 0; i < len(missing) && i < 5; i++ {
			t.Logf("only nfdump: %s", missing[i])
		}
	}
}

func dropField(k string, i int) string {
	f := strings.Split(k, "|")
	f[i] = "-"
	return strings.Join(f, "|")
}

// TestV9ICMPv6MatchesIPFIX: where nfdump's v9 decode loses the ICMPv6
// type/code, spot's v9 decode gives what the IPFIX export of the same flows
// says.
func TestV9ICMPv6MatchesIPFIX(t *testing.T) {
	dir := corpusDir(t, "netflow/generated")
	ports := []int{29995, 29996, 29997}
	for _, name := range []string{"alexa-app", "gnutella"} {
		v9, _ := decodeFile(t, filepath.Join(dir, name+".softflowd-v9.pcap"), Options{Ports: ports})
		v10, _ := decodeFile(t, filepath.Join(dir, name+".softflowd-v10.pcap"), Options{Ports: ports})
		key := func(recs []record.Flow) []string {
			var k []string
			for _, f := range recs {
				if f.Proto == "ICMP6" {
					k = append(k, fmt.Sprintf("%s|%s|%d|%d|%d", f.SIP, f.DIP, f.DPort, f.IPkt, f.IByt))
				}
			}
			return k
		}
		a, b := key(v9), key(v10)
		if len(a) == 0 {
			t.Fatalf("%s: no ICMPv6 records", name)
		}
		compareKeys(t, a, b)
	}
}

// TestVendorReplayMatchesNfdump: the vendor datagrams replayed through
// nfcapd (corpus netflow/logstash-replay) decode to nfdump's records, at the
// CSV's one-second precision.
func TestVendorReplayMatchesNfdump(t *testing.T) {
	dir := corpusDir(t, "netflow/logstash-replay")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	// MANIFEST.md: 47 groups of logstash-codec-netflow's datagrams
	if len(pcaps) < 47 {
		t.Fatalf("%d captures in %s, want the corpus's 47", len(pcaps), dir)
	}
	compared := 0
	defer func() {
		t.Logf("%d records of %d captures compared with nfdump's", compared, len(pcaps))
		if compared < vendorReplayRecords {
			t.Errorf("%d records compared, want at least %d", compared, vendorReplayRecords)
		}
	}()
	for _, pcap := range pcaps {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			recs, _ := decodeFile(t, pcap, Options{Ports: []int{29998}, From: "exports"})
			sameByContent(t, pcap, recs, 29998)
			csv, err := os.ReadFile(strings.TrimSuffix(pcap, ".pcap") + ".nfdump.csv")
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, NewCSVReader(strings.NewReader(string(csv)), "x", time.UTC))
			// Times are left out: nfdump 1.7.1 does not read IPFIX elements
			// 150/151 (flowStart/EndSeconds) or 154-157 (micro/nanoseconds),
			// nor sysUpTime times without systemInitTime; those records come
			// out of nfdump at time 0 (logstash's spec states the real times,
			// which TestVendorSamples checks). nfdump scales v5 packets and
			// bytes by the header's sampling interval; spot keeps them as
			// exported, with the interval in 'sampling'.
			key := func(f *record.Flow) string {
				return fmt.Sprintf("%s|%s|%d|%d|%s|%d|%d", f.SIP, f.DIP, f.SPort, f.DPort, f.Proto, f.IPkt, f.IByt)
			}
			base := strings.TrimSuffix(filepath.Base(pcap), ".pcap")
			switch base {
			case "ipfix_test_procera":
				// Its templates carry IPv4 and IPv6 addresses, the unused
				// ones zero: nfdump reports the zero IPv6 ones (::), spot
				// the IPv4 ones that logstash's spec states.
				// Its ICMPv6 records carry ports (136 -> 135), no ICMP type:
				// nfdump makes type 136 of them; compare those without ports.
				key = func(f *record.Flow) string {
					if f.Proto == "ICMP6" {
						return fmt.Sprintf("%s|%d|%d", f.Proto, f.IPkt, f.IByt)
					}
					return fmt.Sprintf("%d|%s|%d|%d", f.SPort, f.Proto, f.IPkt, f.IByt)
				}
			case "netflow9_test_cisco_nbar", "netflow9_test_softflowd", "netflow9_test_valid01":
				// nbar: ICMP type/code is in L4_DST_PORT, then nfdump
				// overwrites it with UDP_DST_PORT (181), 0. softflowd v9:
				// element 139 (ICMPv6 type/code), which nfdump 1.7.1's v9
				// decoder does not read.
				inner := key
				key = func(f *record.Flow) string {
					g := *f
					if g.Proto == "ICMP" || g.Proto == "ICMP6" {
						g.DPort = 0
					}
					return inner(&g)
				}
			}
			var g, w []string
			for i := range recs {
				f := recs[i]
				if f.Sampling > 1 && f.Source == "netflow5" {
					f.IPkt *= int64(f.Sampling)
					f.IByt *= int64(f.Sampling)
				}
				g = append(g, key(&f))
			}
			for i := range want {
				w = append(w, key(&want[i]))
			}
			compareKeys(t, g, w)
			compared += len(w)
		})
	}
}

// sameByContent: without --ports or --from, the capture's exports to a port
// outside the default ports are found by their content and decoded as they
// are when their port is named, not as one UDP flow from exporter to
// collector (#20 item 2). port is the port expected, or 0 for any.
func sameByContent(t *testing.T, pcap string, want []record.Flow, port int) {
	t.Helper()
	got, res := decodeFile(t, pcap, Options{})
	if res.Kind != "exports" || res.ExportPort == 0 || port != 0 && res.ExportPort != port {
		t.Errorf("without --ports: read as %s (export port %d), want exports to port %d", res.Kind, res.ExportPort, port)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("without --ports: %d records, want the %d decoded with the port named", len(got), len(want))
	}
}

// vendorReplayRecords is the number of records nfdump decodes from the
// corpus's netflow/logstash-replay captures.
const vendorReplayRecords = 472

// matchTimeZero: nfdump 1.7.1 gives at most one NetFlow v9 record of a
// collection first and last seen at time 0 (seen on the first data record
// of softflowd's exports; a known nfdump discrepancy, see the corpus
// notes). Such a record is matched on every other field.
func matchTimeZero(t *testing.T, got, want []string) {
	t.Helper()
	zero := 0
	for i, k := range want {
		if !strings.HasPrefix(k, "0|0|") {
			continue
		}
		zero++
		rest := strings.SplitN(k, "|", 3)[2]
		for _, g := range got {
			if strings.SplitN(g, "|", 3)[2] == rest {
				want[i] = g
				break
			}
		}
	}
	if zero > 1 {
		t.Errorf("%d nfdump records at time 0", zero)
	}
}
