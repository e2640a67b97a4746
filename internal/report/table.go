package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// drawTable writes a table of cells already fitted to their widths: the one
// place spot calls tablewriter (pinned to v1.1.x), so a change of its API
// touches nothing else. Borders are Unicode lines on a terminal, ASCII in
// a pipe.
func drawTable(w io.Writer, header []string, rows [][]string, rightAligned []bool, unicode bool) error {
	style := tw.StyleASCII
	if unicode {
		style = tw.StyleLight
	}
	align := make([]tw.Align, len(header))
	for i, r := range rightAligned {
		align[i] = tw.AlignLeft
		if r {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(style)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// column of a terminal table.
type column struct {
	title    string
	right    bool
	min      int // narrowest it may be truncated to
	priority int // dropped first when the table is too wide: highest
	cell     func(*Row) string
}

// TableOptions shape the terminal table.
type TableOptions struct {
	Width  int  // fit the table to this many columns; 0: no limit
	Colour bool // ANSI colour (a terminal)
}

// WriteTable writes the suspicious list, the findings and the hosts as
// text tables.
func (r *Report) WriteTable(w io.Writer, o TableOptions) error {
	s := r.Summary
	head := fmt.Sprintf("%s: the %d most suspicious of %s scored %s events", r.titleOr(), s.Shown, count(s.Scored), r.Kind)
	if s.First != "" {
		head += fmt.Sprintf(", %s to %s UTC", s.First, s.Last)
	}
	if s.Findings > 0 {
		head += fmt.Sprintf("; %d findings", s.Findings)
	}
	if s.PerSubject > 0 {
		head += fmt.Sprintf("; at most %d rows per subject (--per-subject)", s.PerSubject)
	}
	fmt.Fprintln(w, wrap(clean(head), o.Width))
	if len(r.Rows) > 0 {
		cols := r.columns()
		if err := fitted(w, cols, r.Rows, o); err != nil {
			return err
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w, "\nFindings")
		cells := make([][]string, 0, len(r.Findings))
		for _, f := range r.Findings[:min(len(r.Findings), max(len(r.Rows), 10))] {
			cells = append(cells, []string{f.Detector, strconv.FormatFloat(f.DetectorScore, 'f', 2, 64), f.Subject, count(f.Events), f.FirstSeen, f.Evidence})
		}
		if err := fitCells(w, []string{"detector", "score", "subject", "events", "first seen", "evidence"},
			[]bool{false, true, false, true, false, false}, []int{8, 5, 12, 6, 10, 12}, []int{0, 0, 1, 3, 2, 1}, cells, o); err != nil {
			return err
		}
	}
	if len(r.Hosts) > 0 {
		fmt.Fprintln(w, "\nSuspicious hosts")
		var cells [][]string
		for _, h := range r.Hosts {
			where := strings.Trim(strings.Join([]string{h.Net, h.Country, h.ASOrg}, " "), " ")
			if h.Internal && h.Net == "" {
				where = strings.TrimSpace("internal " + where)
			}
			cells = append(cells, []string{strconv.Itoa(h.Best), h.Host, where, strconv.Itoa(len(h.Rows)), count(h.Events), strconv.Itoa(len(h.Peers)), strconv.Itoa(len(h.Findings)), rep(h.Reputation)})
		}
		if err := fitCells(w, []string{"best", "host", "where", "rows", "events", "peers", "findings", "rep"},
			[]bool{true, false, false, true, true, true, true, true}, []int{4, 7, 5, 4, 6, 5, 8, 3}, []int{0, 0, 2, 1, 1, 3, 1, 2}, cells, o); err != nil {
			return err
		}
	}
	return nil
}

// wrap breaks text into lines of at most width columns at spaces (0: one line).
func wrap(text string, width int) string {
	if width <= 0 || twwidth.Width(text) <= width {
		return text
	}
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		wl := twwidth.Width(word)
		if i > 0 && n+1+wl > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += wl
	}
	return b.String()
}

func (r *Report) titleOr() string {
	if r.Title != "" {
		return r.Title
	}
	return "spot report"
}

func rep(level int32) string {
	if level == 0 {
		return ""
	}
	return strconv.Itoa(int(level))
}

// columns are the list's columns for the report's kind.
func (r *Report) columns() []column {
	score := column{"score", true, 0, 0, func(x *Row) string { return strconv.FormatFloat(x.Score, 'g', 3, 64) }}
	rank := column{"#", true, 0, 0, func(x *Row) string { return strconv.Itoa(x.Rank) }}
	when := column{"time (UTC)", false, 0, 3, func(x *Row) string { return x.Time }}
	detector := column{"detector", false, 0, 2, func(x *Row) string { return x.Detector }}
	evidence := column{"evidence", false, 16, 4, func(x *Row) string {
		if x.Evidence != "" {
			return x.Evidence
		}
		if x.Word != "" {
			return fmt.Sprintf("word %s, topic %d", x.Word, x.Topic)
		}
		return ""
	}}
	country := column{"cc", false, 0, 5, func(x *Row) string { return x.Country }}
	reputation := column{"rep", true, 0, 1, func(x *Row) string { return rep(x.Reputation) }}
	var cols []column
	switch r.Kind {
	case "flow":
		cols = []column{rank, score, when,
			{"source", false, 9, 0, func(x *Row) string { return hostPort(x.Src, x.SPort) }},
			{"destination", false, 9, 0, func(x *Row) string { return hostPort(x.Dst, x.DPort) }},
			{"proto", false, 3, 1, func(x *Row) string { return x.Proto }},
			{"bytes", true, 0, 2, func(x *Row) string { return count(x.Bytes) }},
			{"pkts", true, 0, 4, func(x *Row) string { return count(x.Packets) }},
			detector, country, reputation, evidence}
	case "dns":
		cols = []column{rank, score, when,
			{"client", false, 7, 0, func(x *Row) string { return x.Src }},
			{"question", false, 12, 0, func(x *Row) string { return x.What }},
			{"answer", false, 8, 2, func(x *Row) string { return x.Detail }},
			detector, country, reputation, evidence}
	default:
		cols = []column{rank, score, when,
			{"client", false, 7, 0, func(x *Row) string { return x.Src }},
			{"request", false, 12, 0, func(x *Row) string { return x.What }},
			{"response", false, 8, 3, func(x *Row) string { return x.Detail }},
			detector, country, reputation, evidence}
	}
	// leave out columns no row fills
	var used []column
	for _, c := range cols {
		for i := range r.Rows {
			if c.cell(&r.Rows[i]) != "" {
				used = append(used, c)
				break
			}
		}
	}
	return used
}

func hostPort(h string, p int32) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(int(p))
	}
	return h + ":" + strconv.Itoa(int(p))
}

func fitted(w io.Writer, cols []column, rows []Row, o TableOptions) error {
	header := make([]string, len(cols))
	right := make([]bool, len(cols))
	mins := make([]int, len(cols))
	prio := make([]int, len(cols))
	for i, c := range cols {
		header[i], right[i], mins[i], prio[i] = c.title, c.right, c.min, c.priority
	}
	cells := make([][]string, len(rows))
	for i := range rows {
		cells[i] = make([]string, len(cols))
		for j, c := range cols {
			cells[i][j] = c.cell(&rows[i])
		}
	}
	hot := func(i, j int) bool {
		return cols[j].title == "rep" && rows[i].Reputation >= 2 || cols[j].title == "detector" && rows[i].DetectorScore >= 0.8
	}
	return fitCells(w, header, right, mins, prio, cells, o, hot)
}

// fitCells drops and truncates columns until the table fits o.Width: the
// widest columns are cut first, down to their minimum, then the columns of
// highest priority number are dropped.
func fitCells(w io.Writer, header []string, right []bool, mins, prio []int, cells [][]string, o TableOptions, hot ...func(i, j int) bool) error {
	for i := range cells {
		for j := range cells[i] {
			cells[i][j] = clean(cells[i][j])
		}
	}
	keep := make([]bool, len(header))
	for i := range keep {
		keep[i] = true
	}
	widths := make([]int, len(header))
	for j := range header {
		widths[j] = twwidth.Width(header[j])
		for i := range cells {
			widths[j] = max(widths[j], twwidth.Width(cells[i][j]))
		}
	}
	total := func() int {
		t := 1
		for j := range widths {
			if keep[j] {
				t += widths[j] + 3 // a space each side and a border
			}
		}
		return t
	}
	if o.Width > 0 {
		// the narrowest each column may be: min 0 is never cut
		least := make([]int, len(widths))
		for j := range widths {
			least[j] = widths[j]
			if mins[j] > 0 {
				least[j] = min(widths[j], max(mins[j], twwidth.Width(header[j])))
			}
		}
		narrowest := func() int {
			t := 1
			for j := range least {
				if keep[j] {
					t += least[j] + 3
				}
			}
			return t
		}
		// drop the least needed columns until the rest can fit
		for narrowest() > o.Width {
			drop := -1
			for j := range widths {
				if keep[j] && prio[j] > 0 && (drop < 0 || prio[j] >= prio[drop]) {
					drop = j
				}
			}
			if drop < 0 {
				break // the essential columns alone are too wide: the terminal wraps
			}
			keep[drop] = false
		}
		// then cut the widest columns down towards their least width
		for total() > o.Width {
			best := -1
			for j := range widths {
				if keep[j] && widths[j] > least[j] && (best < 0 || widths[j] > widths[best]) {
					best = j
				}
			}
			if best < 0 {
				break
			}
			second := least[best]
			for j := range widths {
				if keep[j] && j != best && widths[j] > second && widths[j] <= widths[best] {
					second = max(second, widths[j])
				}
			}
			cut := min(total()-o.Width, widths[best]-second, widths[best]-least[best])
			widths[best] -= max(cut, 1)
		}
	}
	var h []string
	var r []bool
	for j := range header {
		if keep[j] {
			h = append(h, header[j])
			r = append(r, right[j])
		}
	}
	out := make([][]string, len(cells))
	for i := range cells {
		for j := range cells[i] {
			if keep[j] {
				c := cells[i][j]
				if twwidth.Width(c) > widths[j] {
					c = twwidth.Truncate(c, widths[j]-1) + "…"
				}
				if o.Colour && len(hot) > 0 && hot[0](i, j) {
					c = "\x1b[1;31m" + c + "\x1b[0m" // red on a terminal only
				}
				out[i] = append(out[i], c)
			}
		}
	}
	return drawTable(w, h, out, r, o.Colour)
}

// clean makes a cell one line of printable text: control characters (a
// terminal escape in a domain name or a user agent) show as \x.. escapes.
func clean(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
