package ioformat

import "unsafe"

// Arena holds the strings (and string lists) of one batch of records in
// memory that is used again for a later batch, instead of allocating each
// one: a decoder making a million records a second otherwise spends a third
// of its time on new memory (its pages faulted in and its spans
// initialised) before the garbage collector recycles any.
//
// The strings it returns are valid until Reset, which the owner of the
// batch calls once the batch is written: a Writer keeps nothing of the
// records it is given after Write returns, their strings included. A nil
// *Arena allocates each string as string(b) does. Not for concurrent use.
type Arena struct {
	bytes [][]byte   // chunks of text; strings point into them
	lists [][]string // chunks of string slots for lists
	b, l  int        // chunks being filled
}

const (
	arenaChunk = 64 << 10 // bytes of a text chunk
	arenaMax   = 4 << 10  // longer strings are allocated on their own
	arenaSlots = 4 << 10  // strings of a list chunk
)

// String returns b's bytes as a string kept in the arena.
func (a *Arena) String(b []byte) string {
	if a == nil || len(b) > arenaMax {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	for ; a.b < len(a.bytes); a.b++ {
		c := a.bytes[a.b]
		if n := len(c); n+len(b) <= cap(c) {
			c = append(c, b...)
			a.bytes[a.b] = c
			return unsafe.String(&c[n], len(b))
		}
	}
	c := append(make([]byte, 0, arenaChunk), b...)
	a.bytes = append(a.bytes, c)
	return unsafe.String(&c[0], len(b))
}

// Strings returns a copy of s kept in the arena (nil for an empty s). Its
// capacity is its length, so an append to it allocates rather than
// overwriting its neighbour.
func (a *Arena) Strings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	if a == nil || len(s) > arenaSlots/8 {
		return append([]string(nil), s...)
	}
	for ; a.l < len(a.lists); a.l++ {
		c := a.lists[a.l]
		if n := len(c); n+len(s) <= cap(c) {
			c = append(c, s...)
			a.lists[a.l] = c
			return c[n : n+len(s) : n+len(s)]
		}
	}
	c := append(make([]string, 0, arenaSlots), s...)
	a.lists = append(a.lists, c)
	return c[:len(s):len(s)]
}

// Reset makes the arena's memory free for new strings: those it returned
// before must no longer be used.
func (a *Arena) Reset() {
	for i := range a.bytes[:min(a.b+1, len(a.bytes))] {
		a.bytes[i] = a.bytes[i][:0]
	}
	for i := range a.lists[:min(a.l+1, len(a.lists))] {
		clear(a.lists[i]) // the text they point to may be collected
		a.lists[i] = a.lists[i][:0]
	}
	a.b, a.l = 0, 0
}
