package cli

import "testing"

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int{"100": 100, "4KiB": 4 << 10, "4k": 4 << 10, "16 MB": 16 << 20, "1GiB": 1 << 30, "1023MiB": 1023 << 20} {
		var b byteSize
		if err := b.Set(in); err != nil || int(b) != want {
			t.Errorf("%q: %d, %v (want %d)", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "4XB", "KiB", "1.5MiB", "2GiB"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("%q: accepted as %d", bad, b)
		}
	}
	if b := byteSize(16 << 20); b.String() != "16MiB" {
		t.Errorf("16 MiB prints as %s", b.String())
	}
}
