package zeek_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/flow"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/zeek"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// btestLog reads a Zeek btest baseline with its canonified times
// (XXXXXXXXXX.XXXXXX) made 0, so that its rows decode.
func btestLog(t *testing.T, name string) []byte {
	b := testenv.ReadFile(t, testenv.Testdata(t, "zeek/"+name))
	return bytes.ReplaceAll(b, []byte("XXXXXXXXXX.XXXXXX"), []byte("0.000000"))
}

func flowKey(f record.Flow) string {
	return fmt.Sprintf("%s %s:%d > %s:%d", f.Proto, f.SIP, f.SPort, f.DIP, f.DPort)
}

func flowCounts(f record.Flow) string {
	return fmt.Sprintf("%d pkts %d bytes / %d pkts %d bytes", f.IPkt, f.IByt, f.OPkt, f.OByt)
}

// wikipediaFlows returns the flows spot assembles from wikipedia.pcap and
// those it reads from log, Zeek's conn.log of it.
func wikipediaFlows(t *testing.T, log []byte) (fromPcap, fromLog []record.Flow) {
	t.Helper()
	f, err := os.Open(testenv.Testdata(t, "zeek/wikipedia.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = flow.Decode(context.Background(), "wikipedia.pcap", f, flow.Options{From: "packets"}, func(recs []record.Flow) error {
		fromPcap = append(fromPcap, recs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	z := zeek.NewReader(bytes.NewReader(log), "conn.log")
	fromLog, err = z.ReadFlows(nil, 1000)
	if err != io.EOF || z.Stats().Skipped != 0 || len(fromLog) != 34 {
		t.Fatalf("%d connections, %v, %+v", len(fromLog), err, z.Stats())
	}
	return fromPcap, fromLog
}

// TestModelAcrossSources (issue #17 item 6): a model trained on the flows
// of Zeek's conn.log of a capture is, byte for byte, the model trained on
// the flows spot assembles from the capture, as a NetFlow probe exports
// them: the words are the same, so either model scores the other's flows.
// btest canonified the log's times: they are made the capture's first
// second (it lasts 6 s, within one hour; the hour is in a flow's words).
// The connection Zeek turns round (TestConnAgainstPcap) is left out of
// both: its words differ, as its direction does.
func TestModelAcrossSources(t *testing.T) {
	log := testenv.ReadFile(t, testenv.Testdata(t, "zeek/zeek-btest_opt.basic_conn.log"))
	log = bytes.ReplaceAll(log, []byte("XXXXXXXXXX.XXXXXX"), []byte("1300475167.096535"))
	fromPcap, fromLog := wikipediaFlows(t, log)
	turned := func(f record.Flow) bool { return f.IPkt == 0 && f.DPort == 80 } // in conn.log
	var kept []record.Flow
	for _, f := range fromLog {
		if turned(f) {
			f.SIP, f.SPort, f.DIP, f.DPort = f.DIP, f.DPort, f.SIP, f.SPort
			fromPcap = slices.DeleteFunc(fromPcap, func(p record.Flow) bool { return flowKey(p) == flowKey(f) })
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) != 33 || len(fromPcap) != 33 {
		t.Fatalf("%d connections of conn.log and %d flows of the capture kept, want 33 each", len(kept), len(fromPcap))
	}
	model := func(flows []record.Flow) []byte {
		c := feature.NewCounter()
		for _, f := range flows {
			src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			c.Add(f.SIP, src, 1)
			c.Add(f.DIP, dst, 1)
		}
		b := lda.NewSortedBuilder()
		if err := c.EachSorted(func(r record.Count) error { return b.Add(r.Doc, r.Word, float64(r.Count)) }); err != nil {
			t.Fatal(err)
		}
		m, err := lda.Train(context.Background(), b.Build(), lda.Settings{Topics: 4, Alpha: 1.02, Beta: 1.001, Iterations: 10, Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(model(kept), model(fromPcap)) {
		t.Error("the model of conn.log's flows is not the model of the capture's")
	}
}

// TestConnAgainstPcap: Zeek's conn.log of wikipedia.pcap (its opt.basic
// btest) and the flows spot assembles from the same capture hold the same
// connections with the same packet and IP byte counts in each direction
// (Zeek's *_ip_bytes count IP bytes, as spot and NetFlow do). One
// difference remains, explained: a lone packet from port 80 of a
// connection that began before the capture. spot, as nfpcapd, makes its
// source the flow's; Zeek makes the well-known port the responder's, a
// connection whose originator sent nothing.
func TestConnAgainstPcap(t *testing.T) {
	fromPcap, fromLog := wikipediaFlows(t, btestLog(t, "zeek-btest_opt.basic_conn.log"))
	pc := map[string]string{}
	for _, r := range fromPcap {
		pc[flowKey(r)] = flowCounts(r)
	}
	var diffs []string
	flipped := 0
	for _, r := range fromLog {
		k := flowKey(r)
		got, ok := pc[k]
		swapped := r
		swapped.SIP, swapped.SPort, swapped.DIP, swapped.DPort = r.DIP, r.DPort, r.SIP, r.SPort
		swapped.IPkt, swapped.IByt, swapped.OPkt, swapped.OByt = r.OPkt, r.OByt, r.IPkt, r.IByt
		switch {
		case !ok && r.IPkt == 0 && r.DPort == 80 && pc[flowKey(swapped)] == flowCounts(swapped):
			flipped++
			delete(pc, flowKey(swapped))
		case !ok:
			diffs = append(diffs, "only in conn.log: "+k+" "+flowCounts(r))
		case got != flowCounts(r):
			diffs = append(diffs, fmt.Sprintf("%s: conn.log %s, capture %s", k, flowCounts(r), got))
		}
		delete(pc, k)
	}
	for k, c := range pc {
		diffs = append(diffs, "only in the capture: "+k+" "+c)
	}
	sort.Strings(diffs)
	if len(diffs) > 0 || flipped != 1 {
		t.Errorf("%d connections in conn.log, %d flows from the capture; %d flipped by Zeek (want 1); differences:\n%s",
			len(fromLog), len(fromPcap), flipped, strings.Join(diffs, "\n"))
	}
}

// TestDNSAgainstPcap: Zeek's dns.log of wikipedia.pcap and the DNS
// responses spot decodes from the capture agree: names, types, rcodes,
// ids, answers, TTLs and who asked whom. Two differences remain,
// explained: the two mDNS announcements (responses that ask no question).
// Zeek names them by an answer's name and makes their sender the
// originator, so that read from dns.log the sender is the client
// (ip_dst); from the capture the sender is ip_src and the name is empty,
// as tshark prints it.
func TestDNSAgainstPcap(t *testing.T) {
	for _, c := range []struct {
		pcap, log            string
		responses, announced int
	}{
		{"wikipedia.pcap", "zeek-btest_opt.basic_dns.log", 16, 2},
		// DNS over fragmented IPv6 (core.ipv6-frag)
		{"ipv6-fragmented-dns.pcap", "zeek-btest_core.ipv6-frag_dns.log", 2, 0},
	} {
		t.Run(c.pcap, func(t *testing.T) { dnsAgainstPcap(t, c.pcap, c.log, c.responses, c.announced) })
	}
}

func dnsAgainstPcap(t *testing.T, capture, log string, responses, announcements int) {
	f, err := os.Open(testenv.Testdata(t, "zeek/"+capture))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := pcap.NewSource(f, capture)
	if err != nil {
		t.Fatal(err)
	}
	dec := dns.NewDecoder(dns.Options{Answers: true, Ports: []int{53, 5353}}, "x")
	var fromPcap []record.DNS
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fromPcap, _ = dec.Packet(p, fromPcap, nil)
	}
	z := zeek.NewReader(bytes.NewReader(btestLog(t, log)), "dns.log")
	fromLog, err := z.ReadDNS(nil, 1000)
	if err != io.EOF || z.Stats().Skipped != 0 {
		t.Fatalf("%v, %+v", err, z.Stats())
	}
	key := func(r record.DNS) string {
		return fmt.Sprintf("%s > %s client port %d %s type %d rcode %d id %d %s [%s] ttl %d", r.IPSrc, r.IPDst, r.ClientPort, r.QryName, r.QryType,
			r.QryRcode, r.ID, r.Transport, strings.Join(r.Answers, ","), r.TTL)
	}
	announced := 0
	var a, b []string
	for _, r := range fromPcap {
		if r.QryName == "" && r.QryType == 0 && len(r.Answers) > 0 {
			announced++
			r.IPSrc, r.IPDst = r.IPDst, r.IPSrc
		}
		a = append(a, key(r))
	}
	for _, r := range fromLog {
		if r.QryType == 0 && strings.HasSuffix(r.QryName, ".local") {
			r.QryName = ""
		}
		b = append(b, key(r))
	}
	sort.Strings(a)
	sort.Strings(b)
	if !slices.Equal(a, b) || announced != announcements || len(a) != responses {
		t.Errorf("%d responses (want %d), %d announcements (want %d); from the capture:\n%s\nfrom dns.log:\n%s", len(a), responses, announced, announcements,
			strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}
