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
// Spot's flow corpus). Row groups are read in parallel; counts are summed,
// so the result does not depend on the order. Progress, when not nil, is
// told how many more rows were read, a row group at a time, one call at a
// time.
func CountFlows(ctx context.Context, files []*parquet.File, names []string, p *plan, c *feature.Counter, workers int, progress func(rows int)) (Stats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var progressMu sync.Mutex
	words := newWordTable(nil)
	type local struct {
		docs    map[string]uint32
		docList []string
		m       map[uint64]int64 // doc<<32 | pair<<1 | side
		st      Stats
		err     error
	}
	type group struct {
		rg   parquet.RowGroup
		file int
	}
	groups := make(chan group)
	results := make([]*local, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		l := &local{docs: map[string]uint32{}, m: map[uint64]int64{}}
		results[w] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr := &proc{r: &Runner{}, p: p, words: words, needAddr: true}
			for g := range groups {
				if l.err != nil || ctx.Err() != nil {
					continue
				}
				rg := g.rg
				kept, st, err := pr.prepare(rg)
				if err != nil {
					l.err = fmt.Errorf("%s: %w", fileName(names, g.file), err)
					continue
				}
				_ = kept
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
				sip, dip := &pr.bytes[0], &pr.bytes[1]
				for i, keep := range pr.keep[:rg.NumRows()] {
					if !keep {
						continue
					}
					pair := uint64(pr.pairs[i]) << 1
					for side, col := range []*byteCol{sip, dip} {
						b := col.at(i)
						d, ok := l.docs[string(b)]
						if !ok {
							d = uint32(len(l.docList))
							s := string(b)
							l.docs[s] = d
							l.docList = append(l.docList, s)
						}
						l.m[uint64(d)<<32|pair|uint64(side)]++
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
	var total Stats
	pairs := words.snapshot()
	if c.Len() == 0 {
		most := 0
		for _, l := range results {
			most = max(most, len(l.m))
		}
		c.Reserve(most) // at least this many pairs
	}
	for _, l := range results {
		if l.err != nil {
			return Stats{}, l.err
		}
		total.Rows += l.st.Rows
		total.Rejected += l.st.Rejected
		for k, v := range l.st.Reasons {
			if total.Reasons == nil {
				total.Reasons = map[string]int64{}
			}
			total.Reasons[k] += v
		}
		// The worker's documents and words get the counter's indexes once
		// each, not once a pair.
		docIDs := make([]uint32, len(l.docList))
		for i, d := range l.docList {
			docIDs[i] = c.DocID(d)
		}
		wordIDs := make([]uint32, 2*len(pairs)) // pair<<1 | side -> index+1
		for key, n := range l.m {
			ws := uint32(key)
			if wordIDs[ws] == 0 {
				wp := &pairs[ws>>1]
				w := wp.src
				if ws&1 == 1 {
					w = wp.dst
				}
				wordIDs[ws] = c.WordID(w) + 1
			}
			c.AddID(docIDs[key>>32], wordIDs[ws]-1, n)
		}
	}
	return total, nil
}
