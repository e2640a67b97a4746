package detect

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
)

// The parquet tags of Flow and FlowRest (DNS and DNSRest) name exactly the
// columns the detectors read (Columns), each a column of the record whose
// field holds the same kind of value: read column by column into them,
// nothing is missed and nothing converts otherwise than into the record.
func TestColumnsTags(t *testing.T) {
	for _, c := range []struct {
		kind   record.Kind
		rec    any
		fields []any
	}{
		{record.KindFlow, record.Flow{}, []any{Flow{}, FlowRest{}}},
		{record.KindDNS, record.DNS{}, []any{DNS{}, DNSRest{}}},
	} {
		recKinds := map[string]reflect.Kind{}
		rt := reflect.TypeOf(c.rec)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("parquet"), ",")
			recKinds[name] = rt.Field(i).Type.Kind()
		}
		var tags []string
		for _, v := range c.fields {
			ft := reflect.TypeOf(v)
			for i := range ft.NumField() {
				f := ft.Field(i)
				tag := f.Tag.Get("parquet")
				if k, ok := recKinds[tag]; !ok || k != f.Type.Kind() {
					t.Errorf("%s.%s reads column %q, of kind %v in %s records; want %v", ft.Name(), f.Name, tag, k, c.kind, f.Type.Kind())
				}
				tags = append(tags, tag)
			}
		}
		slices.Sort(tags)
		want := slices.Sorted(slices.Values(Columns[c.kind]))
		if !slices.Equal(tags, want) {
			t.Errorf("%s: the tags name %v, the detectors read %v", c.kind, tags, want)
		}
	}
}

// FromFlow and FromDNS, which Complete what they copy, keep feature's
// rules: a query's client is its source (feature.IsQuery), a record
// without ts_ns or tstart_ns takes its time from unix_tstamp (and tdur).
func TestComplete(t *testing.T) {
	for _, resp := range []bool{false, true} {
		for _, ts := range []int64{0, 1_700_000_000_123_456_789} {
			r := record.DNS{Response: resp, TsNs: ts, UnixTstamp: 1_700_000_001, IPSrc: "src", IPDst: "dst"}
			e := FromDNS(&r)
			client := r.IPDst
			if feature.IsQuery(&r) {
				client = r.IPSrc
			}
			wantTs := ts
			if ts == 0 {
				wantTs = r.UnixTstamp * 1e9
			}
			if e.Client != client || e.Server == e.Client || e.TsNs != wantTs {
				t.Errorf("response %v, ts_ns %d: client %q at %d, want %q at %d", resp, ts, e.Client, e.TsNs, client, wantTs)
			}
		}
	}
	for _, c := range []struct {
		r          record.Flow
		start, end int64
	}{
		{record.Flow{TStartNs: 5e9, TEndNs: 7e9, UnixTstamp: 1, TDur: 9}, 5e9, 7e9},
		{record.Flow{TStartNs: 5e9, TEndNs: 4e9}, 5e9, 5e9},
		{record.Flow{UnixTstamp: 10, TDur: 1.5, TEndNs: 99e9}, 10e9, 11.5e9},
		{record.Flow{UnixTstamp: 10, TDur: -3}, 10e9, 10e9},
	} {
		f := FromFlow(&c.r)
		if f.TsNs != c.start || f.EndNs != c.end {
			t.Errorf("%+v: from %d to %d, want %d to %d", c.r, f.TsNs, f.EndNs, c.start, c.end)
		}
	}
}
