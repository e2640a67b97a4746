package record

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// EID returns a record's event id: a 64-bit hash of where the record came
// from (its source's base name and its 1-based position there) and of its
// content. The same input gives the same ids on every run and in every shard,
// so stages, feedback and evaluations can join on it.
func EID(source string, position int64, content []byte) int64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(source)
	var pos [9]byte
	binary.LittleEndian.PutUint64(pos[1:], uint64(position))
	d.Write(pos[:])
	d.Write(content)
	return int64(d.Sum64() &^ (1 << 63)) // non-negative: friendlier to SQL engines
}

// EIDer computes the EID of many records of one source, hashing the
// source's name once: EIDer.EID(pos, content) == EID(source, pos, content).
type EIDer struct {
	base xxhash.Digest
}

// NewEIDer returns an EIDer for source.
func NewEIDer(source string) *EIDer {
	e := &EIDer{}
	e.base.Reset()
	e.base.WriteString(source)
	return e
}

// EID is EID(source, position, content).
func (e *EIDer) EID(position int64, content []byte) int64 {
	d := e.base
	var pos [9]byte
	binary.LittleEndian.PutUint64(pos[1:], uint64(position))
	d.Write(pos[:])
	d.Write(content)
	return int64(d.Sum64() &^ (1 << 63))
}
