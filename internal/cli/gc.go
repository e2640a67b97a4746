package cli

import (
	"os"
	"runtime/debug"
)

// relaxGC trades memory for less garbage-collection work in a streaming
// stage, whose live heap is a few batches: collect after about 4x the live
// heap rather than 2x (~40% less CPU for decoders), within a soft limit that
// keeps peak RSS bounded. The percent is 300, not 400: the pacer counts
// global variables in the heap it grows from (Go 1.18 on), and gopacket's
// layers hold 5 MB of them, which at 400 added ~20 MB to every goal and
// made fresh allocations miss the cache (decode proxy to NDJSON: 11% more
// wall time than at 1862295 with fewer instructions, back to parity at
// 250-300). GOGC and GOMEMLIMIT, when set, win. The returned function
// restores the settings. A limit of 0 sets none.
func relaxGC(limit int64) (restore func()) {
	gc, mem := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		gc = debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		mem = debug.SetMemoryLimit(limit)
	}
	return func() {
		if gc != -2 {
			debug.SetGCPercent(gc)
		}
		if mem >= 0 {
			debug.SetMemoryLimit(mem)
		}
	}
}
