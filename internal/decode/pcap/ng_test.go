package pcap

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spot-hunt/spot/internal/testenv"
)

// ngFrame is what a reader gives of a pcapng packet.
type ngFrame struct {
	data    string
	tsNs    int64
	wireLen int
	link    layers.LinkType
}

// gopacketFrames reads data with gopacket's pcapgo.NgReader, the reader
// spot used before its own: the frames, and whether it ended in an error.
func gopacketFrames(data []byte) (out []ngFrame, failed bool) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, true
	}
	for {
		d, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out, false
		}
		if err != nil {
			return out, true
		}
		out = append(out, ngFrame{string(d), ci.Timestamp.UnixNano(), ci.Length, ci.AncillaryData[0].(layers.LinkType)})
	}
}

// spotFrames reads data with Source, from small blocks after the first
// frame when blocks > 0.
func spotFrames(data []byte, blockMax int) (out []ngFrame, failed bool) {
	c := &blocks{data: data, rng: newRand(len(data)), max: max(blockMax, 1)}
	var src *Source
	var err error
	if blockMax > 0 {
		src, err = NewSource(c, "test")
	} else {
		src, err = NewSource(bytes.NewReader(data), "test")
	}
	if err != nil {
		return nil, true
	}
	for {
		if len(out) == 1 && blockMax > 0 {
			src.ReadBlocks(c)
		}
		p, err := src.Next()
		if err == io.EOF {
			return out, false
		}
		if err != nil {
			return out, true
		}
		out = append(out, ngFrame{string(p.Data), p.TsNs, p.WireLen, layers.LinkType(p.LinkType)})
	}
}

// compareNg: the frames both readers give agree, and where gopacket reads
// a file to its end, Source does too, with no frame more or less.
func compareNg(t *testing.T, name string, data []byte, blockMax int) {
	t.Helper()
	want, wantFailed := gopacketFrames(data)
	got, failed := spotFrames(data, blockMax)
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("%s: frame %d: %+v, gopacket %+v", name, i+1, got[i], want[i])
		}
	}
	if !wantFailed && (failed || len(got) != len(want)) {
		t.Fatalf("%s: %d frames (failed %v), gopacket reads all %d", name, len(got), failed, len(want))
	}
}

// TestNgMatchesGopacket: every pcapng fixture (the pcapng test suite in
// both byte orders, captures with interfaces of several link types and
// resolutions) reads as gopacket's NgReader reads it, from the reader's
// buffer and from blocks of any size.
func TestNgMatchesGopacket(t *testing.T) {
	var files []string
	for _, pat := range []string{"pcapng/*.pcapng", "dns/*.pcapng", "hunt/*.pcapng.gz"} {
		m, _ := filepath.Glob(filepath.Join("../../../testdata", pat))
		files = append(files, m...)
	}
	if len(files) < 55 {
		t.Fatalf("%d pcapng fixtures, want the 55 of testdata/pcapng and more", len(files))
	}
	read := 0
	for _, f := range files {
		data := testenv.ReadFile(t, f)
		if frames, failed := gopacketFrames(data); !failed && len(frames) > 0 {
			read++
		}
		for _, b := range []int{0, 1, 7, 100, 5000} {
			compareNg(t, filepath.Base(f), data, b)
		}
	}
	if read < 40 {
		t.Errorf("gopacket reads only %d of the %d fixtures whole", read, len(files))
	}
}

func newRand(seed int) *rand.Rand { return rand.New(rand.NewSource(int64(seed))) }

// ngBuild writes pcapng blocks in byte order o.
type ngBuild struct {
	o   binary.AppendByteOrder
	buf []byte
}

func (w *ngBuild) block(typ uint32, body ...[]byte) {
	n := 12
	for _, b := range body {
		n += len(b)
	}
	w.buf = w.o.AppendUint32(w.buf, typ)
	w.buf = w.o.AppendUint32(w.buf, uint32(n))
	for _, b := range body {
		w.buf = append(w.buf, b...)
	}
	w.buf = w.o.AppendUint32(w.buf, uint32(n))
}

func (w *ngBuild) u16(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = w.o.AppendUint16(b, x)
	}
	return b
}

func (w *ngBuild) u32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = w.o.AppendUint32(b, x)
	}
	return b
}

func (w *ngBuild) option(code uint16, v []byte) []byte {
	b := append(w.u16(code, uint16(len(v))), v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngBuild) section() {
	w.block(ngSection, w.u32(ngByteOrder), w.u16(1, 0), w.u32(0xffffffff, 0xffffffff))
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// TestNgBlocks: what the fixtures lack, built here and read as gopacket
// reads it: timestamp offsets, binary and nanosecond resolutions, a
// big-endian section after a little-endian one, simple packets cut to the
// snap length, obsolete packet blocks, and blocks to skip.
func TestNgBlocks(t *testing.T) {
	frame := []byte("0123456789abcdefghij")
	var w ngBuild
	w.o = binary.LittleEndian
	w.section()
	// interface 0: Ethernet, snap 12, 2^-10 s, offset 1000 s
	off := w.o.AppendUint64(nil, 1000)
	w.block(ngInterface, w.u16(1, 0), w.u32(12), w.option(9, []byte{0x8a}), w.option(14, off), w.u32(0))
	// interface 1: raw IP, ns, a comment and an end of options
	w.block(ngInterface, w.u16(101, 0), w.u32(0), w.option(1, []byte("a comment")), w.option(9, []byte{9}), w.u32(0))
	w.block(ngEnhanced, w.u32(0, 7, 123456, uint32(len(frame)), 99), pad4(append([]byte{}, frame...)))
	w.block(ngEnhanced, w.u32(1, 0x12, 0x34567890, 5, 5), pad4(append([]byte{}, frame[:5]...)), w.option(1, []byte("hi")), w.u32(0))
	w.block(ngSimple, w.u32(uint32(len(frame))), pad4(append([]byte{}, frame...))) // cut to interface 0's snap
	w.block(5, w.u32(1, 0, 0), w.u32(0))                                           // interface statistics: skipped
	w.block(0x0bad, w.u32(1, 2, 3))                                                // a custom block: skipped
	w.block(ngOldPacket, w.u16(1, 0), w.u32(0, 42, 3, 3), pad4(append([]byte{}, frame[:3]...)))
	le := w.buf
	w = ngBuild{o: binary.BigEndian, buf: le}
	w.section() // a new section, big-endian: its own interfaces
	w.block(ngInterface, w.u16(1, 0), w.u32(0), w.u32(0))
	w.block(ngEnhanced, w.u32(0, 1, 2, 4, 4), pad4(append([]byte{}, frame[:4]...)))
	data := w.buf
	want, failed := gopacketFrames(data)
	if failed || len(want) != 5 {
		t.Fatalf("gopacket: %d frames, failed %v; the test's capture is wrong", len(want), failed)
	}
	for _, b := range []int{0, 1, 9, 64} {
		compareNg(t, "built", data, b)
	}
	got, _ := spotFrames(data, 0)
	ts := uint64(7)<<32 | 123456
	if sec := int64(ts>>10) + 1000; got[0].tsNs/1e9 != sec || got[2].data != string(frame[:12]) || got[3].link != 101 || got[4].tsNs != (1<<32+2)*1e3 {
		t.Errorf("frames %+v", got)
	}
}

// TestNgInterfaceCap: a section of nothing but interface descriptions
// ends in an error once it holds more than maxNgIfaces, not in memory
// exhausted.
func TestNgInterfaceCap(t *testing.T) {
	w := ngBuild{o: binary.LittleEndian}
	w.section()
	for range maxNgIfaces + 1 {
		w.block(ngInterface, w.u16(1, 0), w.u32(0))
	}
	src, err := NewSource(bytes.NewReader(w.buf), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Next()
	if ce, ok := err.(*CaptureError); !ok || ce.Frame != 1 {
		t.Fatalf("error %v, want a CaptureError at frame 1", err)
	}
	if len(src.ifaces) != maxNgIfaces {
		t.Errorf("%d interfaces held", len(src.ifaces))
	}
}
