package ioformat

import (
	"math"
	"reflect"
	"strconv"
	"unsafe"

	"github.com/spot-hunt/spot/internal/record"
)

// flatEncoder writes the NDJSON members of a flat record (scalar fields
// only) without reflection per value: keys are rendered once per type and
// values appended from the field's memory. Its output is byte for byte
// what go-json writes (ndjson_encode_test.go checks every record type);
// strings that need escaping, and floats JSON cannot hold, go through
// go-json itself.
type flatEncoder struct {
	fields []encField
}

type encField struct {
	key  string // `"name":`, with a leading comma but for the first
	off  uintptr
	kind reflect.Kind
}

func newFlatEncoder(t reflect.Type) (*flatEncoder, bool) {
	fields, ok := flatFields(t)
	if !ok || len(fields) == 0 {
		return nil, false
	}
	var e flatEncoder
	for i, f := range fields {
		if f.json == "" || f.json == "-" {
			return nil, false
		}
		key := `"` + f.json + `":`
		if i > 0 {
			key = "," + key
		}
		e.fields = append(e.fields, encField{key: key, off: f.off, kind: f.kind})
	}
	return &e, true
}

// appendFields appends the members of the record at p; ok is false when a
// value needs go-json (a NaN or infinite float, which it refuses).
func (e *flatEncoder) appendFields(b []byte, p unsafe.Pointer) (_ []byte, ok bool) {
	for _, f := range e.fields {
		b = append(b, f.key...)
		v := unsafe.Add(p, f.off)
		switch f.kind {
		case reflect.String:
			b = record.AppendJSONString(b, *(*string)(v))
		case reflect.Int64:
			b = strconv.AppendInt(b, *(*int64)(v), 10)
		case reflect.Int32:
			b = strconv.AppendInt(b, int64(*(*int32)(v)), 10)
		case reflect.Bool:
			b = strconv.AppendBool(b, *(*bool)(v))
		case reflect.Float32:
			if b, ok = appendFloat(b, float64(*(*float32)(v)), 32); !ok {
				return b, false
			}
		case reflect.Float64:
			if b, ok = appendFloat(b, *(*float64)(v), 64); !ok {
				return b, false
			}
		}
	}
	return b, true
}

// appendFloat formats f as encoding/json and go-json do.
func appendFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' { // e-09 -> e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
