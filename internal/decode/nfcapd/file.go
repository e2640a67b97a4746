package nfcapd

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	lzo "github.com/anchore/go-lzo"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

// Compression is how a file's data blocks are compressed.
type Compression uint8

// The compressions nfdump writes (nffileV2.h).
const (
	None Compression = iota
	LZO
	BZ2
	LZ4
	ZSTD
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case LZO:
		return "lzo"
	case BZ2:
		return "bzip2"
	case LZ4:
		return "lz4"
	case ZSTD:
		return "zstd"
	}
	return fmt.Sprintf("compression %d", uint8(c))
}

const (
	magic = 0xA50C

	headerV1Size = 4 + 4 + 4 + 128 // magic, version, flags, NumBlocks, ident
	statV1Size   = 15*8 + 4 + 4 + 2 + 2 + 4
	headerV2Size = 40
	blockHdrSize = 12

	// maxBlock bounds a block's size, stored or decompressed: nfdump's
	// BUFFSIZE (5 MiB), which no block it writes exceeds.
	maxBlock = 5 << 20
)

// Sniff reports whether head, a file's first bytes (4 suffice), begins an
// nfcapd file of layout 1 (nfdump 1.6) or 2 (nfdump 1.7).
func Sniff(head []byte) bool {
	return len(head) >= 4 && binary.LittleEndian.Uint16(head) == magic &&
		(binary.LittleEndian.Uint16(head[2:]) == 1 || binary.LittleEndian.Uint16(head[2:]) == 2)
}

// Header is what a file's header says.
type Header struct {
	Layout      int // 1 (nfdump 1.6) or 2 (nfdump 1.7)
	Compression Compression
	Blocks      uint32 // data blocks, as the header counts them (0 while nfcapd writes the file)
	Ident       string // layout 1 only; layout 2 keeps it in its appendix
	NfdVersion  uint32 // layout 2: the nfdump version that wrote the file
}

// Stats counts what a Reader read.
type Stats struct {
	Blocks  int64 // data blocks read
	Records int64 // flow records decoded
	Skipped int64 // records skipped: malformed, or of a kind not decoded (V4 records)
	Other   int64 // records that are not flows: extension maps, exporters, statistics
}

// RecordError is a record or block that could not be decoded.
type RecordError struct {
	Block  int64 // 1-based data block
	Record int64 // 1-based record of the file, 0 for a whole block
	Count  int64 // records lost with it
	Err    error
}

func (e *RecordError) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("block %d: %v", e.Block, e.Err)
	}
	return fmt.Sprintf("block %d, record %d: %v", e.Block, e.Record, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ErrBigEndian is returned for files written on a big-endian host.
var ErrBigEndian = errors.New("nfcapd file written on a big-endian host: not supported")

// Reader reads the flow records of one nfcapd file, block by block.
type Reader struct {
	// Warn, when set, is told about each block or record skipped.
	Warn func(*RecordError)

	hdr   Header
	br    *bufio.Reader
	stats Stats

	raw   []byte // the block as stored
	plain []byte // the block decompressed
	zstd  *zstd.Decoder

	position int64 // records of the file so far, flows or not
	eid      *record.EIDer
	times    flowrec.Times
	addrs    flowrec.Addrs
	maps     map[uint16]*extMap // layout 1 extension maps by id
	done     bool

	cur         []byte // the current block's records not yet decoded
	left, total uint32 // its records left, and all of them
}

// NewReader reads the header of the nfcapd file r; name names it in event
// ids (its base name).
func NewReader(r io.Reader, name string) (*Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	d := &Reader{br: br, eid: record.NewEIDer(filepath.Base(name))}
	head := make([]byte, headerV2Size)
	if _, err := io.ReadFull(br, head[:4]); err != nil {
		return nil, fmt.Errorf("nfcapd header: %w", noEOF(err))
	}
	if binary.BigEndian.Uint16(head) == magic {
		return nil, ErrBigEndian
	}
	if !Sniff(head) {
		return nil, errors.New("not an nfcapd file (bad magic or layout)")
	}
	switch binary.LittleEndian.Uint16(head[2:]) {
	case 1:
		h := make([]byte, headerV1Size+statV1Size)
		copy(h, head[:4])
		if _, err := io.ReadFull(br, h[4:]); err != nil {
			return nil, fmt.Errorf("nfcapd layout 1 header: %w", noEOF(err))
		}
		flags := binary.LittleEndian.Uint32(h[4:])
		d.hdr = Header{Layout: 1, Blocks: binary.LittleEndian.Uint32(h[8:]), Ident: cString(h[12:140])}
		switch {
		case flags&0x1 != 0:
			d.hdr.Compression = LZO
		case flags&0x10 != 0:
			d.hdr.Compression = LZ4
		case flags&0x8 != 0:
			d.hdr.Compression = BZ2
		}
	case 2:
		if _, err := io.ReadFull(br, head[4:]); err != nil {
			return nil, fmt.Errorf("nfcapd layout 2 header: %w", noEOF(err))
		}
		d.hdr = Header{Layout: 2, NfdVersion: binary.LittleEndian.Uint32(head[4:]),
			Compression: Compression(head[16]), Blocks: binary.LittleEndian.Uint32(head[36:])}
		if head[17] != 0 {
			return nil, fmt.Errorf("nfcapd file is encrypted (%d): not supported", head[17])
		}
		if d.hdr.Compression > ZSTD {
			return nil, fmt.Errorf("nfcapd file: unknown block compression %d", head[16])
		}
	}
	return d, nil
}

func noEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("file ends inside its header")
	}
	return err
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Header is the file's header.
func (d *Reader) Header() Header { return d.hdr }

// Stats counts what was read so far.
func (d *Reader) Stats() Stats { return d.stats }

// Next appends up to max flow records to dst. At the end of the file it
// returns dst, io.EOF; other errors are read errors. A block that cannot
// be decompressed, or a malformed record, is skipped, counted and reported
// to Warn; so is a block the file ends inside, or a block header that is
// none, after which nothing can be found: the file ends there.
func (d *Reader) Next(dst []record.Flow, max int) ([]record.Flow, error) {
	for want := len(dst) + max; len(dst) < want; {
		if d.left == 0 {
			if d.done {
				return dst, io.EOF
			}
			block, n, kind, err := d.readBlock()
			if err != nil {
				d.done = true
				if err == io.EOF {
					continue
				}
				return dst, err
			}
			if block == nil {
				continue // skipped whole
			}
			if kind != 2 && kind != 3 { // type 4: arrays of lookup data, no flows
				d.position += int64(n)
				d.stats.Other += int64(n)
				continue
			}
			d.cur, d.left, d.total = block, n, n
		}
		dst = d.decodeRecords(dst, want)
	}
	return dst, nil
}

// readBlock reads the next block and decompresses it. A nil block with no
// error is a block skipped (and counted).
func (d *Reader) readBlock() (block []byte, records uint32, kind uint16, err error) {
	var h [blockHdrSize]byte
	n, err := io.ReadFull(d.br, h[:])
	if err == io.EOF {
		return nil, 0, 0, io.EOF
	}
	blockNo := d.stats.Blocks + 1
	// A file that ends inside a block (nfcapd still writing it, a copy
	// cut short) or whose next block header is not one: what came before
	// is kept, and the rest counted as skipped.
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, 0, 0, err
	}
	if err != nil {
		d.skip(&RecordError{Block: blockNo, Count: 1, Err: fmt.Errorf("file ends inside a block header (%d of %d bytes): the rest is lost", n, blockHdrSize)})
		return nil, 0, 0, io.EOF
	}
	records = binary.LittleEndian.Uint32(h[0:])
	size := binary.LittleEndian.Uint32(h[4:])
	kind = binary.LittleEndian.Uint16(h[8:])
	records = min(records, maxBlock/4) // a record takes 4 bytes at least
	if size == 0 || size > maxBlock {
		d.skip(&RecordError{Block: blockNo, Count: 1,
			Err: fmt.Errorf("block size %d out of range (1 to %d bytes): not an nfcapd block; the rest of the file is skipped", size, maxBlock)})
		return nil, 0, 0, io.EOF
	}
	if cap(d.raw) < int(size) {
		d.raw = make([]byte, size)
	}
	d.raw = d.raw[:size]
	if k, err := io.ReadFull(d.br, d.raw); err != nil {
		if err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, 0, 0, err
		}
		d.skip(&RecordError{Block: blockNo, Count: max(1, int64(records)),
			Err: fmt.Errorf("file ends inside the block (%d of %d bytes): its %d records are lost", k, size, records)})
		return nil, 0, 0, io.EOF
	}
	d.stats.Blocks++
	if records == 0 {
		return nil, 0, kind, nil
	}
	plain, err := d.decompress(d.raw)
	if err != nil {
		d.skip(&RecordError{Block: blockNo, Count: int64(records), Err: fmt.Errorf("%v block: %w", d.hdr.Compression, err)})
		d.position += int64(records)
		return nil, 0, kind, nil
	}
	return plain, records, kind, nil
}

func (d *Reader) decompress(src []byte) ([]byte, error) {
	switch d.hdr.Compression {
	case None:
		return src, nil
	case LZO:
		return d.intoBuffer(src, lzo.Decompress)
	case LZ4:
		return d.intoBuffer(src, lz4.UncompressBlock)
	case BZ2:
		out := bytes.NewBuffer(d.plain[:0])
		n, err := out.ReadFrom(io.LimitReader(bzip2.NewReader(bytes.NewReader(src)), maxBlock+1))
		d.plain = out.Bytes()[:cap(out.Bytes())]
		switch {
		case err != nil:
			return nil, err
		case n > maxBlock:
			return nil, fmt.Errorf("decompressed block exceeds %d bytes", maxBlock)
		}
		return out.Bytes(), nil
	case ZSTD:
		if d.zstd == nil {
			z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlock))
			if err != nil {
				return nil, err
			}
			d.zstd = z
		}
		out, err := d.zstd.DecodeAll(src, d.plain[:0])
		if err != nil {
			return nil, err
		}
		d.plain = out[:cap(out)]
		if len(out) > maxBlock {
			return nil, fmt.Errorf("decompressed block exceeds %d bytes", maxBlock)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown compression %d", d.hdr.Compression)
}

// intoBuffer decompresses src with a block decompressor that needs room
// for its whole output: a buffer as large as blocks have needed so far,
// grown (up to nfdump's own) while too small.
func (d *Reader) intoBuffer(src []byte, f func(src, dst []byte) (int, error)) ([]byte, error) {
	if len(d.plain) < min(maxBlock, 8*len(src)+4096) {
		d.plain = make([]byte, min(maxBlock, 8*len(src)+4096))
	}
	for {
		n, err := f(src, d.plain)
		if err == nil {
			return d.plain[:n], nil
		}
		if len(d.plain) >= maxBlock {
			return nil, err
		}
		d.plain = make([]byte, min(maxBlock, 4*len(d.plain)))
	}
}

// Close releases the decompressors.
func (d *Reader) Close() {
	if d.zstd != nil {
		d.zstd.Close()
	}
}

func (d *Reader) skip(e *RecordError) {
	d.stats.Skipped += e.Count
	if d.Warn != nil {
		d.Warn(e)
	}
}

// Record types (nfdump's id.h).
const (
	typeExtensionMap = 2
	typeCommon       = 10 // layout 1 flow record
	typeV3           = 11
	typeV4           = 16
	typeSlack        = 256
)

// decodeRecords decodes records of the current block into dst until it
// holds want or the block ends. Block type 2 holds layout 1 records (common
// records and extension maps), type 3 V3 records; either may hold records
// of the other's kinds.
func (d *Reader) decodeRecords(dst []record.Flow, want int) []record.Flow {
	blockNo := d.stats.Blocks
	b := d.cur
	for ; d.left > 0 && len(dst) < want; d.left-- {
		d.position++
		if len(b) < 4 {
			d.skip(&RecordError{Block: blockNo, Record: d.position, Count: int64(d.left),
				Err: fmt.Errorf("block ends before its %d records (%d read)", d.total, d.total-d.left)})
			d.position += int64(d.left - 1)
			d.left = 0
			break
		}
		typ := binary.LittleEndian.Uint16(b)
		size := int(binary.LittleEndian.Uint16(b[2:]))
		if size < 4 || size > len(b) {
			d.skip(&RecordError{Block: blockNo, Record: d.position, Count: int64(d.left),
				Err: fmt.Errorf("record size %d does not fit the %d bytes left in the block", size, len(b))})
			d.position += int64(d.left - 1)
			d.left = 0
			break
		}
		rec := b[:size]
		b = b[size:]
		var err error
		switch typ {
		case typeV3:
			dst = append(dst, record.Flow{})
			if err = d.v3(rec, &dst[len(dst)-1]); err != nil {
				dst = dst[:len(dst)-1]
			}
		case typeCommon:
			dst = append(dst, record.Flow{})
			if err = d.v1(rec, &dst[len(dst)-1]); err != nil {
				dst = dst[:len(dst)-1]
			}
		case typeExtensionMap:
			d.stats.Other++
			err = d.addMap(rec)
		case typeV4:
			err = errors.New("V4 flow record (nfdump 1.8): not decoded, as nfdump 1.7 decodes none")
		case 7, 8, 9, 12, 13, 14, 15, typeSlack, 0x8001, 0x8002:
			d.stats.Other++ // exporters, samplers, names, statistics, padding
		default:
			err = fmt.Errorf("unknown record type %d", typ)
		}
		if err != nil {
			d.skip(&RecordError{Block: blockNo, Record: d.position, Count: 1, Err: err})
		}
	}
	d.cur = b
	return dst
}
