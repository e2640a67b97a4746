package ioformat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// Interop with a real engine: DuckDB (the npm package @duckdb/node-api,
// installed by .ci/run into scripts/duckdb) reads the Parquet spot writes,
// and spot reads the Parquet DuckDB writes.

// duckdb runs SQL statements with DuckDB and returns the last one's rows.
func duckdb(t *testing.T, stmts ...string) []map[string]any { return testenv.DuckDB(t, stmts...) }

func TestDuckDBReadsSpotParquet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	flows := make([]record.Flow, 1500)
	for i := range flows {
		fill(rng, reflect.ValueOf(&flows[i]).Elem())
		flows[i].EID = int64(i) // a key to order by
	}
	dnss := make([]record.DNS, 700)
	for i := range dnss {
		fill(rng, reflect.ValueOf(&dnss[i]).Elem())
		dnss[i].EID = int64(i)
	}
	dir := t.TempDir()
	fp, dp := filepath.Join(dir, "flows.parquet"), filepath.Join(dir, "dns.parquet")
	write(t, fp, record.Flow{}.Meta(), flows)
	write(t, dp, record.DNS{}.Meta(), dnss)

	checkEngine(t, fp, flows)
	checkEngine(t, dp, dnss)
}

// checkEngine asserts that DuckDB sees path with recs' columns, in order,
// with the SQL types of their Go types, and the same values.
func checkEngine[T any](t *testing.T, path string, recs []T) {
	t.Helper()
	cols := record.Columns(recs[0])
	desc := duckdb(t, fmt.Sprintf("DESCRIBE SELECT * FROM '%s'", path))
	if len(desc) != len(cols) {
		t.Fatalf("%s: DuckDB sees %d columns, want %d", path, len(desc), len(cols))
	}
	sqlType := map[string]string{"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT",
		"float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN", "list<string>": "VARCHAR[]"}
	for i, c := range cols {
		if desc[i]["column_name"] != c.Name || desc[i]["column_type"] != sqlType[c.Type] {
			t.Errorf("%s: column %d is %v %v, want %s %s", path, i, desc[i]["column_name"], desc[i]["column_type"], c.Name, sqlType[c.Type])
		}
	}
	rows := duckdb(t, fmt.Sprintf("SELECT * FROM '%s' ORDER BY eid", path))
	if len(rows) != len(recs) {
		t.Fatalf("%s: DuckDB reads %d rows, want %d", path, len(rows), len(recs))
	}
	for i, rec := range recs {
		v := reflect.ValueOf(rec)
		for _, c := range cols {
			want := fieldOfColumn(v, c.Name)
			if !sameValue(want, rows[i][c.Name]) {
				t.Fatalf("%s: row %d column %s: DuckDB has %#v, spot wrote %#v", path, i, c.Name, rows[i][c.Name], want.Interface())
			}
		}
	}
}

// fieldByColumn finds the field of a record for a Parquet column name.
func fieldOfColumn(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if r := fieldOfColumn(v.Field(i), name); r.IsValid() {
				return r
			}
			continue
		}
		if n, _, _ := strings.Cut(f.Tag.Get("parquet"), ","); n == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// sameValue compares a Go field with a value as DuckDB's JSON gives it
// (BIGINTs as strings, floats as numbers).
func sameValue(want reflect.Value, got any) bool {
	switch want.Kind() {
	case reflect.String:
		return got == want.String()
	case reflect.Bool:
		return got == want.Bool()
	case reflect.Int32, reflect.Int64:
		switch g := got.(type) {
		case string:
			return g == strconv.FormatInt(want.Int(), 10)
		case float64:
			return g == float64(want.Int())
		}
	case reflect.Float32:
		g, ok := got.(float64)
		return ok && float32(g) == float32(want.Float())
	case reflect.Float64:
		g, ok := got.(float64)
		return ok && (g == want.Float() || math.Abs(g-want.Float()) <= 1e-15*math.Abs(g))
	case reflect.Slice:
		g, _ := got.([]any)
		if len(g) != want.Len() {
			return false
		}
		for i := range g {
			if !sameValue(want.Index(i), g[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func TestSpotReadsDuckDBParquet(t *testing.T) {
	dir := t.TempDir()
	// A Spot user's file: the Hive table flow's columns and types (Spot
	// reference §1.2), with partition columns spot does not know, nulls,
	// and no spot metadata.
	hive := filepath.Join(dir, "hive-flow.parquet")
	duckdb(t, fmt.Sprintf(`COPY (SELECT
		'2016-05-05 13:54:58' AS treceived, 1462456498::BIGINT AS unix_tstamp,
		2016 AS tryear, 5 AS trmonth, 5 AS trday, 13 AS trhour, 54 AS trminute, 58 AS trsec,
		0.972::FLOAT AS tdur, '172.16.0.' || (i %% 250) AS sip, '10.0.2.15' AS dip,
		(1024 + i)::INTEGER AS sport, 23 AS dport, 'UDP' AS proto, '.A....' AS flag,
		0 AS fwd, 0 AS stos, 3::BIGINT AS ipkt, (222 + i)::BIGINT AS ibyt,
		CASE WHEN i %% 7 = 0 THEN NULL ELSE 1::BIGINT END AS opkt, 64::BIGINT AS obyt,
		0 AS input, 0 AS output, 0 AS sas, 0 AS das, 0 AS dtos, 0 AS dir,
		'10.219.32.250' AS rip, 2016::SMALLINT AS y, 5::TINYINT AS m, 5::TINYINT AS d, 13::TINYINT AS h
		FROM range(5000) t(i)) TO '%s' (FORMAT parquet)`, hive))
	in, err := Open(hive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Meta != (record.Flow{}).Meta() {
		t.Fatalf("Hive flow file read as %v", in.Meta)
	}
	got := readAll[record.Flow](t, in)
	if len(got) != 5000 {
		t.Fatalf("read %d rows, want 5000", len(got))
	}
	for i, f := range got {
		want := record.Flow{TReceived: "2016-05-05 13:54:58", UnixTstamp: 1462456498, TrYear: 2016, TrMonth: 5, TrDay: 5,
			TrHour: 13, TrMinute: 54, TrSec: 58, TDur: 0.972, SIP: fmt.Sprintf("172.16.0.%d", i%250), DIP: "10.0.2.15",
			SPort: int32(1024 + i), DPort: 23, Proto: "UDP", Flag: ".A....", IPkt: 3, IByt: int64(222 + i), OPkt: 1, OByt: 64,
			RIP: "10.219.32.250"}
		if i%7 == 0 {
			want.OPkt = 0 // NULL
		}
		if f != want {
			t.Fatalf("row %d: got %+v\nwant %+v", i, f, want)
		}
	}

	// DuckDB rewriting a spot file (its types, its encodings) reads back
	// into the same records.
	rng := rand.New(rand.NewPCG(5, 6))
	dnss := make([]record.DNS, 900)
	for i := range dnss {
		fill(rng, reflect.ValueOf(&dnss[i]).Elem())
		dnss[i].EID = int64(i)
	}
	ours, theirs := filepath.Join(dir, "dns.parquet"), filepath.Join(dir, "dns-duck.parquet")
	write(t, ours, record.DNS{}.Meta(), dnss)
	duckdb(t, fmt.Sprintf("COPY (SELECT * FROM '%s' ORDER BY eid) TO '%s' (FORMAT parquet, COMPRESSION zstd)", ours, theirs))
	in, err = Open(theirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "DuckDB's rewrite", dnss, readAll[record.DNS](t, in))
}
