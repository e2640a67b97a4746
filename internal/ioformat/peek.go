package ioformat

import (
	"bufio"
	"bytes"
	"io"
)

// PeekLines returns the first bytes of br without consuming them: at least
// lines whole lines, or what there is up to limit bytes (or br's buffer
// size), or up to the end of the input. It reads no more than it needs, so
// a pipe fed a line at a time is not held up.
func PeekLines(br *bufio.Reader, lines, limit int) []byte {
	limit = min(limit, br.Size())
	want := 1
	for {
		head, err := br.Peek(want)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return head
		}
		head, _ = br.Peek(br.Buffered())
		if err != nil || len(head) >= limit || bytes.Count(head, []byte{'\n'}) >= lines {
			return head[:min(len(head), limit)]
		}
		want = len(head) + 1
	}
}
