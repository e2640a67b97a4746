package flow

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spot-hunt/spot/internal/decode/netflow"
	"github.com/spot-hunt/spot/internal/decode/sflow"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/partition"
	"github.com/spot-hunt/spot/internal/record"
)

// CollectOptions configure the NetFlow/IPFIX collector.
type CollectOptions struct {
	Listen string // "udp://ADDR:PORT" or "ADDR:PORT"
	Dir    string // root of the hourly partitions
	// Warn is told about malformed datagrams (the first few are worth a line).
	Warn func(exporter netip.AddrPort, err error)
	// Ready, when set, is called with the bound address once listening.
	Ready func(addr net.Addr)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Draining, when set, is called when ctx is done and the drain starts.
	Draining func(time.Duration)
	// Hurry, when closed after ctx is done, cuts the drain of the socket
	// short: what was received is still written.
	Hurry <-chan struct{}
	// Unwritten, when set, is kept at the number of records received but
	// not yet in a committed partition file.
	Unwritten *atomic.Int64
}

// drainTime bounds how long a stopped collector reads what the kernel
// still holds.
const drainTime = 250 * time.Millisecond

// CollectStats are reported when the collector stops.
type CollectStats struct {
	Datagrams   int64       // received
	Records     int64       // flow records written
	SFlow       sflow.Stats // what the sFlow datagrams among them held
	Malformed   int64       // datagrams not (wholly) decoded
	DroppedSets int64       // export data sets whose template never came
	KernelDrops int64       // datagrams the kernel dropped (socket buffer full), -1 unknown
	Files       int         // partition files written
}

// ParseListen turns udp://ADDR:PORT (or ADDR:PORT) into ADDR:PORT.
func ParseListen(s string) (string, error) {
	addr := strings.TrimPrefix(s, "udp://")
	if strings.Contains(addr, "://") {
		return "", fmt.Errorf("--listen %q: only udp:// is supported", s)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("--listen %q: %v", s, err)
	}
	return addr, nil
}

type gram struct {
	from netip.AddrPort
	at   time.Time
	buf  *[]byte // from the queue's pool of its size class
	n    int     // the datagram is (*buf)[:n]
}

// The datagrams received and not yet decoded wait in a queue bounded in
// bytes: each is copied into a buffer of its size class (2 KiB, 4 KiB, ...
// 64 KiB), and the reader waits while the queued buffers add up to
// queueBytes; the socket's buffer then holds what comes, and the kernel
// drops (and counts) what it cannot. A 64 KiB buffer for every datagram in
// a 4096-deep queue held up to 256 MiB under a flood.
const (
	queueBytes = 16 << 20
	queueUnit  = 2 << 10 // the smallest size class; the queue counts in these
)

type gramQueue struct {
	grams  chan gram
	units  chan struct{} // a token per queueUnit queued
	pools  [6]sync.Pool  // *[]byte of queueUnit<<class bytes
	closed chan struct{} // the decoder has stopped: put gives up
}

func newGramQueue() *gramQueue {
	return &gramQueue{grams: make(chan gram, queueBytes/queueUnit), units: make(chan struct{}, queueBytes/queueUnit), closed: make(chan struct{})}
}

// sizeClass is the class of an n-byte datagram: its buffer is queueUnit<<class bytes.
func sizeClass(n int) int { return bits.Len(uint(max(n, 1)-1) / queueUnit) }

// put queues a copy of data, once there is room for it; false if the
// decoder has stopped.
func (q *gramQueue) put(from netip.AddrPort, at time.Time, data []byte) bool {
	c := sizeClass(len(data))
	for range 1 << c {
		select {
		case q.units <- struct{}{}:
		case <-q.closed:
			return false
		}
	}
	buf, _ := q.pools[c].Get().(*[]byte)
	if buf == nil {
		b := make([]byte, queueUnit<<c)
		buf = &b
	}
	select {
	case q.grams <- gram{from: from, at: at, buf: buf, n: copy(*buf, data)}:
		return true
	case <-q.closed:
		return false
	}
}

// done returns a decoded datagram's buffer and its room in the queue.
func (q *gramQueue) done(g gram) {
	c := sizeClass(cap(*g.buf))
	q.pools[c].Put(g.buf)
	for range 1 << c {
		<-q.units
	}
}

// Collect receives NetFlow/IPFIX and sFlow on a UDP socket until ctx is done and
// writes the flows as Parquet in Hive-style hourly partitions,
// DIR/y=YYYY/m=MM/d=DD/h=HH/flows-<start>.parquet, by the UTC hour each
// datagram was received in. An hour's file is closed (renamed into place)
// when the hour ends; on cancellation the datagrams the kernel already holds
// are read, and everything received is written out.
func Collect(ctx context.Context, o CollectOptions) (CollectStats, error) {
	st := CollectStats{KernelDrops: -1}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Warn == nil {
		o.Warn = func(netip.AddrPort, error) {}
	}
	addr, err := ParseListen(o.Listen)
	if err != nil {
		return st, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return st, err
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return st, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return st, err
	}
	conn.SetReadBuffer(32 << 20)
	if o.Ready != nil {
		o.Ready(conn.LocalAddr())
	}
	q := newGramQueue()
	defer close(q.closed)
	// Reader: socket to queue, until ctx is done.
	var readErr error
	go func() {
		defer close(q.grams)
		buf := make([]byte, 64<<10) // as large as a UDP datagram
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
					readErr = err
				}
				return
			}
			if !q.put(from, o.Now(), buf[:n]) {
				return
			}
		}
	}()
	drops := make(chan int64, 1)
	go func() {
		<-ctx.Done()
		drops <- udpDrops(conn.LocalAddr()) // while the socket is still open
		// Drain what the kernel already holds, then stop reading.
		conn.SetReadDeadline(time.Now().Add(drainTime))
		if o.Draining != nil {
			o.Draining(drainTime)
		}
		if o.Hurry != nil {
			t := time.NewTimer(drainTime)
			defer t.Stop()
			select {
			case <-o.Hurry:
				conn.SetReadDeadline(time.Now())
			case <-t.C:
			}
		}
	}()
	unwritten := o.Unwritten
	if unwritten == nil {
		unwritten = new(atomic.Int64)
	}

	dec := netflow.New("collector")
	sf := sflow.New("collector")
	var (
		w       ioformat.Writer[record.Flow]
		hour    time.Time
		recs    []record.Flow
		werr    error
		tick    = time.NewTicker(time.Second)
		pending []record.Flow
	)
	defer tick.Stop()
	var inFile int64 // records written to the open hour's file
	closeHour := func() {
		if w != nil {
			if len(pending) > 0 && werr == nil {
				werr = w.Write(pending)
			}
			pending = pending[:0]
			if err := w.Close(); err != nil && werr == nil {
				werr = err
			}
			if werr == nil {
				unwritten.Add(-inFile)
			}
			w, inFile = nil, 0
			st.Files++
		}
	}
	write := func(at time.Time, rs []record.Flow) {
		h := at.UTC().Truncate(time.Hour)
		if w != nil && !h.Equal(hour) {
			closeHour()
		}
		if w == nil {
			hour = h
			dir := filepath.Join(o.Dir, partition.Hour.Path(partition.Hour.Key(h.Unix())))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				werr = err
				return
			}
			name := filepath.Join(dir, fmt.Sprintf("flows-%s.parquet", at.UTC().Format("20060102T150405.000000000")))
			w, err = ioformat.Create[record.Flow](ioformat.Dest{Path: name, Format: ioformat.Parquet}, record.Flow{}.Meta())
			if err != nil {
				werr = err
				return
			}
		}
		pending = append(pending, rs...)
		inFile += int64(len(rs))
		if len(pending) >= ioformat.BatchSize {
			if werr == nil {
				werr = w.Write(pending)
			}
			pending = pending[:0]
		}
	}
	for werr == nil {
		select {
		case g, ok := <-q.grams:
			if !ok {
				goto done
			}
			st.Datagrams++
			data := (*g.buf)[:g.n]
			if len(data) >= 4 && binary.BigEndian.Uint32(data) == 5 { // sFlow v5 (NetFlow v5 starts 0x0005)
				recs, err = sf.Decode(g.from.Addr().Unmap(), g.at.UnixNano(), data, recs[:0])
			} else {
				recs, err = dec.Decode(g.from.Addr().Unmap(), data, recs[:0])
			}
			if err != nil {
				st.Malformed++
				o.Warn(g.from, err)
			}
			q.done(g)
			if len(recs) > 0 {
				st.Records += int64(len(recs))
				unwritten.Add(int64(len(recs)))
				write(g.at, recs)
			}
		case now := <-tick.C:
			if w != nil && !now.UTC().Truncate(time.Hour).Equal(hour) {
				closeHour()
			}
		}
	}
done:
	select {
	case st.KernelDrops = <-drops:
	default:
		st.KernelDrops = udpDrops(conn.LocalAddr())
	}
	conn.Close()
	closeHour()
	st.DroppedSets = int64(dec.Flush())
	st.SFlow = sf.Stats
	if werr != nil {
		return st, werr
	}
	return st, readErr
}

// udpDrops reads the kernel's drop counter of the socket bound to addr from
// /proc/net/udp{,6} (Linux); -1 when unknown.
func udpDrops(addr net.Addr) int64 {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return -1
	}
	port := fmt.Sprintf(":%04X", ua.Port)
	var total int64 = -1
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 13 || !strings.HasSuffix(fields[1], port) {
				continue
			}
			if d, err := strconv.ParseInt(fields[len(fields)-1], 10, 64); err == nil {
				if total < 0 {
					total = 0
				}
				total += d
			}
		}
		fh.Close()
	}
	return total
}
