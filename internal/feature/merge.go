package feature

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// ErrUnsorted is returned by MergeCounts for a count table whose rows are
// not sorted by document, then word.
var ErrUnsorted = errors.New("count table not sorted by document, then word")

// MergeCounts reads count tables, each sorted by document then word (as
// featurize --counts writes them), as one sorted stream: fn gets every
// (doc, word) pair once, in that order, with the sum of its counts over
// the tables. Rows without a word or with a count below 1 are left out, as
// training leaves them out. It holds one batch of rows per table. A table
// found out of order gives ErrUnsorted (naming it).
//
// The tables' readers may lend their strings (ioformat.LendStrings, any
// number of reads): the merge clones the few it needs across a read. The
// strings fn gets are valid only during the call; fn clones those it
// keeps.
func MergeCounts(ctx context.Context, tables []ioformat.Reader[record.Count], names []string, fn func(doc, word string, count int64) error) error {
	h := &cursorHeap{}
	for i, r := range tables {
		c := &cursor{r: r, name: names[i], buf: make([]record.Count, ioformat.BatchSize)}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			h.cs = append(h.cs, c)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		top := h.cs[0]
		doc, word, sum := top.cur.Doc, top.cur.Word, int64(0)
		for h.Len() > 0 && h.cs[0].cur.Doc == doc && h.cs[0].cur.Word == word {
			c := h.cs[0]
			sum += c.cur.Count
			ok, err := c.next()
			if err != nil {
				return err
			}
			if c.left.Word != "" {
				// c read a batch: doc and word may point into the
				// rows before it, which the read may have reused.
				doc, word = c.left.Doc, c.left.Word
			}
			if ok {
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
		if err := fn(doc, word, sum); err != nil {
			return err
		}
	}
	return nil
}

// cursor is a count table's next row.
type cursor struct {
	r       ioformat.Reader[record.Count]
	name    string
	buf     []record.Count
	pos, n  int
	cur     record.Count
	started bool
	// left is the row next moved from, its strings cloned, when next read
	// a batch (and empty when not): the merge still uses them.
	left record.Count
}

// next moves to the next row worth merging; false at the end.
func (c *cursor) next() (bool, error) {
	c.left = record.Count{}
	for {
		if c.pos == c.n {
			if c.started && c.left.Word == "" {
				c.left = record.Count{Doc: strings.Clone(c.cur.Doc), Word: strings.Clone(c.cur.Word)}
				c.cur.Doc, c.cur.Word = c.left.Doc, c.left.Word
			}
			n, err := c.r.Read(c.buf)
			c.pos, c.n = 0, n
			if n == 0 {
				if err == io.EOF || err == nil {
					return false, nil
				}
				return false, err
			}
		}
		row := c.buf[c.pos]
		c.pos++
		if row.Word == "" || row.Count <= 0 {
			continue
		}
		if c.started && (row.Doc < c.cur.Doc || row.Doc == c.cur.Doc && row.Word < c.cur.Word) {
			return false, fmt.Errorf("%s: %w", ioformat.DisplayName(c.name), ErrUnsorted)
		}
		c.cur, c.started = row, true
		return true, nil
	}
}

type cursorHeap struct{ cs []*cursor }

func (h *cursorHeap) Len() int { return len(h.cs) }
func (h *cursorHeap) Less(i, j int) bool {
	a, b := &h.cs[i].cur, &h.cs[j].cur
	if c := strings.Compare(a.Doc, b.Doc); c != 0 {
		return c < 0
	}
	return a.Word < b.Word
}
func (h *cursorHeap) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *cursorHeap) Push(x any)    { h.cs = append(h.cs, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	c := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return c
}
