// Package parquettest makes hostile Parquet files out of valid ones, for
// tests and the chaos campaign: footers that lie about the data they index.
package parquettest

import (
	"encoding/binary"
	"errors"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// EditFooter returns data, a Parquet file, with its footer decoded, changed
// by edit and encoded again; the pages are left as they are.
func EditFooter(data []byte, edit func(*format.FileMetaData)) ([]byte, error) {
	if len(data) < 12 || string(data[len(data)-4:]) != "PAR1" {
		return nil, errors.New("not a Parquet file")
	}
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	if n > len(data)-12 {
		return nil, errors.New("footer longer than the file")
	}
	body := data[:len(data)-8-n]
	var md format.FileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), data[len(body):len(data)-8], &md); err != nil {
		return nil, err
	}
	edit(&md)
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return nil, err
	}
	out := append(append([]byte(nil), body...), footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...), nil
}

// SharedRowGroups lists the first row group n times: n row groups that all
// point at the same column chunks, as valid as the file was.
func SharedRowGroups(data []byte, n int) ([]byte, error) {
	return EditFooter(data, func(md *format.FileMetaData) {
		rg := md.RowGroups[0]
		md.RowGroups = make([]format.RowGroup, n)
		for i := range md.RowGroups {
			md.RowGroups[i] = rg
		}
		md.NumRows = rg.NumRows * int64(n)
	})
}

// HugeChunk makes the first row group's first column chunk declare size
// bytes.
func HugeChunk(data []byte, size int64) ([]byte, error) {
	return EditFooter(data, func(md *format.FileMetaData) {
		m := &md.RowGroups[0].Columns[0].MetaData
		m.TotalCompressedSize, m.TotalUncompressedSize = size, size
	})
}
