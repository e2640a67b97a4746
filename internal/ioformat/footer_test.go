package ioformat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat/parquettest"
	"github.com/spot-hunt/spot/internal/record"
)

// A footer declaring more data than the file holds is refused by Open, in
// words; the file it was made from opens.
func TestParquetFooterLies(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	recs := make([]record.Flow, 1000)
	for i := range recs {
		recs[i] = record.Flow{SIP: "10.0.0.1", DIP: "10.0.0.2", DPort: int32(i)}
	}
	writeT(t, good, record.Meta{Kind: record.KindFlow, Stream: record.StreamEvents}, recs)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := parquettest.SharedRowGroups(data, 2)
	huge, _ := parquettest.HugeChunk(data, 1<<40)
	past, _ := parquettest.HugeChunk(data, int64(len(data))) // ends in the footer
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{data, ""},
		{two, "2 row groups whose column chunks and page indexes add up to more than"},
		{huge, "declares a chunk of 1099511627776 bytes at offset 4, beyond"},
		{past, "beyond the"},
	} {
		path := filepath.Join(dir, "x.parquet")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := Open(path, nil)
		if tc.want == "" {
			if err != nil {
				t.Errorf("a valid file: %v", err)
			} else {
				in.Close()
			}
			continue
		}
		if err == nil {
			in.Close()
			t.Errorf("opened; want an error containing %q", tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q, want it to contain %q", err, tc.want)
		}
	}
}

// A panic in parquet-go on a corrupt file is an error that says in words
// what is wrong.
func TestCorruptInWords(t *testing.T) {
	var err error
	func() {
		defer RecoverCorrupt("f.parquet", &err)
		n := -1
		_ = make([]byte, n)
	}()
	if err == nil || !strings.Contains(err.Error(), "f.parquet: corrupt Parquet: a size or offset in the file is out of range (runtime error: makeslice") {
		t.Errorf("%v", err)
	}
}
