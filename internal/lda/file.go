package lda

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/cespare/xxhash/v2"

	"github.com/spot-hunt/spot/internal/atomicfile"
)

// The model file: Magic, the format version (uint32, little endian), the
// body, and the xxhash64 (uint64, little endian) of everything before it.
// The body holds, in order: kind; features (count, then key/value pairs
// sorted by key); settings; statistics; documents; words; θ (documents × K
// float32); φ (K × words float32). Integers are unsigned varints, strings a
// varint length and bytes, floats IEEE 754 little endian.
const (
	Magic         = "SPOTLDA\x00"
	FormatVersion = 1
)

// ErrNotModel is returned (wrapped) by ReadFile for a file that is not a
// spot model.
var ErrNotModel = errors.New("not a spot model file")

// CheckKind returns a clear error when the model was trained for another
// kind of event.
func (m *Model) CheckKind(kind string) error {
	if m.Kind != kind {
		return fmt.Errorf("the model was trained on %s events, not %s", m.Kind, kind)
	}
	return nil
}

// WriteFile writes the model to path atomically: it appears there only
// once complete and synced.
func (m *Model) WriteFile(path string) error {
	if err := m.check(); err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := m.Encode(f); err != nil {
		f.Abort()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Encode writes the model file's bytes to w.
func (m *Model) Encode(w io.Writer) error {
	if err := m.check(); err != nil {
		return err
	}
	h := xxhash.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	e := &encoder{w: bw}
	e.raw([]byte(Magic))
	e.raw(binary.LittleEndian.AppendUint32(nil, FormatVersion))
	e.str(m.Kind)
	keys := make([]string, 0, len(m.Features))
	for k := range m.Features {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m.Features[k])
	}
	s := m.Settings
	e.uint(uint64(s.Topics))
	e.f64(s.Alpha)
	e.f64(s.Beta)
	e.uint(uint64(s.Iterations))
	e.raw(binary.LittleEndian.AppendUint64(nil, s.Seed))
	st := m.Stats
	e.uint(uint64(st.Documents))
	e.uint(uint64(st.Words))
	e.uint(uint64(st.Entries))
	e.f64(st.Tokens)
	e.f64(st.LogLikelihood)
	e.f64(st.Perplexity)
	e.uint(uint64(len(m.Docs)))
	for _, d := range m.Docs {
		e.str(d)
	}
	e.uint(uint64(len(m.Words)))
	for _, w := range m.Words {
		e.str(w)
	}
	for _, row := range m.DocTopic {
		e.f32s(row)
	}
	for _, row := range m.TopicWord {
		e.f32s(row)
	}
	if e.err != nil {
		return e.err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint64(nil, h.Sum64()))
	return err
}

// check verifies the shapes before writing.
func (m *Model) check() error {
	k := m.Settings.Topics
	if len(m.TopicWord) != k || len(m.DocTopic) != len(m.Docs) {
		return fmt.Errorf("lda: model shapes disagree: %d topics, %d topic rows, %d documents, %d document rows", k, len(m.TopicWord), len(m.Docs), len(m.DocTopic))
	}
	for _, row := range m.TopicWord {
		if len(row) != len(m.Words) {
			return fmt.Errorf("lda: topic row of %d words, vocabulary of %d", len(row), len(m.Words))
		}
	}
	for _, row := range m.DocTopic {
		if len(row) != k {
			return fmt.Errorf("lda: document row of %d topics, model of %d", len(row), k)
		}
	}
	return nil
}

type encoder struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) uint(x uint64) { e.raw(binary.AppendUvarint(e.buf[:0], x)) }

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) f64(x float64) {
	e.raw(binary.LittleEndian.AppendUint64(e.buf[:0], math.Float64bits(x)))
}

func (e *encoder) f32s(xs []float32) {
	for len(xs) > 0 {
		n := min(len(xs), 4096)
		b := e.buf[:0]
		for _, x := range xs[:n] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		e.buf = b
		e.raw(b)
		xs = xs[n:]
	}
}

// ReadFile reads a model written by WriteFile. It refuses, with a message
// naming the file, anything that is not a spot model, a model of another
// format version, and a damaged (truncated or altered) file.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode parses the bytes of a model file.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return nil, ErrNotModel
	}
	if len(b) < len(Magic)+4+8 {
		return nil, errors.New("spot model file is truncated")
	}
	if v := binary.LittleEndian.Uint32(b[len(Magic):]); v != FormatVersion {
		return nil, fmt.Errorf("spot model file format version %d, this spot reads version %d: retrain the model with this spot", v, FormatVersion)
	}
	body, sum := b[:len(b)-8], binary.LittleEndian.Uint64(b[len(b)-8:])
	if xxhash.Sum64(body) != sum {
		return nil, errors.New("spot model file is damaged (checksum mismatch): truncated or altered")
	}
	d := &decoder{b: body[len(Magic)+4:]}
	m := &Model{}
	m.Kind = d.str()
	if n := d.count(2); n > 0 {
		m.Features = make(map[string]string, n)
		for range n {
			k := d.str()
			m.Features[k] = d.str()
		}
	}
	m.Settings.Topics = d.count(1)
	m.Settings.Alpha = d.f64()
	m.Settings.Beta = d.f64()
	m.Settings.Iterations = d.count(0)
	m.Settings.Seed = d.u64()
	m.Stats.Documents = d.int()
	m.Stats.Words = d.int()
	m.Stats.Entries = d.int()
	m.Stats.Tokens = d.f64()
	m.Stats.LogLikelihood = d.f64()
	m.Stats.Perplexity = d.f64()
	m.Docs = make([]string, d.count(1))
	for i := range m.Docs {
		m.Docs[i] = d.str()
	}
	m.Words = make([]string, d.count(1))
	for i := range m.Words {
		m.Words[i] = d.str()
	}
	k := m.Settings.Topics
	if k < 1 || d.err != nil {
		return nil, d.fail()
	}
	if !strictlySorted(m.Docs) || !strictlySorted(m.Words) {
		return nil, errors.New("spot model file is malformed: documents or words out of order")
	}
	if uint64(len(m.Docs))*uint64(k)*4+uint64(len(m.Words))*uint64(k)*4 != uint64(len(d.b)) {
		return nil, errors.New("spot model file: matrix sizes do not match the header")
	}
	m.DocTopic = d.matrix(len(m.Docs), k)
	m.TopicWord = d.matrix(k, len(m.Words))
	return m, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() error {
	if d.err == nil {
		d.err = errors.New("spot model file is malformed")
	}
	return d.err
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

// count reads a length, refusing one that cannot fit in what is left
// (each item takes at least min bytes).
func (d *decoder) count(min int) int {
	x := d.uint()
	if x > uint64(len(d.b)) && min > 0 || x > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(x)
}

func (d *decoder) int() int {
	x := d.uint()
	if x > math.MaxInt64 {
		d.fail()
		return 0
	}
	return int(x)
}

func (d *decoder) str() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) u64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail()
		return 0
	}
	x := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return x
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

func (d *decoder) matrix(rows, cols int) [][]float32 {
	flat := make([]float32, rows*cols)
	for i := range flat {
		flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*i:]))
	}
	d.b = d.b[4*len(flat):]
	m := make([][]float32, rows)
	for i := range m {
		m[i] = flat[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return m
}

func strictlySorted(xs []string) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i-1] >= xs[i] {
			return false
		}
	}
	return true
}
