package record

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Every column of every record type has a name, a type and a meaning, and
// names are unique within a type.
func TestColumnsDocumented(t *testing.T) {
	metas := []Meta{{KindFinding, StreamScored}}
	for _, k := range Kinds {
		for _, s := range Streams {
			metas = append(metas, Meta{k, s})
		}
	}
	for _, m := range metas {
		{
			ex := Example(m)
			if ex == nil {
				t.Fatalf("no record type for %s", m)
			}
			if r, ok := ex.(Record); ok && r.Meta() != m {
				t.Errorf("Example(%s).Meta() = %s", m, r.Meta())
			}
			seen := map[string]bool{}
			for _, c := range Columns(ex) {
				if c.Doc == "" {
					t.Errorf("%s: column %s has no doc tag", m, c.Name)
				}
				if seen[c.Name] {
					t.Errorf("%s: column %s appears twice", m, c.Name)
				}
				seen[c.Name] = true
			}
		}
	}
}

// Spot's Hive columns come first, in Spot's order, so Spot's tables read as is.
func TestSpotColumnOrder(t *testing.T) {
	names := func(v any) []string {
		var n []string
		for _, c := range Columns(v) {
			n = append(n, c.Name)
		}
		return n
	}
	flow := strings.Fields("treceived unix_tstamp tryear trmonth trday trhour trminute trsec tdur sip dip sport dport proto flag fwd stos ipkt ibyt opkt obyt input output sas das dtos dir rip")
	dns := strings.Fields("frame_time unix_tstamp frame_len ip_dst ip_src dns_qry_name dns_qry_class dns_qry_type dns_qry_rcode dns_a")
	proxy := strings.Fields("p_date p_time clientip host reqmethod useragent resconttype duration username authgroup exceptionid filterresult webcat referer respcode action urischeme uriport uripath uriquery uriextension serverip scbytes csbytes virusid bcappname bcappoper fulluri")
	for _, tc := range []struct {
		v    any
		want []string
	}{{Flow{}, flow}, {DNS{}, dns}, {Proxy{}, proxy}} {
		got := names(tc.v)
		if !slices.Equal(got[:len(tc.want)], tc.want) {
			t.Errorf("%T columns start %v, want Spot's %v", tc.v, got[:len(tc.want)], tc.want)
		}
	}
}

func TestInfer(t *testing.T) {
	cols := func(v any) []string {
		var n []string
		for _, c := range Columns(v) {
			n = append(n, c.Name)
		}
		return n
	}
	for _, k := range Kinds {
		for _, s := range []Stream{StreamEvents, StreamFeaturized, StreamScored} {
			m := Meta{k, s}
			got, ok := Infer(cols(Example(m)))
			if !ok || got != m {
				t.Errorf("Infer(columns of %s) = %s, %v", m, got, ok)
			}
		}
	}
	if m, ok := Infer([]string{"doc", "word", "count"}); ok {
		t.Errorf("a count table names no kind, yet Infer gave %s", m)
	}
	if _, ok := Infer([]string{"a", "b"}); ok {
		t.Error("Infer recognised unknown columns")
	}
}

func TestEID(t *testing.T) {
	a := EID("day1.pcap", 7, []byte("content"))
	if a != EID("day1.pcap", 7, []byte("content")) {
		t.Fatal("EID is not deterministic")
	}
	if a < 0 {
		t.Errorf("EID %d is negative", a)
	}
	for _, other := range []int64{
		EID("day2.pcap", 7, []byte("content")),
		EID("day1.pcap", 8, []byte("content")),
		EID("day1.pcap", 7, []byte("contenT")),
	} {
		if other == a {
			t.Errorf("EID collides when source, position or content differ")
		}
	}
}

// TestEIDerMatchesEID: an EIDer, which hashes its source's name once,
// gives EID's ids, for names and contents of every length around XXH3's
// cases (16, 128 and 240 bytes).
func TestEIDerMatchesEID(t *testing.T) {
	content := strings.Repeat("some content of a flow record ", 12)
	for _, nl := range []int{0, 1, 17, 34, 300} {
		source := strings.Repeat("n", nl)
		e := NewEIDer(source)
		for cl := range len(content) {
			c := []byte(content[:cl])
			pos := int64(cl*7919+nl) + 0x0123456789abcdef
			if got, want := e.EID(pos, c), EID(source, pos, c); got != want {
				t.Fatalf("name of %d bytes, content of %d: %d, want %d", nl, cl, got, want)
			}
		}
	}
}

// TestEIDDistinct: a million records of one content, or of one position in
// a thousand sources, get a million ids.
func TestEIDDistinct(t *testing.T) {
	seen := make(map[int64]bool, 2<<20)
	e := NewEIDer("day1.pcap")
	for pos := range int64(1 << 20) {
		seen[e.EID(pos+1, []byte("the same flow"))] = true
	}
	for s := range 1000 {
		e := NewEIDer(fmt.Sprintf("shard-%03d.pcap", s))
		for pos := range int64(1000) {
			seen[e.EID(pos+1, []byte{byte(pos)})] = true
		}
	}
	if len(seen) != 1<<20+1000*1000 {
		t.Errorf("%d distinct ids of %d records", len(seen), 1<<20+1000*1000)
	}
}

// Findings are recognised by name and by their columns, as events are.
func TestFindingKind(t *testing.T) {
	if k, err := ParseKind("finding"); err != nil || k != KindFinding {
		t.Fatalf("ParseKind(finding) = %q, %v", k, err)
	}
	var cols []string
	for _, c := range Columns(Finding{}) {
		cols = append(cols, c.Name)
	}
	if m, ok := Infer(cols); !ok || m != (Finding{}).Meta() {
		t.Errorf("Infer(finding columns) = %s, %v; want %s", m, ok, Finding{}.Meta())
	}
}

// TestEIDExactInJSON: ids stay below 2^53, so jq 1.6 and JavaScript, which
// hold numbers as doubles, read them exactly and a feedback file edited
// with them still joins. Ten million (the largest bench stream, made as
// scripts/bench makes it) stay distinct.
func TestEIDExactInJSON(t *testing.T) {
	n := 10_000_000
	if testing.Short() {
		n = 1 << 20
	}
	ids := make([]int64, n)
	e := NewEIDer("bench")
	for i := range ids {
		ids[i] = e.EID(int64(i), nil)
		if ids[i] < 0 || ids[i] >= 1<<53 {
			t.Fatalf("id %d of position %d is not within 53 bits", ids[i], i)
		}
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("two of %d records share id %d", n, ids[i])
		}
	}
}
