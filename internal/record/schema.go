package record

import (
	"fmt"
	"reflect"
	"strings"
)

// Column describes one column of a record type.
type Column struct {
	Name string // column name in Parquet and NDJSON
	Type string // Parquet physical/logical type
	Doc  string // meaning
}

// Columns lists the columns of a record type, in order, read from its Go
// struct tags so that the documentation cannot drift from the type.
func Columns(v any) []Column {
	return appendColumns(nil, reflect.TypeOf(v))
}

func appendColumns(cols []Column, t reflect.Type) []Column {
	for f := range t.Fields() {
		if f.Anonymous {
			cols = appendColumns(cols, f.Type)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if name == "" || name == "-" {
			continue
		}
		cols = append(cols, Column{Name: name, Type: typeName(f.Type), Doc: f.Tag.Get("doc")})
	}
	return cols
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int32:
		return "int32"
	case reflect.Int64:
		return "int64"
	case reflect.Float32:
		return "float"
	case reflect.Float64:
		return "double"
	case reflect.Slice:
		return "list<" + typeName(t.Elem()) + ">"
	}
	panic(fmt.Sprintf("record: no schema type for %v", t))
}

// Example returns a zero value of the record type for a kind and stream, or
// nil if there is none. Count tables have one type for every kind.
func Example(m Meta) any {
	switch m.Stream {
	case StreamCounts:
		return Count{}
	case StreamEvents:
		switch m.Kind {
		case KindFlow:
			return Flow{}
		case KindDNS:
			return DNS{}
		case KindProxy:
			return Proxy{}
		}
	case StreamFeaturized:
		switch m.Kind {
		case KindFlow:
			return FeaturizedFlow{}
		case KindDNS:
			return FeaturizedDNS{}
		case KindProxy:
			return FeaturizedProxy{}
		}
	case StreamScored:
		switch m.Kind {
		case KindFlow:
			return ScoredFlow{}
		case KindDNS:
			return ScoredDNS{}
		case KindProxy:
			return ScoredProxy{}
		case KindFinding:
			return Finding{}
		}
	}
	return nil
}
