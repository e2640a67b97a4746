package columnar

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/feature"
)

// CountPlan reports whether the flows of files can be counted column by
// column (every key column present, required and flat).
func CountPlan(files []*parquet.File) (*plan, bool) {
	var p *plan
	for _, f := range files {
		q := &plan{key: map[string]int{}}
		for _, k := range keyColumns {
			ic, ok := f.Schema().Lookup(k)
			if !ok || ic.MaxDefinitionLevel != 0 || ic.MaxRepetitionLevel != 0 {
				return nil, false
			}
			q.key[k] = ic.ColumnIndex
		}
		if p != nil {
			for k, v := range p.key {
				if q.key[k] != v {
					return nil, false
				}
			}
		}
		p = q
	}
	return p, p != nil
}

// CountFlows adds to c, for every flow of files that Spot keeps, its source
// word to document sip and its destination word to document dip (Apache
// Spot's flow corpus). Row groups are read in parallel, each worker
// counting into a counter of its own (with its share of c's memory) that c
// absorbs at the end; counts are summed, so the result does not depend on
// the order. Progress, when not nil, is told how many more rows were read,
// a row group at a time, one call at a time.
func CountFlows(ctx context.Context, files []*parquet.File, names []string, p *plan, c *feature.Counter, workers int, progress func(rows int)) (Stats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var progressMu sync.Mutex
	words := newWordTable(nil)
	type local struct {
		c   *feature.Counter
		st  Stats
		err error
	}
	type group struct {
		rg   parquet.RowGroup
		file int
	}
	groups := make(chan group)
	results := make([]*local, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		l := &local{c: c.Part(workers)}
		results[w] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.c.Sort() // in parallel, before c absorbs it
			pr := &proc{r: &Runner{}, p: p, words: words, needAddr: true}
			var wordIDs []uint32 // pair<<1 | side -> the word's index in l.c, plus 1
			var docIDs shortKeys // an address of up to shortMax bytes -> its index in l.c
			for g := range groups {
				if l.err != nil || ctx.Err() != nil {
					continue
				}
				rg := g.rg
				_, st, err := pr.prepare(rg)
				if err != nil {
					l.err = fmt.Errorf("%s: %w", fileName(names, g.file), err)
					continue
				}
				l.st.Rows += st.Rows
				l.st.Rejected += st.Rejected
				for k, v := range st.Reasons {
					if l.st.Reasons == nil {
						l.st.Reasons = map[string]int64{}
					}
					l.st.Reasons[k] += v
				}
				if progress != nil {
					progressMu.Lock()
					progress(int(rg.NumRows()))
					progressMu.Unlock()
				}
				pairs := words.snapshot()
				if len(wordIDs) < 2*len(pairs) {
					wordIDs = append(wordIDs, make([]uint32, 2*len(pairs)-len(wordIDs))...)
				}
				sip, dip := &pr.bytes[0], &pr.bytes[1]
				for i, keep := range pr.keep[:rg.NumRows()] {
					if !keep {
						continue
					}
					pair := uint32(pr.pairs[i]) << 1
					for side, col := range [2]*byteCol{sip, dip} {
						d := docID(l.c, &docIDs, col.at(i))
						ws := pair | uint32(side)
						w := wordIDs[ws]
						if w == 0 {
							wp := &pairs[ws>>1]
							word := wp.src
							if side == 1 {
								word = wp.dst
							}
							w = l.c.WordID(word) + 1
							wordIDs[ws] = w
						}
						l.c.AddID(d, w-1, 1)
					}
				}
				if l.c.Full() {
					epoch := l.c.Epoch()
					if err := l.c.Spill(); err != nil {
						l.err = err
					}
					if l.c.Epoch() != epoch { // the counter's indexes start afresh
						clear(wordIDs)
						docIDs = shortKeys{}
					}
				}
			}
		}()
	}
	func() {
		defer close(groups)
		for fi, f := range files {
			for _, rg := range f.RowGroups() {
				select {
				case groups <- group{rg, fi}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	for _, l := range results {
		if l.err != nil {
			for _, l := range results {
				l.c.Close()
			}
			return Stats{}, l.err
		}
	}
	var total Stats
	for _, l := range results {
		total.Rows += l.st.Rows
		total.Rejected += l.st.Rejected
		for k, v := range l.st.Reasons {
			if total.Reasons == nil {
				total.Reasons = map[string]int64{}
			}
			total.Reasons[k] += v
		}
		c.Absorb(l.c)
	}
	return total, nil
}

// docID is c's index of the document addr, found in ids when addr is short
// (an IPv4 address's text): a Go map of strings, DocBytes's, spent a sixth
// of counting a day's flows hashing and comparing them.
func docID(c *feature.Counter, ids *shortKeys, addr []byte) uint32 {
	if len(addr) > shortMax {
		return c.DocBytes(addr)
	}
	if v, ok := ids.get(addr); ok {
		return uint32(v)
	}
	d := c.DocBytes(addr)
	ids.put(addr, int32(d))
	return d
}
