package flow

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones these tests use, whatever the machine has

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	return testenv.Corpus(t, sub)
}

func readAll(t testing.TB, r *CSVReader) []record.Flow {
	t.Helper()
	var out []record.Flow
	buf := make([]record.Flow, 100)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// nfdumpRows splits a stock nfdump CSV into its header and data rows.
func nfdumpRows(b []byte) (header []string, rows [][]string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if header == nil {
			header = strings.Split(l, ",")
			continue
		}
		if l == "" || l == "Summary" || strings.HasPrefix(l, "No match") {
			break
		}
		rows = append(rows, strings.Split(l, ","))
	}
	return header, rows
}

// TestStockCSV reads every nfdump CSV of the corpus and checks each record
// against the row's own text, column by column (found by header name).
func TestStockCSV(t *testing.T) {
	var files []string
	for _, sub := range []string{"netflow/generated", "netflow/logstash-replay", "flows/oracle"} {
		dir := corpusDir(t, sub)
		m, _ := filepath.Glob(filepath.Join(dir, "*.nfdump.csv"))
		files = append(files, m...)
		m, _ = filepath.Glob(filepath.Join(dir, "*.nfpcapd.csv"))
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d nfdump CSV files found", len(files))
	}
	total := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		header, rows := nfdumpRows(b)
		r := NewCSVReader(bytes.NewReader(b), file, time.UTC)
		var warns []string
		r.Warn = func(e *LineError) { warns = append(warns, e.Error()) }
		recs := readAll(t, r)
		if len(warns) > 0 {
			t.Errorf("%s: %d malformed lines, first: %s", file, len(warns), warns[0])
		}
		if len(recs) != len(rows) {
			t.Errorf("%s: %d records, %d rows", file, len(recs), len(rows))
			continue
		}
		idx := map[string]int{}
		for i, h := range header {
			idx[h] = i
		}
		for i, f := range recs {
			row := rows[i]
			get := func(c string) string {
				if j, ok := idx[c]; ok && j < len(row) {
					return strings.TrimSpace(row[j])
				}
				return ""
			}
			td := fmt.Sprintf("%.3f", f.TDur)
			if len(get("td")) > 12 { // nfdump's unsigned print of a negative duration
				td = get("td")
			}
			got := fmt.Sprintf("%s|%s|%s|%d|%d|%s|%s|%d|%d|%d|%d|%s|%s",
				time.Unix(0, f.TStartNs).UTC().Format("2006-01-02 15:04:05"), f.SIP, f.DIP, f.SPort, f.DPort, f.Proto, f.Flag,
				f.IPkt, f.IByt, uint32(f.Input), f.Dir, f.RIP, td)
			want := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
				get("ts"), get("sa"), get("da"), get("sp"), get("dp"), get("pr"), get("flg"),
				get("ipkt"), get("ibyt"), get("in"), get("dir"), get("ra"), get("td"))
			if got != want {
				t.Errorf("%s row %d:\n got %s\nwant %s", file, i+1, got, want)
				break
			}
			if f.TReceived != get("ts") || f.Source != "nfdump-csv" {
				t.Errorf("%s row %d: treceived %q source %q", file, i+1, f.TReceived, f.Source)
			}
		}
		total += len(recs)
	}
	t.Logf("%d files, %d records", len(files), total)
}

// spotLayout rewrites stock nfdump CSV rows into the 27 columns of Spot's
// patched nfdump (tr taken from ts, as Spot loaded it).
func spotLayout(header []string, rows [][]string, withHeader bool) []byte {
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	var b bytes.Buffer
	if withHeader {
		b.WriteString("tr,try,trm,trd,trh,trm,trs,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,dtos,dir,ra\n")
	}
	for _, row := range rows {
		get := func(c string) string { return strings.TrimSpace(row[idx[c]]) }
		ts := get("ts")
		tm, _ := time.Parse("2006-01-02 15:04:05", ts)
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d,%d,%s", ts, tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), get("td"))
		for _, c := range []string{"sa", "da", "sp", "dp", "pr", "flg", "fwd", "stos", "ipkt", "ibyt", "opkt", "obyt", "in", "out", "sas", "das", "dtos", "dir", "ra"} {
			b.WriteString(",")
			if c == "ra" && len(row) <= idx["ra"] {
				b.WriteString("127.0.0.1")
				continue
			}
			b.WriteString(get(c))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// TestSpotLayout: the same flows in Spot's 27-column layout (with and
// without its header) give the same records as stock nfdump's CSV.
func TestSpotLayout(t *testing.T) {
	dir := corpusDir(t, "netflow/generated")
	b, err := os.ReadFile(filepath.Join(dir, "gnutella.softflowd-v9.nfdump.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, rows := nfdumpRows(b)
	stock := readAll(t, NewCSVReader(bytes.NewReader(b), "x", time.UTC))
	for _, withHeader := range []bool{true, false} {
		r := NewCSVReader(bytes.NewReader(spotLayout(header, rows, withHeader)), "x", time.UTC)
		spot := readAll(t, r)
		if r.Layout() != LayoutSpot || r.Skipped() != 0 {
			t.Fatalf("layout %v, %d skipped", r.Layout(), r.Skipped())
		}
		if len(spot) != len(stock) {
			t.Fatalf("header %v: %d records, stock %d", withHeader, len(spot), len(stock))
		}
		for i := range spot {
			s, k := spot[i], stock[i]
			if s.Source != "spot-csv" {
				t.Fatalf("source %q", s.Source)
			}
			// Spot's layout has no end time: it is tr + td.
			s.Source, s.EID, s.TEndNs = k.Source, k.EID, k.TEndNs
			if s != k {
				t.Fatalf("header %v row %d:\nspot  %+v\nstock %+v", withHeader, i+1, s, k)
			}
		}
	}
}

func TestTimeZone(t *testing.T) {
	in := "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n2024-03-10 01:30:00,2024-03-10 03:30:01,1.5,10.0.0.1,10.0.0.2,1,2,TCP,...A....,1,40\n"
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in: never missing
	}
	recs := readAll(t, NewCSVReader(strings.NewReader(in), "x", ny))
	if len(recs) != 1 {
		t.Fatal(len(recs))
	}
	if got := recs[0].TReceived; got != "2024-03-10 06:30:00" {
		t.Errorf("treceived %s, want 2024-03-10 06:30:00 (EST is UTC-5)", got)
	}
	// 03:30 is after the DST switch (EDT, UTC-4).
	if got := time.Unix(0, recs[0].TEndNs).UTC().Format(time.DateTime); got != "2024-03-10 07:30:01" {
		t.Errorf("end %s", got)
	}
	if recs[0].TDur != 1.5 {
		t.Errorf("tdur %v", recs[0].TDur)
	}
}

func TestMalformedLines(t *testing.T) {
	in := "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n" +
		"2024-01-01 00:00:00,2024-01-01 00:00:01,1.000,10.0.0.1,10.0.0.2,1,2,TCP,...A....,1,40\n" +
		"garbage line\n" +
		"2024-01-01 00:00:00,2024-01-01 00:00:01,1.000,10.0.0.1,10.0.0.2,x,2,TCP,...A....,1,40\n" +
		"2024-13-01 00:00:00,,1.000,10.0.0.1,10.0.0.2,1,2,TCP,...A....,1,40\n" +
		"2024-01-01 00:00:02,2024-01-01 00:00:03,0.5,::1,::2,1,2,17,........,1,40\n"
	r := NewCSVReader(strings.NewReader(in), "x", time.UTC)
	var lines []int64
	r.Warn = func(e *LineError) { lines = append(lines, e.Line) }
	recs := readAll(t, r)
	if len(recs) != 2 || r.Skipped() != 3 || fmt.Sprint(lines) != "[3 4 5]" {
		t.Fatalf("%d records, %d skipped, warned lines %v", len(recs), r.Skipped(), lines)
	}
	if recs[1].Proto != "UDP" || recs[1].SIP != "::1" {
		t.Errorf("%+v", recs[1])
	}
}

func TestNotCSV(t *testing.T) {
	r := NewCSVReader(strings.NewReader("hello,world\n1,2\n"), "x", time.UTC)
	if _, err := r.Read(make([]record.Flow, 4)); err == nil {
		t.Fatal("no error for a file without nfdump columns")
	}
}

// TestCSVBlocks reads a file of many blocks, with malformed lines (one
// longer than a block) and a trailer, at several block sizes: the records,
// their event ids and the warned line numbers must not depend on where the
// blocks were cut, and each record must equal its line parsed alone.
func TestCSVBlocks(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/flow/alexa-app.v5.nfdump.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	header, rows := lines[0], lines[1:]
	for i, l := range rows {
		if strings.HasPrefix(l, "Summary") {
			rows = rows[:i]
			break
		}
	}
	var in strings.Builder
	in.WriteString(header + "\n")
	line := 1
	var bad []int64
	var good []string
	for i := 0; in.Len() < 3<<20; i++ {
		line++
		switch {
		case i%997 == 5:
			in.WriteString("not,a,flow\r\n")
			bad = append(bad, int64(line))
		case i == 4000:
			in.WriteString(strings.Repeat("9", 3<<19) + "\n") // longer than a block
			bad = append(bad, int64(line))
		case i%1500 == 7:
			in.WriteString("\n")
		default:
			in.WriteString(rows[i%len(rows)] + "\n")
			good = append(good, rows[i%len(rows)])
		}
	}
	in.WriteString("Summary\nflows,bytes\n1,2\n")

	read := func(size int) ([]record.Flow, []int64) {
		defer func(old int) { csvChunkSize = old }(csvChunkSize)
		csvChunkSize = size
		r := NewCSVReader(strings.NewReader(in.String()), "blocks.csv", time.UTC)
		defer r.Close()
		var warned []int64
		r.Warn = func(e *LineError) { warned = append(warned, e.Line) }
		return readAll(t, r), warned
	}
	want, warned := read(1 << 30)
	if fmt.Sprint(warned) != fmt.Sprint(bad) {
		t.Fatalf("warned lines %v, want %v", warned, bad)
	}
	if len(want) != len(good) {
		t.Fatalf("%d records, want %d", len(want), len(good))
	}
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		got, warned := read(size)
		if fmt.Sprint(warned) != fmt.Sprint(bad) {
			t.Errorf("blocks of %d: warned lines %v, want %v", size, warned, bad)
		}
		if len(got) != len(want) {
			t.Fatalf("blocks of %d: %d records, want %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("blocks of %d: record %d differs:\n%+v\n%+v", size, i, got[i], want[i])
			}
		}
	}
	for i, row := range good[:len(rows)] {
		alone := readAll(t, NewCSVReader(strings.NewReader(header+"\n"+row+"\n"), "blocks.csv", time.UTC))
		a, w := alone[0], want[i]
		a.EID, w.EID = 0, 0
		if a != w {
			t.Errorf("row %d parsed alone differs:\n%+v\n%+v", i, a, w)
		}
	}
}

// TestCSVLive: lines from a pipe that stays open come out without waiting
// for a block to fill.
func TestCSVLive(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/flow/alexa-app.v5.nfdump.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte(lines[0] + lines[1] + lines[2] + lines[3]))
	r := NewCSVReader(pr, "live.csv", time.UTC)
	defer r.Close()
	got := make(chan int, 1)
	go func() {
		n := 0
		for n < 3 {
			recs, err := r.Next()
			if err != nil {
				break
			}
			n += len(recs)
		}
		got <- n
	}()
	select {
	case n := <-got:
		if n != 3 {
			t.Fatalf("%d records, want 3", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("records of an open pipe held back")
	}
}

// Two nfdump outputs joined with cat (each with its header and Summary)
// read as two tables: every flow of both, nothing skipped. Whatever follows
// a trailer other than a header is skipped, counted and named.
func TestConcatenatedCSV(t *testing.T) {
	a := testenv.ReadFile(t, "../../../testdata/flow/alexa-app.softflowd-v5.nfdump.csv.gz")
	b := testenv.ReadFile(t, "../../../testdata/flow/gnutella.softflowd-v10.nfdump.csv.gz")
	decode := func(in []byte) ([]record.Flow, *CSVReader, []*LineError) {
		r := NewCSVReader(bytes.NewReader(in), "cat.csv", time.UTC)
		var warned []*LineError
		r.Warn = func(e *LineError) { warned = append(warned, e) }
		recs := readAll(t, r)
		r.Close()
		return recs, r, warned
	}
	ra, _, _ := decode(a)
	rb, _, _ := decode(b)
	if len(ra) != 305 || len(rb) != 937 {
		t.Fatalf("alone: %d and %d flows, want 305 and 937", len(ra), len(rb))
	}
	same := func(x, y record.Flow) bool { x.EID, y.EID = 0, 0; return x == y }
	for _, size := range []int{csvChunkSize, 4096, 700} { // blocks of many lines, of a few, of one
		func() {
			defer func(old int) { csvChunkSize = old }(csvChunkSize)
			csvChunkSize = size
			joined := append(append(append([]byte(nil), a...), b...), a...)
			got, r, warned := decode(joined)
			if len(got) != 305+937+305 || r.Skipped() != 0 || len(warned) != 0 {
				t.Fatalf("blocks of %d: cat a b a: %d flows, %d skipped, want %d and 0", size, len(got), r.Skipped(), 305+937+305)
			}
			for i, want := range append(append(append([]record.Flow(nil), ra...), rb...), ra...) {
				if !same(got[i], want) {
					t.Fatalf("blocks of %d: flow %d:\n got %+v\nwant %+v", size, i, got[i], want)
				}
			}

			// After a's trailer (lines 307-309): two stray lines, then b
			// without its header: its rows are counted, none read as
			// flows (its own Summary is a trailer again).
			_, rows := nfdumpRows(b)
			junk := append(append([]byte(nil), a...), "not a flow\n,,,\n"...)
			junk = append(junk, b[bytes.IndexByte(b, '\n')+1:]...)
			got, r, warned = decode(junk)
			if want := int64(2 + len(rows)); len(got) != 305 || r.Skipped() != want || len(warned) != int(want) {
				t.Errorf("blocks of %d: junk after a trailer: %d flows, %d skipped, want 305 and %d (two stray lines, b's rows)", size, len(got), r.Skipped(), want)
			}
			if len(warned) > 0 && (warned[0].Line != 310 || !strings.Contains(warned[0].Error(), "Summary")) {
				t.Errorf("blocks of %d: first warning %v, want line 310, after the Summary", size, warned[0])
			}
		}()
	}
}
