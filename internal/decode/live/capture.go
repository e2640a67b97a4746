package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"

	"github.com/spot-hunt/spot/internal/decode/pcap"
)

// Options say what to capture.
type Options struct {
	Interface string
	// Snaplen cuts each packet to this many bytes (default 262144, as
	// tcpdump's).
	Snaplen int
	// Filter says which packets the decoder needs (see Filter).
	Filter FilterSpec
}

// Stats count a capture's packets.
type Stats struct {
	Read    int64 // frames handed to the decoder
	Kernel  int64 // packets the kernel's filter kept for the capture (dropped ones included)
	Dropped int64 // of those, packets the kernel dropped: the ring was full
}

// Ring geometry: 64 blocks of 1 MiB (64 MiB, as many packets as the kernel
// delivers in a second at 100k packets/s of full-size DNS responses). A
// block is handed over when full or blockTimeout after its first packet.
// A packet that no other follows thus reaches ReadFrame within
// blockTimeout+pollTimeout (flow's wall clock for quiet interfaces counts
// on that: it runs at least 100 ms behind).
const (
	blockSize    = 1 << 20
	numBlocks    = 64
	blockTimeout = 10 * time.Millisecond
	pollTimeout  = 50 * time.Millisecond
	// drainFor bounds how long, once stopped, the capture goes on reading
	// what the kernel had already queued.
	drainFor = 2 * time.Second
)

// Capture reads frames from a Linux interface with an AF_PACKET socket
// (TPACKET_V3 ring, gopacket's afpacket). It implements pcap.FrameReader.
type Capture struct {
	name  string
	link  pcap.LinkType
	tp    *afpacket.TPacket
	stop  atomic.Bool
	hurry atomic.Bool
	full  chan *batch // batches read, in order; closed at the end
	free  chan *batch
	cur   *batch
	next  int // the next frame of cur
	err   error
	stats Stats
	done  chan struct{}
	unreg func() bool
}

// batch is frames copied out of the ring, handed from the reading
// goroutine to the decoder.
type batch struct {
	data   []byte
	frames []frame
	err    error // the error that ended reading, in the last batch
}

type frame struct {
	off, n int
	tsNs   int64
	wire   int
}

const (
	batchFrames = 512
	batchBytes  = 1 << 20
	batchAge    = 20 * time.Millisecond // a batch is handed on at least this often while packets come
	inFlight    = 8
)

// Open starts capturing on o.Interface, until ctx is done or Close is
// called; then the frames the kernel had already queued are read (for at
// most 2 s) and ReadFrame returns io.EOF.
func Open(ctx context.Context, o Options) (*Capture, error) {
	if o.Interface == "" {
		return nil, errors.New("--interface: name an interface, or any")
	}
	if o.Snaplen <= 0 {
		o.Snaplen = 262144
	}
	link, sock, err := linkOf(o.Interface)
	if err != nil {
		return nil, err
	}
	filter, err := Filter(link, o.Filter, o.Snaplen)
	if err != nil {
		return nil, err
	}
	iface := o.Interface
	if iface == "any" {
		iface = "" // a socket bound to no interface hears them all
	}
	// A VLAN tag the kernel took off goes back into an Ethernet header; IP
	// packets without one have nowhere to put it.
	tp, err := afpacket.NewTPacket(afpacket.OptInterface(iface), afpacket.TPacketVersion3, sock,
		afpacket.OptBlockSize(blockSize), afpacket.OptNumBlocks(numBlocks), afpacket.OptFrameSize(afpacket.DefaultFrameSize),
		afpacket.OptBlockTimeout(blockTimeout), afpacket.OptPollTimeout(pollTimeout), afpacket.OptAddVLANHeader(sock == afpacket.SocketRaw))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("capturing on %s needs the CAP_NET_RAW capability (run as root, or: setcap cap_net_raw,cap_net_admin=ep $(command -v spot)): %w", o.Interface, err)
		}
		return nil, fmt.Errorf("capturing on %s: %w", o.Interface, err)
	}
	// The filter is set after the socket is bound: packets that came
	// before it passed no filter, and are skipped by the decoders' own
	// port checks.
	if err := tp.SetBPF(filter); err != nil {
		tp.Close()
		return nil, fmt.Errorf("%s: kernel filter: %w", o.Interface, err)
	}
	if link == pcap.LinkEthernet {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("%s: promiscuous mode: %w", o.Interface, err)
		}
	}
	c := &Capture{name: o.Interface, link: link, tp: tp, full: make(chan *batch, inFlight), free: make(chan *batch, inFlight+1), done: make(chan struct{})}
	for range inFlight + 1 {
		c.free <- &batch{data: make([]byte, 0, batchBytes+o.Snaplen), frames: make([]frame, 0, batchFrames)}
	}
	c.unreg = context.AfterFunc(ctx, func() { c.stop.Store(true) })
	go c.read()
	return c, nil
}

// linkOf says what frames an interface gives and how to read them: whole
// Ethernet frames from Ethernet and loopback interfaces, IP packets from
// others (a tunnel's, WireGuard's...) and from "any", whose interfaces'
// link headers differ (the kernel takes them off: tcpdump's "Linux
// cooked" capture, without its pseudo-header).
func linkOf(name string) (pcap.LinkType, afpacket.OptSocketType, error) {
	if name == "any" {
		return pcap.LinkRaw, afpacket.SocketDgram, nil
	}
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, 0, fmt.Errorf("--interface: no interface %q here (ip link lists them)", name)
		}
		return 0, 0, fmt.Errorf("--interface %s: %w", name, err)
	}
	t, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, 0, fmt.Errorf("--interface %s: hardware type %q", name, b)
	}
	switch t {
	case 1, 772: // ARPHRD_ETHER, ARPHRD_LOOPBACK (an Ethernet header of zeros)
		return pcap.LinkEthernet, afpacket.SocketRaw, nil
	case 65534: // ARPHRD_NONE: IP packets, no link header
		return pcap.LinkRaw, afpacket.SocketRaw, nil
	}
	// Others: the kernel strips the link header.
	return pcap.LinkRaw, afpacket.SocketDgram, nil
}

// LinkType is the link type of the frames.
func (c *Capture) LinkType() pcap.LinkType { return c.link }

// read copies frames out of the ring in batches until stopped.
func (c *Capture) read() {
	defer close(c.done)
	defer close(c.full)
	b := <-c.free
	var start time.Time // when b's first frame was read
	var stopAt time.Time
	send := func() {
		c.full <- b
		b = <-c.free
		b.data, b.frames, b.err = b.data[:0], b.frames[:0], nil
	}
	for {
		if stopAt.IsZero() && c.stop.Load() {
			stopAt = time.Now()
		}
		if !stopAt.IsZero() && (time.Since(stopAt) > drainFor || c.hurry.Load()) {
			break
		}
		data, ci, err := c.tp.ZeroCopyReadPacketData()
		if err == afpacket.ErrTimeout {
			if len(b.frames) > 0 {
				send()
			}
			if !stopAt.IsZero() {
				break // nothing more queued
			}
			continue
		}
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			b.err = fmt.Errorf("capturing on %s: %w", c.name, err)
			break
		}
		if len(b.frames) == 0 {
			start = time.Now()
		}
		off := len(b.data)
		b.data = append(b.data, data...)
		b.frames = append(b.frames, frame{off: off, n: len(data), tsNs: ci.Timestamp.UnixNano(), wire: ci.Length})
		if len(b.frames) == batchFrames || len(b.data) >= batchBytes || time.Since(start) >= batchAge {
			send()
		}
	}
	if _, v3, err := c.tp.SocketStats(); err == nil {
		// The kernel's count includes its drops.
		c.stats.Kernel, c.stats.Dropped = int64(v3.Packets()), int64(v3.Drops())
	}
	c.tp.Close()
	if len(b.frames) > 0 || b.err != nil {
		c.full <- b
	}
}

// Hurry stops the capture without reading what the kernel still holds.
func (c *Capture) Hurry() {
	c.hurry.Store(true)
	c.stop.Store(true)
}

// ReadFrame implements pcap.FrameReader: the next frame, waiting for it;
// io.EOF once the capture is stopped and what was queued is read.
func (c *Capture) ReadFrame() ([]byte, int64, int, error) {
	for c.cur == nil || c.next == len(c.cur.frames) {
		if c.cur != nil {
			err := c.cur.err
			c.free <- c.cur
			c.cur = nil
			if err != nil {
				c.err = err
			}
		}
		if c.err != nil {
			return nil, 0, 0, c.err
		}
		b, ok := <-c.full
		if !ok {
			c.err = io.EOF
			return nil, 0, 0, io.EOF
		}
		c.cur, c.next = b, 0
	}
	f := c.cur.frames[c.next]
	c.next++
	c.stats.Read++
	return c.cur.data[f.off : f.off+f.n : f.off+f.n], f.tsNs, f.wire, nil
}

// Buffered implements pcap.FrameReader.
func (c *Capture) Buffered() bool {
	return c.cur != nil && c.next < len(c.cur.frames) || len(c.full) > 0
}

// Close stops the capture, if it is not stopped yet, and waits for its
// reader; it is safe to call more than once.
func (c *Capture) Close() error {
	c.stop.Store(true)
	c.unreg()
	// Hand back what the reader queued, so that it never waits on us.
	for b := range c.full {
		c.free <- b
	}
	<-c.done
	return nil
}

// Stats are the capture's counts; the kernel's are known once
// ReadFrame has returned io.EOF (or Close has returned).
func (c *Capture) Stats() Stats {
	select {
	case <-c.done:
		return c.stats
	default:
		return Stats{Read: c.stats.Read}
	}
}
