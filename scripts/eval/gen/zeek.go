package gen

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Unknown is the label of a row whose labeller left it undecided (Slips'
// "Unknown"): the event stays in the data, the measures leave it out.
const Unknown = "unknown"

// ZeekRow is one row of a labelled Zeek log (Stratosphere's netflowlabeler
// adds the columns label and detailedlabel to conn.log and dns.log).
type ZeekRow struct {
	Line     int     // 1-based line in the log
	TsNs     int64   // ts, exactly, in nanoseconds
	Key      FlowKey // the connection, canonical, as spot decode flow keys it (ICMP: sport 0, dport type*256+code)
	Label    string  // benign, Unknown or the attack's label
	Detailed string  // detailedlabel as written
}

// ZeekLabels maps the label column's values to the eval's: Benign to
// benign, Unknown to Unknown, Malicious to attack. Any other value is an
// error, so that no row is dropped unseen.
func ZeekLabels(attack string) map[string]string {
	return map[string]string{"Benign": "benign", "Malicious": attack, "Unknown": Unknown}
}

// ReadZeekLabels reads a labelled Zeek TSV log (gzip-compressed when its
// name ends in .gz): every row, with its label mapped by labels. The
// #fields header must name ts, id.orig_h, id.orig_p, id.resp_h, id.resp_p
// and label; proto and detailedlabel are read when present (dns.log has
// proto too).
func ReadZeekLabels(path string, labels map[string]string) ([]ZeekRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	col := map[string]int{}
	var out []ZeekRow
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			if h, ok := strings.CutPrefix(text, "#fields\t"); ok {
				clear(col)
				for i, name := range strings.Split(h, "\t") {
					col[name] = i
				}
				for _, need := range []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "label"} {
					if _, ok := col[need]; !ok {
						return nil, fmt.Errorf("%s:%d: #fields has no %s", path, line, need)
					}
				}
			} else if strings.HasPrefix(text, "#separator") && text != `#separator \x09` {
				return nil, fmt.Errorf("%s:%d: only tab-separated logs are read: %q", path, line, text)
			}
			continue
		}
		if len(col) == 0 {
			return nil, fmt.Errorf("%s:%d: a row before any #fields header", path, line)
		}
		v := strings.Split(text, "\t")
		if len(v) != len(col) {
			return nil, fmt.Errorf("%s:%d: %d columns, #fields names %d", path, line, len(v), len(col))
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return v[i]
			}
			return ""
		}
		row := ZeekRow{Line: line, Detailed: get("detailedlabel")}
		if row.TsNs, err = seconds(get("ts")); err != nil {
			return nil, fmt.Errorf("%s:%d: ts %q: %w", path, line, get("ts"), err)
		}
		sp, err1 := strconv.ParseInt(get("id.orig_p"), 10, 32)
		dp, err2 := strconv.ParseInt(get("id.resp_p"), 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		proto := strings.ToUpper(get("proto"))
		if proto == "ICMP" {
			if strings.Contains(get("id.orig_h"), ":") {
				proto = "ICMP6"
			}
			sp, dp = 0, sp*256+dp // Zeek logs type and code as ports; spot, as nfdump, has type*256+code in dport
		}
		row.Key = FlowKey{Proto: proto, SIP: get("id.orig_h"), SPort: int32(sp), DIP: get("id.resp_h"), DPort: int32(dp)}.Canonical()
		l, ok := labels[get("label")]
		if !ok {
			return nil, fmt.Errorf("%s:%d: label %q is none of the expected", path, line, get("label"))
		}
		if _, known := Labels[l]; !known && l != Unknown {
			return nil, fmt.Errorf("%s:%d: label %q maps to %q, not a label of the datasets", path, line, get("label"), l)
		}
		row.Label = l
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// seconds reads Zeek's epoch time with up to 9 decimals as nanoseconds,
// exactly.
func seconds(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 {
		return 0, errors.New("not a time")
	}
	w, err := strconv.ParseUint(whole, 10, 34)
	if err != nil {
		return 0, errors.New("not a time")
	}
	var ns uint64
	if frac != "" {
		if ns, err = strconv.ParseUint(frac, 10, 32); err != nil {
			return 0, errors.New("not a time")
		}
		for i := len(frac); i < 9; i++ {
			ns *= 10
		}
	}
	return int64(w)*1e9 + int64(ns), nil
}

// ShiftZeekTimes copies a Zeek TSV log from r to w with whole seconds
// added to its ts column (the logs' editcap -t), everything else as it is.
func ShiftZeekTimes(r io.Reader, w io.Writer, secs int64) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bw := bufio.NewWriter(w)
	ts := -1
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if h, ok := strings.CutPrefix(text, "#fields\t"); ok {
			ts = -1
			for i, name := range strings.Split(h, "\t") {
				if name == "ts" {
					ts = i
				}
			}
		}
		if !strings.HasPrefix(text, "#") {
			if ts < 0 {
				return fmt.Errorf("line %d: a row before a #fields header with ts", line)
			}
			v := strings.Split(text, "\t")
			if ts >= len(v) {
				return fmt.Errorf("line %d: no ts column", line)
			}
			whole, frac, dot := strings.Cut(v[ts], ".")
			n, err := strconv.ParseInt(whole, 10, 64)
			if err != nil {
				return fmt.Errorf("line %d: ts %q: %w", line, v[ts], err)
			}
			v[ts] = strconv.FormatInt(n+secs, 10)
			if dot {
				v[ts] += "." + frac
			}
			text = strings.Join(v, "\t")
		}
		bw.WriteString(text)
		bw.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// ZeekEvent is what a decoded flow record says of its row: its start
// time and connection.
type ZeekEvent struct {
	TsNs int64
	Key  FlowKey
}

// JoinZeekLabels labels decoded flow records by their rows: by start time
// (ts, exactly) and connection. Each record must match one row and each row
// one record, so that no row is dropped or counted twice.
func JoinZeekLabels(rows []ZeekRow, events []ZeekEvent) ([]string, error) {
	type key struct {
		ts int64
		k  FlowKey
	}
	byKey := make(map[key]int, len(rows))
	for i, r := range rows {
		k := key{r.TsNs, r.Key}
		if j, dup := byKey[k]; dup {
			return nil, fmt.Errorf("lines %d and %d: one time and connection (%s)", rows[j].Line, r.Line, r.Key)
		}
		byKey[k] = i
	}
	used := make([]bool, len(rows))
	out := make([]string, len(events))
	for i, e := range events {
		j, ok := byKey[key{e.TsNs, e.Key.Canonical()}]
		if !ok {
			return nil, fmt.Errorf("decoded flow %s at %d ns matches no row", e.Key, e.TsNs)
		}
		if used[j] {
			return nil, fmt.Errorf("line %d matches two decoded flows", rows[j].Line)
		}
		used[j] = true
		out[i] = rows[j].Label
	}
	for j, u := range used {
		if !u {
			return nil, fmt.Errorf("line %d (%s) matches no decoded flow", rows[j].Line, rows[j].Key)
		}
	}
	return out, nil
}
