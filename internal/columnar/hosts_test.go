package columnar

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestShortKeys holds keys that differ only in their length, their middle
// byte, their last byte or a trailing zero byte (which packs like padding),
// grown through several tables, and finds each one's value and no other.
func TestShortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	want := map[string]int32{}
	var keys []string
	add := func(s string) {
		if _, ok := want[s]; !ok && len(s) <= shortMax {
			want[s] = int32(len(keys))
			keys = append(keys, s)
		}
	}
	for l := 0; l <= shortMax; l++ {
		b := make([]byte, l)
		add(string(b)) // zeros of each length
		for i := range b {
			b[i] = 'a'
		}
		add(string(b))
		for i := 0; i < l; i++ {
			c := append([]byte(nil), b...)
			c[i] = 'b'
			add(string(c))
		}
	}
	for i := 0; i < 20000; i++ { // addresses, as the hosts are
		add(fmtAddr(r))
	}
	var tab shortKeys
	for i, k := range keys {
		if _, ok := tab.get([]byte(k)); ok {
			t.Fatalf("%q found before it was put", k)
		}
		tab.put([]byte(k), int32(i))
	}
	for _, k := range keys {
		if v, ok := tab.get([]byte(k)); !ok || v != want[k] {
			t.Fatalf("%q: got %d %v, want %d", k, v, ok, want[k])
		}
	}
	for _, k := range []string{"1.2.3.4x", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "zz"} {
		_, has := want[k]
		if _, ok := tab.get([]byte(k)); ok != has && len(k) <= shortMax {
			t.Errorf("%q: found %v, held %v", k, ok, has)
		}
	}
	if tab.n != len(keys) {
		t.Errorf("n = %d, want %d", tab.n, len(keys))
	}
}

func fmtAddr(r *rand.Rand) string {
	b := []byte{}
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		n := r.IntN(256)
		if n >= 100 {
			b = append(b, byte('0'+n/100))
		}
		if n >= 10 {
			b = append(b, byte('0'+n/10%10))
		}
		b = append(b, byte('0'+n%10))
	}
	return string(b)
}

// TestWordKeys holds keys 0, 1<<63-1, keys that share their low or high
// bits and random ones through several table growths, and finds each one's
// value and no key it was not given.
func TestWordKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := map[uint64]int32{}
	var keys []uint64
	add := func(k uint64) {
		if _, ok := want[k]; !ok {
			want[k] = int32(len(keys))
			keys = append(keys, k)
		}
	}
	add(0)
	add(1<<63 - 1)
	for i := uint64(0); i < 3000; i++ {
		add(i << 44) // low bits shared
		add(i)       // high bits shared
		add(r.Uint64() >> 1)
	}
	var tab wordKeys
	for i, k := range keys {
		if _, ok := tab.get(k); ok {
			t.Fatalf("%#x found before it was put", k)
		}
		tab.put(k, int32(i))
	}
	for _, k := range keys {
		if v, ok := tab.get(k); !ok || v != want[k] {
			t.Fatalf("%#x: got %d %v, want %d", k, v, ok, want[k])
		}
	}
	for i := 0; i < 10000; i++ {
		k := r.Uint64() >> 1
		if _, ok := tab.get(k); ok != (want[k] != 0 || k == 0) {
			t.Fatalf("%#x: found %v", k, ok)
		}
	}
}

// Two tables of the same addresses place them apart: the hash is seeded,
// so the input cannot choose addresses that crowd one table's slots.
func TestShortKeysSeeded(t *testing.T) {
	var a, b shortKeys
	for i := range 100 {
		k := []byte(fmt.Sprintf("10.0.%d.%d", i/10, i%10))
		a.put(k, int32(i))
		b.put(k, int32(i))
	}
	same := 0
	for i := range a.slots {
		if a.slots[i].l != 0 && a.slots[i] == b.slots[i] {
			same++
		}
	}
	if same > 20 {
		t.Errorf("%d of 100 keys in the same slot of both tables: the hash is not seeded", same)
	}
	for i := range 100 {
		if v, ok := b.get([]byte(fmt.Sprintf("10.0.%d.%d", i/10, i%10))); !ok || v != int32(i) {
			t.Fatalf("key %d: %d, %v", i, v, ok)
		}
	}
}
