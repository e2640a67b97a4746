package ioformat

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/goccy/go-json"

	"github.com/spot-hunt/spot/internal/record"
)

// The flat encoder writes what go-json writes (without HTML escapes: a
// subject "a > b" stays readable), for every flat record type.
func TestFlatEncoderMatchesGoJSON(t *testing.T) {
	check := func(t *testing.T, v any) {
		t.Helper()
		e, ok := newFlatEncoder(reflect.TypeOf(v).Elem())
		if !ok {
			t.Fatalf("%T is flat", v)
		}
		want, err := json.MarshalWithOption(v, json.DisableHTMLEscape())
		if err != nil {
			t.Fatal(err)
		}
		got, ok := e.appendFields([]byte{'{'}, reflect.ValueOf(v).UnsafePointer())
		got = append(got, '}')
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	floats := []float64{0, -0.0, 1e-7, 1e21, 1e20, 123.456, 5e-324, math.MaxFloat64, 1.0 / 3, -2.5e-9, 0.000001}
	for range 2000 {
		for _, v := range []any{&record.Flow{}, &record.Proxy{}, &record.FeaturizedFlow{}, &record.FeaturizedProxy{},
			&record.Count{}, &record.ScoredFlow{}, &record.ScoredProxy{}, &record.Finding{}} {
			fill(rng, reflect.ValueOf(v).Elem())
			check(t, v)
		}
	}
	for _, f := range floats {
		r := &record.ScoredFlow{FeaturizedFlow: record.FeaturizedFlow{Flow: record.Flow{SIP: "\xff\xfe"}}, SrcScore: f}
		if !math.IsInf(float64(float32(f)), 0) {
			r.TDur = float32(f)
		}
		check(t, r)
	}
	if _, ok := newFlatEncoder(reflect.TypeFor[record.DNS]()); ok {
		t.Error("DNS has a list: not flat")
	}
	// NaN is refused, as go-json refuses it.
	e, _ := newFlatEncoder(reflect.TypeFor[record.ScoredFlow]())
	r := record.ScoredFlow{SrcScore: math.NaN()}
	if _, ok := e.appendFields(nil, unsafe.Pointer(&r)); ok {
		t.Error("NaN encoded")
	}
}
