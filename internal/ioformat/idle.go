package ioformat

// Live streams: a stage reading a pipe (a capture in progress, "tail -f",
// the stage before it in a pipeline) writes what it has made whenever its
// input goes idle, so records reach the end of a pipeline while the input
// stays open; bulk runs, whose input is never idle, write in full buffers.
//
// Readers that can wait on a live input implement Idler; writers of line
// formats implement Flusher; FlushWhenIdle joins the two.

// Idler is implemented by readers that may wait for input that has not come
// yet (NDJSON from a pipe or terminal). OnIdle(fn) makes Read call fn, on
// the caller's goroutine, each time it is about to wait: everything the
// caller made from the records read before is then written, so fn may flush
// it. An error from fn is returned by that Read.
type Idler interface {
	OnIdle(fn func() error)
}

// FlushWhenIdle makes r flush w each time r is about to wait for input, so
// a streaming stage's output reaches the next stage while its input is idle.
// Call it once both exist, and write every record made from one Read before
// the next Read. It does nothing when r never waits (files) or when w keeps
// nothing to flush (Parquet, whose footer comes last).
func FlushWhenIdle[T any](r Reader[T], w any) {
	i, ok := r.(Idler)
	f, ok2 := w.(Flusher)
	if ok && ok2 {
		i.OnIdle(f.Flush)
	}
}
