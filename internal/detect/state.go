package detect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/spot-hunt/spot/internal/record"
)

// Set is the detectors of one kind of event.
type Set interface {
	Kind() record.Kind
	// Finish judges every subject and returns the findings; see DNSSet.Finish.
	Finish() []record.Finding
	// Merge adds the state of o, a Set of the same kind that observed other
	// events, as if this Set had observed them too.
	Merge(o Set) error
	// WriteState writes the state, to be read by ReadState and merged.
	WriteState(w io.Writer) error
	// WriteJudged writes the verdicts of Finish, to be read by ReadState
	// and scored with (judged.go).
	WriteJudged(w io.Writer) error
}

// Columns are the record columns the detectors read (FromFlow, FromDNS,
// FromProxy): a stage reads Parquet in those alone.
var Columns = map[record.Kind][]string{
	record.KindFlow: {"unix_tstamp", "tdur", "sip", "dip", "sport", "dport", "proto", "flag",
		"ipkt", "ibyt", "opkt", "obyt", "tstart_ns", "tend_ns"},
	record.KindDNS:   {"unix_tstamp", "frame_len", "ip_dst", "ip_src", "dns_qry_name", "dns_qry_type", "dns_qry_rcode", "dns_a", "ts_ns", "response"},
	record.KindProxy: {"clientip", "host", "useragent", "scbytes", "csbytes", "ts_ns"},
}

// New returns the detectors of kind with limits lim.
func New(kind record.Kind, lim Limits) (Set, error) {
	switch kind {
	case record.KindDNS:
		return NewDNS(lim), nil
	case record.KindFlow:
		return NewFlow(lim), nil
	case record.KindProxy:
		return NewProxy(lim), nil
	}
	return nil, fmt.Errorf("no detectors for %s records", kind)
}

func (s *DNSSet) Kind() record.Kind   { return record.KindDNS }
func (s *FlowSet) Kind() record.Kind  { return record.KindFlow }
func (s *ProxySet) Kind() record.Kind { return record.KindProxy }

// stateMagic starts every state file; the version follows it.
const (
	stateMagic = "spot-detect-state\n"
	// 2: a form (full or judged) follows the kind; 3: DNS (client, domain)
	// subjects keep their answer addresses; 4: a judged flow state keeps
	// its strong pair findings' connection times (lookups.go)
	stateVersion = 4
)

// IsState reports whether head, the first bytes of a file, starts a state.
func IsState(head []byte) bool { return len(head) >= 4 && string(head[:4]) == stateMagic[:4] }

// ReadState reads a state written by WriteState, with limits lim (its
// own limits are not kept: the reader's apply).
func ReadState(r io.Reader, lim Limits) (Set, error) {
	d, kind, form, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	set, err := New(kind, lim)
	if err != nil {
		return nil, err
	}
	if form == formJudged && lim.Contacts != nil {
		return nil, errJudgedContacts
	}
	sd := set.(stateDecoder)
	if form == formJudged {
		sd.decodeJudged(d)
	} else {
		sd.decode(d)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return set, nil
}

// MergeState reads a full state written by WriteState into set, merging
// each subject as it is read, as set.Merge(ReadState(r)) does without
// holding the state read whole beside set: merging a day's shards holds
// the day's state once.
func MergeState(set Set, r io.Reader) error {
	d, kind, form, err := readHeader(r)
	if err != nil {
		return err
	}
	if kind != set.Kind() {
		return fmt.Errorf("cannot merge %s detector state into %s", kind, set.Kind())
	}
	if form == formJudged || set.(stateDecoder).isJudged() {
		return errJudged
	}
	set.(stateDecoder).decode(d)
	return d.end()
}

// stateDecoder is what a set decodes: a full state, merged into its own
// subjects, or a judged one.
type stateDecoder interface {
	decode(*dec)
	decodeJudged(*dec)
	isJudged() bool
}

// readHeader reads a state's header: its kind and form.
func readHeader(r io.Reader) (d *dec, kind record.Kind, form uint64, err error) {
	d = newDec(r)
	magic := make([]byte, len(stateMagic))
	if err := d.read(magic); err != nil || string(magic) != stateMagic {
		return nil, "", 0, errors.New("not a detector state (spot detect --state)")
	}
	v := d.u()
	if v < 1 || v > stateVersion {
		return nil, "", 0, fmt.Errorf("detector state of version %d; this spot reads versions 1 to %d", v, stateVersion)
	}
	d.version = v
	kind = record.Kind(d.s())
	form = formFull
	if v >= 2 {
		form = d.u()
	}
	if d.err == nil && form != formFull && form != formJudged {
		d.err = fmt.Errorf("unknown form %d", form)
	}
	if d.err != nil {
		return nil, "", 0, fmt.Errorf("corrupt detector state: %w", d.err)
	}
	return d, kind, form, nil
}

// end checks that the state read whole and its checksum.
func (d *dec) end() error {
	sum := d.sum()
	var tail [4]byte
	if err := d.read(tail[:]); d.err == nil && err != nil {
		d.err = err
	}
	if d.err != nil {
		return fmt.Errorf("corrupt detector state: %w", d.err)
	}
	if binary.BigEndian.Uint32(tail[:]) != sum {
		return errors.New("corrupt detector state: checksum mismatch")
	}
	return nil
}

func writeState(w io.Writer, kind record.Kind, form uint64, body func(*enc)) error {
	bw := bufio.NewWriter(w)
	e := &enc{w: bw, crc: crc32.NewIEEE()}
	e.raw([]byte(stateMagic))
	e.u(stateVersion)
	e.s(string(kind))
	e.u(form)
	body(e)
	if e.err != nil {
		return e.err
	}
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], e.crc.Sum32())
	if _, err := bw.Write(tail[:]); err != nil {
		return err
	}
	return bw.Flush()
}

// ---- the sets ----

func (s *DNSSet) WriteState(w io.Writer) error {
	if s.only {
		return errJudged
	}
	return writeState(w, record.KindDNS, formFull, func(e *enc) {
		e.i(s.w0)
		e.i(s.w1)
		encTable(e, s.tunnels, (*pairState).encode)
		encTable(e, s.domains, (*tunnelState).encode)
		encTable(e, s.names, (*dnsBeacon).encode)
		encTable(e, s.beacons, (*dnsBeacon).encode)
		encTable(e, s.servers, (*serverState).encode)
	})
}

// decode merges a full state's subjects into s's.
func (s *DNSSet) decode(d *dec) {
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, d.i(), d.i())
	decTable(d, s.tunnels, (*pairState).decode, (*pairState).merge)
	decTable(d, s.domains, (*tunnelState).decode, (*tunnelState).merge)
	decTable(d, s.names, (*dnsBeacon).decode, (*dnsBeacon).merge)
	decTable(d, s.beacons, (*dnsBeacon).decode, (*dnsBeacon).merge)
	decTable(d, s.servers, (*serverState).decode, (*serverState).merge)
}

func (s *DNSSet) Merge(o Set) error {
	t, ok := o.(*DNSSet)
	if !ok {
		return fmt.Errorf("cannot merge %s detector state into dns", o.Kind())
	}
	if s.only || t.only {
		return errJudged
	}
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, t.w0, t.w1)
	s.tunnels.merge(t.tunnels, (*pairState).merge)
	s.domains.merge(t.domains, (*tunnelState).merge)
	s.names.merge(t.names, (*dnsBeacon).merge)
	s.beacons.merge(t.beacons, (*dnsBeacon).merge)
	s.servers.merge(t.servers, (*serverState).merge)
	return nil
}

func (s *FlowSet) WriteState(w io.Writer) error {
	if s.only {
		return errJudged
	}
	return writeState(w, record.KindFlow, formFull, func(e *enc) {
		e.i(s.w0)
		e.i(s.w1)
		encTable(e, s.pairs, (*flowPair).encode)
		encTable(e, s.vscan, (*scanState).encode)
		encTable(e, s.hscan, (*scanState).encode)
	})
}

// decode merges a full state's subjects into s's.
func (s *FlowSet) decode(d *dec) {
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, d.i(), d.i())
	decTable(d, s.pairs, (*flowPair).decode, (*flowPair).merge)
	decTable(d, s.vscan, (*scanState).decode, (*scanState).merge)
	decTable(d, s.hscan, (*scanState).decode, (*scanState).merge)
}

func (s *FlowSet) Merge(o Set) error {
	t, ok := o.(*FlowSet)
	if !ok {
		return fmt.Errorf("cannot merge %s detector state into flow", o.Kind())
	}
	if s.only || t.only {
		return errJudged
	}
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, t.w0, t.w1)
	s.pairs.merge(t.pairs, (*flowPair).merge)
	s.vscan.merge(t.vscan, (*scanState).merge)
	s.hscan.merge(t.hscan, (*scanState).merge)
	return nil
}

func (s *ProxySet) WriteState(w io.Writer) error {
	if s.only {
		return errJudged
	}
	return writeState(w, record.KindProxy, formFull, func(e *enc) {
		e.i(s.w0)
		e.i(s.w1)
		encTable(e, s.pairs, (*proxyPair).encode)
		encTable(e, s.agents, (*agentState).encode)
	})
}

// decode merges a full state's subjects into s's.
func (s *ProxySet) decode(d *dec) {
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, d.i(), d.i())
	decTable(d, s.pairs, (*proxyPair).decode, (*proxyPair).merge)
	decTable(d, s.agents, (*agentState).decode, (*agentState).merge)
}

func (s *ProxySet) Merge(o Set) error {
	t, ok := o.(*ProxySet)
	if !ok {
		return fmt.Errorf("cannot merge %s detector state into proxy", o.Kind())
	}
	if s.only || t.only {
		return errJudged
	}
	s.w0, s.w1 = mergeWindow(s.w0, s.w1, t.w0, t.w1)
	s.pairs.merge(t.pairs, (*proxyPair).merge)
	s.agents.merge(t.agents, (*agentState).merge)
	return nil
}

func mergeWindow(a0, a1, b0, b1 int64) (int64, int64) {
	if b0 != 0 && (a0 == 0 || b0 < a0) {
		a0 = b0
	}
	return a0, max(a1, b1)
}

// ---- the states ----

func (p *proxyPair) merge(o *proxyPair) {
	p.beaconState.merge(&o.beaconState)
	p.sent += o.sent
	p.received += o.received
	p.maxSent = max(p.maxSent, o.maxSent)
	if o.first != 0 && (p.first == 0 || o.first < p.first) {
		p.first = o.first
	}
	p.last = max(p.last, o.last)
}

func (a *agentState) merge(o *agentState) {
	a.clients.merge(&o.clients)
	a.requests += o.requests
	if o.client < a.client {
		a.client = o.client
	}
}

func (d *dnsBeacon) merge(o *dnsBeacon) {
	d.beaconState.merge(&o.beaconState)
	d.odd += o.odd
}

func (s *tunnelState) encode(e *enc) {
	e.s(s.client)
	e.s(s.domain)
	s.names.encode(e)
	e.i(s.events)
	e.i(s.odd)
	e.i(s.nx)
	e.i(s.overlong)
	e.i(int64(s.maxLabel))
	e.i(s.first)
	e.i(s.last)
	e.s(s.example)
}

func (s *tunnelState) decode(d *dec) {
	s.client, s.domain = d.s(), d.s()
	s.names.decode(d)
	s.events, s.odd, s.nx, s.overlong = d.i(), d.i(), d.i(), d.i()
	s.maxLabel = int(d.i())
	s.first, s.last = d.i(), d.i()
	s.example = d.s()
}

func (p *pairState) merge(o *pairState) {
	p.tunnelState.merge(&o.tunnelState)
	p.resolved.merge(&o.resolved)
}

func (p *pairState) encode(e *enc) {
	p.tunnelState.encode(e)
	p.resolved.encode(e)
}

// decode reads a pair; states before version 3 kept no answer addresses.
func (p *pairState) decode(d *dec) {
	p.tunnelState.decode(d)
	if d.version >= 3 {
		p.resolved.decode(d)
	}
}

func (b *dnsBeacon) encode(e *enc) {
	e.s(b.client)
	e.s(b.name)
	b.beaconState.encode(e)
	e.i(b.odd)
}

func (b *dnsBeacon) decode(d *dec) {
	b.client, b.name = d.s(), d.s()
	b.beaconState.decode(d)
	b.odd = d.i()
}

func (p *flowPair) encode(e *enc) {
	e.s(p.src)
	e.s(p.dst)
	e.i(int64(p.dport))
	e.s(p.proto)
	p.beaconState.encode(e)
	for _, v := range []int64{p.out, p.in, p.maxOut, p.dur, p.conns, p.short, p.unans, p.first, p.last} {
		e.i(v)
	}
}

func (p *flowPair) decode(d *dec) {
	p.src, p.dst = d.s(), d.s()
	p.dport = int32(d.i())
	p.proto = d.s()
	p.beaconState.decode(d)
	for _, v := range []*int64{&p.out, &p.in, &p.maxOut, &p.dur, &p.conns, &p.short, &p.unans, &p.first, &p.last} {
		*v = d.i()
	}
}

func (s *scanState) encode(e *enc) {
	e.s(s.src)
	e.s(s.dst)
	e.i(int64(s.dport))
	e.s(s.proto)
	e.b(s.vertical)
	s.targets.encode(e)
	e.i(s.probes)
	e.i(s.first)
	e.i(s.last)
}

func (s *scanState) decode(d *dec) {
	s.src, s.dst = d.s(), d.s()
	s.dport = int32(d.i())
	s.proto = d.s()
	s.vertical = d.b()
	s.targets.decode(d)
	s.probes, s.first, s.last = d.i(), d.i(), d.i()
}

func (p *proxyPair) encode(e *enc) {
	e.s(p.client)
	e.s(p.host)
	p.beaconState.encode(e)
	for _, v := range []int64{p.sent, p.received, p.maxSent, p.first, p.last} {
		e.i(v)
	}
}

func (p *proxyPair) decode(d *dec) {
	p.client, p.host = d.s(), d.s()
	p.beaconState.decode(d)
	for _, v := range []*int64{&p.sent, &p.received, &p.maxSent, &p.first, &p.last} {
		*v = d.i()
	}
}

func (a *agentState) encode(e *enc) {
	e.s(a.agent)
	a.clients.encode(e)
	e.i(a.requests)
	e.s(a.client)
}

func (a *agentState) decode(d *dec) {
	a.agent = d.s()
	a.clients.decode(d)
	a.requests = d.i()
	a.client = d.s()
}

func (v *serverState) encode(e *enc) {
	e.s(v.server)
	v.clients.encode(e)
	e.i(v.events)
}

func (v *serverState) decode(d *dec) {
	v.server = d.s()
	v.clients.decode(d)
	v.events = d.i()
}

func (v *serverState) merge(o *serverState) {
	v.clients.merge(&o.clients)
	v.events += o.events
}

// encode writes the kept items in hash order, so that equal sets write
// equal bytes.
func (x *distinct) encode(e *enc) {
	e.u(x.mask)
	kept := x.kept()
	e.u(uint64(len(kept)))
	for _, kw := range kept {
		e.u64(kw.h)
		e.f(float64(kw.w))
	}
}

func (x *distinct) decode(d *dec) {
	x.mask = d.u()
	n := d.n()
	if n > maxExact {
		d.err = fmt.Errorf("%d distinct items, more than the %d kept", n, maxExact)
		return
	}
	for range n {
		k, w := d.u64(), float32(d.f())
		p, _ := x.ref(k, w) // whatever the mask
		*p = w
	}
}

// encode writes the event times and sizes in time order.
func (b *beaconState) encode(e *enc) {
	e.u(b.mask)
	e.i(b.events)
	idx := make([]int, len(b.ts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		if b.ts[idx[i]] != b.ts[idx[j]] {
			return b.ts[idx[i]] < b.ts[idx[j]]
		}
		return b.sizes[idx[i]] < b.sizes[idx[j]]
	})
	e.u(uint64(len(idx)))
	prev := int64(0)
	for _, i := range idx {
		e.i(b.ts[i] - prev)
		prev = b.ts[i]
		e.i(int64(b.sizes[i]))
	}
}

func (b *beaconState) decode(d *dec) {
	b.mask = d.u()
	b.events = d.i()
	n := d.n()
	if n > maxBeats {
		d.err = fmt.Errorf("%d event times, more than the %d kept", n, maxBeats)
		return
	}
	b.ts, b.sizes = make([]int64, 0, n), make([]int32, 0, n)
	prev := int64(0)
	for range n {
		prev += d.i()
		b.ts = append(b.ts, prev)
		b.sizes = append(b.sizes, int32(d.i()))
	}
}

// encTable writes a table's subjects in hash order.
func encTable[S any](e *enc, t *table[S], f func(*S, *enc)) {
	e.i(t.dropped)
	keys := make([]uint64, 0, t.len())
	for k := range t.all() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		e.u64(k)
		s, _ := t.lookup(k)
		f(s, e)
	}
}

// decTable reads a table's subjects into t, combining those t holds.
func decTable[S any](d *dec, t *table[S], f func(*S, *dec), combine func(dst, src *S)) {
	t.dropped += d.i()
	for n := d.n(); n > 0 && d.err == nil; n-- {
		k := d.u64()
		var s S
		f(&s, d)
		if d.err != nil {
			return
		}
		if have, ok := t.lookup(k); ok {
			combine(have, &s)
			continue
		}
		*t.add(k) = s
	}
}

// ---- the codec: varints and strings, checksummed ----

type enc struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *enc) raw(b []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(b)
	_, e.err = e.w.Write(b)
}

func (e *enc) u(x uint64) { e.raw(e.buf[:binary.PutUvarint(e.buf[:], x)]) }
func (e *enc) i(x int64)  { e.raw(e.buf[:binary.PutVarint(e.buf[:], x)]) }
func (e *enc) u64(x uint64) {
	binary.BigEndian.PutUint64(e.buf[:8], x)
	e.raw(e.buf[:8])
}
func (e *enc) f(x float64) { e.u64(math.Float64bits(x)) }
func (e *enc) s(x string) {
	e.u(uint64(len(x)))
	e.raw([]byte(x))
}
func (e *enc) b(x bool) {
	if x {
		e.u(1)
	} else {
		e.u(0)
	}
}

type dec struct {
	version uint64 // of the state being read
	r       io.Reader
	buf     []byte // read from r; buf[pos:] is not decoded yet
	pos     int
	summed  int // buf[:summed] is in crc: decoded bytes are checksummed a buffer at a time
	crc     hash.Hash32
	err     error
}

func newDec(r io.Reader) *dec {
	return &dec{r: r, buf: make([]byte, 0, 64<<10), crc: crc32.NewIEEE()}
}

// maxItems bounds any count read, so that a corrupt state fails instead
// of allocating without end.
const maxItems = 1 << 31

// fill reads more of the state once every byte read is decoded.
func (d *dec) fill() error {
	d.crc.Write(d.buf[d.summed:d.pos])
	n, err := io.ReadAtLeast(d.r, d.buf[:cap(d.buf)], 1)
	d.buf, d.pos, d.summed = d.buf[:n], 0, 0
	return err
}

// sum returns the checksum of the bytes decoded so far.
func (d *dec) sum() uint32 {
	d.crc.Write(d.buf[d.summed:d.pos])
	d.summed = d.pos
	return d.crc.Sum32()
}

// ReadByte makes d an io.ByteReader for the varints.
func (d *dec) ReadByte() (byte, error) {
	if d.pos == len(d.buf) {
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	c := d.buf[d.pos]
	d.pos++
	return c, nil
}

// read fills b with the next bytes of the state.
func (d *dec) read(b []byte) error {
	for len(b) > 0 {
		if d.pos == len(d.buf) {
			if err := d.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		n := copy(b, d.buf[d.pos:])
		d.pos += n
		b = b[n:]
	}
	return nil
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	if d.pos+binary.MaxVarintLen64 <= len(d.buf) { // the varint is in the buffer
		x, n := binary.Uvarint(d.buf[d.pos:])
		if n > 0 {
			d.pos += n
			return x
		}
	}
	x, err := binary.ReadUvarint(d)
	d.err = err
	return x
}

func (d *dec) i() int64 {
	u := d.u()
	return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.PutVarint writes
}

func (d *dec) n() int {
	x := d.u()
	if x > maxItems {
		d.err = fmt.Errorf("count %d out of range", x)
		return 0
	}
	return int(x)
}

func (d *dec) u64() uint64 {
	if d.err != nil {
		return 0
	}
	var b [8]byte
	if d.err = d.read(b[:]); d.err != nil {
		return 0
	}
	return binary.BigEndian.Uint64(b[:])
}

func (d *dec) f() float64 { return math.Float64frombits(d.u64()) }

func (d *dec) s() string {
	n := d.n()
	if d.err != nil || n == 0 {
		return ""
	}
	if n > 1<<20 {
		d.err = fmt.Errorf("string of %d bytes", n)
		return ""
	}
	if d.pos+n <= len(d.buf) {
		d.pos += n
		return string(d.buf[d.pos-n : d.pos])
	}
	b := make([]byte, n)
	if d.err = d.read(b); d.err != nil {
		return ""
	}
	return string(b)
}

func (d *dec) b() bool { return d.u() != 0 }
