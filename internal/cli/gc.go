package cli

import (
	"os"
	"runtime/debug"
)

// relaxGC trades memory for less garbage-collection work in a streaming
// stage, whose live heap is a few batches: collect after 4x the live heap
// rather than 2x (~40% less CPU for decoders), within a soft limit that keeps
// peak RSS bounded. GOGC and GOMEMLIMIT, when set, win. The returned function
// restores the settings. A limit of 0 sets none.
func relaxGC(limit int64) (restore func()) {
	gc, mem := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		gc = debug.SetGCPercent(400)
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
