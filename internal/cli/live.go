package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/spot-hunt/spot/internal/decode/live"
	"github.com/spot-hunt/spot/internal/decode/pcap"
)

// liveFlags are a decoder's --interface and --snaplen: capture from a
// Linux interface instead of reading files.
type liveFlags struct {
	iface   string
	snaplen int
	dropped int64 // packets the kernel dropped, once run returns
}

func (l *liveFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&l.iface, "interface", "", "capture from the Linux network interface `IF` (any: all of them) until SIGINT or SIGTERM, instead of reading files (AF_PACKET; needs CAP_NET_RAW)")
	f.IntVar(&l.snaplen, "snaplen", 262144, "with --interface: keep at most `BYTES` of each packet")
}

// check rejects flags that do not go together.
func (l *liveFlags) check(args []string) error {
	if l.iface == "" {
		return nil
	}
	if len(args) > 0 {
		return usagef("--interface reads from an interface: name no files (%s)", args[0])
	}
	if l.snaplen < 64 || l.snaplen > 262144 {
		return usagef("--snaplen: %d (want 64 to 262144)", l.snaplen)
	}
	return nil
}

// run captures from the interface and hands the packets to decode until
// SIGINT or SIGTERM; decode's context is never cancelled: it ends when the
// source does, after the packets the kernel had queued (a second signal
// cuts that short). The counts go to stderr.
func (l *liveFlags) run(g *globals, spec live.FilterSpec, decode func(context.Context, *pcap.Source) error) error {
	c, err := live.Open(g.ctx, live.Options{Interface: l.iface, Snaplen: l.snaplen, Filter: spec})
	if err != nil {
		return err
	}
	setLateSignals(&lateSignals{hurry: func() {
		c.Hurry()
		fmt.Fprintf(g.io.Err, "spot: stopping the capture on %s without reading what the kernel still holds (a third signal abandons what is not written)\n", l.iface)
	}})
	defer setLateSignals(nil)
	slog.Info("capturing; SIGINT or SIGTERM stops", "interface", l.iface, "link", c.LinkType(), "snaplen", l.snaplen)
	err = decode(context.WithoutCancel(g.ctx), pcap.NewFrameSource(c, c.LinkType(), l.iface))
	c.Close()
	st := c.Stats()
	l.dropped = st.Dropped
	fmt.Fprintf(g.io.Err, "%s: %d packets captured; %d passed the kernel's filter, %d of them dropped by the kernel\n",
		l.iface, st.Read, st.Kernel, st.Dropped)
	return err
}

// lost is the error for packets the kernel dropped (exit status 3).
func (l *liveFlags) lost() error {
	if l.dropped == 0 {
		return nil
	}
	return &droppedError{l.dropped}
}

// droppedError: the kernel dropped packets that its capture ring had no
// room for.
type droppedError struct{ n int64 }

func (e *droppedError) Error() string {
	return fmt.Sprintf("the kernel dropped %d packets: spot did not keep up (its ring was full)", e.n)
}

// Unwrap makes the exit status 3, as for skipped input.
func (e *droppedError) Unwrap() error { return &SkippedError{Count: e.n, Unit: "packets"} }
