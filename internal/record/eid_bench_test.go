package record

import "testing"

// BenchmarkEIDer: the id of a NetFlow v5 record (48 bytes) of a capture.
func BenchmarkEIDer(b *testing.B) {
	e := NewEIDer("gnutella.softflowd-v5-2000000.pcap")
	c := make([]byte, 48)
	for i := range b.N {
		e.EID(int64(i), c)
	}
}
