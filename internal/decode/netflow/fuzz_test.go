package netflow

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// seedFiles are real export datagrams: the fixtures, and the vendor samples
// of the corpus when it is there.
func seedFiles(f *testing.F) [][]byte {
	var files []string
	m, _ := filepath.Glob("../../../testdata/flow/*.dat")
	files = append(files, m...)
	root := os.Getenv("SPOT_CORPUS")
	if root == "" {
		root = "../../../../shared/corpus"
	}
	m, _ = filepath.Glob(filepath.Join(root, "netflow/logstash-codec-netflow/*.dat"))
	files = append(files, m...)
	var out [][]byte
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatal("no seed datagrams found")
	}
	return out
}

// FuzzDecode feeds arbitrary datagrams to one decoder after real template
// datagrams: it must never panic, never loop, and keep its held data within
// its limits.
func FuzzDecode(f *testing.F) {
	seeds := seedFiles(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := New("fuzz")
		d.Limits = Limits{Sessions: 4, TemplatesPerSession: 8, PendingSets: 8, PendingBytes: 4096, TemplateBytes: 1 << 16}
		ex := netip.MustParseAddr("192.0.2.1")
		for _, s := range seeds[:min(3, len(seeds))] {
			d.Decode(ex, s, nil)
		}
		// As one datagram, and split as a file of datagrams.
		out, _ := d.Decode(ex, b, nil)
		for rest := b; len(rest) > 0; {
			n, _ := PacketLen(rest)
			if n <= 0 {
				break
			}
			out, _ = d.Decode(ex, rest[:n], out[:0])
			rest = rest[n:]
		}
		if len(d.pending) > d.Limits.PendingSets || d.pendingBytes > d.Limits.PendingBytes {
			t.Fatalf("held %d sets, %d bytes", len(d.pending), d.pendingBytes)
		}
		if d.tmplBytes > d.Limits.TemplateBytes {
			t.Fatalf("templates hold %d bytes", d.tmplBytes)
		}
		if len(d.sessions) > d.Limits.Sessions {
			t.Fatalf("%d sessions", len(d.sessions))
		}
		for _, s := range d.sessions {
			if len(s.templates) > d.Limits.TemplatesPerSession {
				t.Fatalf("%d templates", len(s.templates))
			}
		}
		d.Flush()
	})
}

// TestZeroLengthTemplate: a template whose fields are all zero-length (or
// which has none) must not make the decoder loop over its data set.
func TestZeroLengthTemplate(t *testing.T) {
	p := make([]byte, 0, 64)
	p = binary.BigEndian.AppendUint16(p, 10)
	p = binary.BigEndian.AppendUint16(p, 0) // length, set below
	p = binary.BigEndian.AppendUint32(p, 0)
	p = binary.BigEndian.AppendUint32(p, 0)
	p = binary.BigEndian.AppendUint32(p, 1)
	// template set: id 256, one field of length 0
	p = append(p, 0, 2, 0, 12, 1, 0, 0, 1, 0, 8, 0, 0)
	// data set 256 with 8 bytes
	p = append(p, 1, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8)
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	d := New("x")
	out, err := d.Decode(netip.Addr{}, p, nil)
	if len(out) != 0 {
		t.Fatalf("%d records from a template of nothing (err %v)", len(out), err)
	}
}

// TestTemplateFlood: an exporter sending endless distinct templates is capped.
func TestTemplateFlood(t *testing.T) {
	d := New("x")
	d.Limits.TemplatesPerSession = 100
	for id := 256; id < 256+1000; id++ {
		p := []byte{0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		p = append(p, 0, 2, 0, 12, byte(id>>8), byte(id), 0, 1, 0, 8, 0, 4)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		d.Decode(netip.Addr{}, p, nil)
	}
	if d.Stats.TemplatesCapped != 900 || d.Stats.Templates != 100 {
		t.Fatalf("templates %d, capped %d", d.Stats.Templates, d.Stats.TemplatesCapped)
	}
	// Across exporters, the templates' total memory is bounded too.
	d = New("x")
	d.Limits.TemplateBytes = 10_000
	for e := 0; e < 1000; e++ {
		p := []byte{0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		p = append(p, 0, 2, 0, 12, 1, 0, 0, 1, 0, 8, 0, 4)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		d.Decode(netip.AddrFrom4([4]byte{10, 0, byte(e >> 8), byte(e)}), p, nil)
	}
	if d.tmplBytes > 10_000 || d.Stats.TemplatesCapped == 0 {
		t.Fatalf("templates hold %d bytes, %d capped", d.tmplBytes, d.Stats.TemplatesCapped)
	}
}

// TestTemplateResend: a template sent again as it was is recognised by its
// bytes and kept; one redefined under the same id replaces it.
func TestTemplateResend(t *testing.T) {
	// ipfix builds an IPFIX message of a template set (id 256: one field,
	// element ie of length n) and a data set of one record of n bytes.
	ipfix := func(ie byte, n byte) []byte {
		p := []byte{0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		p = append(p, 0, 2, 0, 12, 1, 0, 0, 1, 0, ie, 0, n)
		p = append(p, 1, 0, 0, 4+n)
		for i := range n {
			p = append(p, 1+i)
		}
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		return p
	}
	d := New("x")
	var recs []record.Flow
	for _, p := range [][]byte{ipfix(1, 4), ipfix(1, 4), ipfix(2, 2)} { // bytes, bytes again, then packets
		out, err := d.Decode(netip.Addr{}, p, nil)
		if err != nil || len(out) != 1 {
			t.Fatalf("%d records, %v", len(out), err)
		}
		recs = append(recs, out...)
	}
	if d.Stats.Templates != 2 {
		t.Errorf("%d templates registered, want 2 (the resend is not one)", d.Stats.Templates)
	}
	if recs[0].IByt != 0x01020304 || recs[1].IByt != 0x01020304 || recs[2].IPkt != 0x0102 || recs[2].IByt != 0 {
		t.Errorf("records %+v", recs)
	}
}
