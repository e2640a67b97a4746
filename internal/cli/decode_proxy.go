package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/decode/proxy"
	"github.com/spot-hunt/spot/internal/decode/suricata"
	"github.com/spot-hunt/spot/internal/decode/zeek"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type decodeProxyOptions struct {
	out   decodeOutput[record.Proxy]
	input string
	tz    string
}

func newDecodeProxyCmd(g *globals) *cobra.Command {
	o := &decodeProxyOptions{}
	cmd := &cobra.Command{
		Use:   "proxy [FILE...]",
		Short: "web-proxy log lines from Blue Coat, W3C extended, Squid and combined logs",
		Long: withExitStatus(`Decode proxy reads web-proxy access logs (files or stdin; gzip and zstd
unwrapped) and writes one proxy record per request. The log format is detected
from the first lines of each file; -i forces one:

  squid     Squid's native access.log (logformat "squid")
  combined  NCSA combined: Squid, Apache and nginx "combined" logs
  common    NCSA common log format
  w3c       W3C extended / ELFF logs: columns named by "#Fields:" headers,
            which may change mid-file (ProxySG, IIS, Squid custom formats)
  bluecoat  Blue Coat ProxySG bcreportermain_v1, the 27 columns Apache Spot
            read, no header needed
  zeek      Zeek's http.log, TSV or JSON: a record per request (the package
            docs and "spot help schema proxy zeek" say which field fills which
            column)
  suricata  Suricata's EVE log (eve.json): a record per http event, events of
            other types counted and passed over ("spot help schema proxy
            suricata")

Times are written in UTC: Squid logs Unix time, NCSA logs carry their offset,
W3C and Blue Coat times are read in --tz (UTC, as the W3C draft says, unless
told) or by their "#GMT-Offset:" directive. fulluri is host + path + query as
Apache Spot built it. Lines that cannot be decoded are named (file:line) on
stderr, counted, and skipped. Streams.`),
		Example: `  spot decode proxy access.log -o proxy.parquet
  zcat bluecoat.log.gz | spot decode proxy -i bluecoat
  spot decode proxy --tz Europe/Paris u_ex*.log -o iis.parquet
  zcat http.*.log.gz | spot decode proxy | spot score -m proxy.model | spot filter --top 50
  spot decode proxy /var/log/suricata/eve.json -o proxy.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := ""
			if o.input == "zeek" || o.input == "suricata" {
				log = o.input
			}
			format, err := proxy.ParseFormat(o.input)
			if err != nil && log == "" {
				return usagef("-i: %v (or zeek, suricata)", err)
			}
			loc, err := time.LoadLocation(o.tz)
			if err != nil {
				return usagef("--tz: %v", err)
			}
			args, err = inputArgs(args)
			if err != nil {
				return err
			}
			if err := o.out.resolve(g.io, record.Proxy{}.Meta(), proxyTime); err != nil {
				return err
			}
			o.out.showProgress(g, "decode proxy", args)
			skips := newInputSkips(g, args)
			return skips.finish(o.out.each(args, func(names []string, w ioformat.Writer[record.Proxy]) error {
				return decodeProxy(g.ctx, names, g.io.In, o.out.prog.reader(), w, proxy.Options{Format: format, Location: loc}, log, skips)
			}))
		},
	}
	f := cmd.Flags()
	o.out.addFlags(f)
	f.StringVarP(&o.input, "input-format", "i", "auto", "log `FORMAT`: auto, squid, combined, common, w3c, bluecoat, zeek or suricata")
	f.StringVar(&o.tz, "tz", "UTC", "time `ZONE` of logs that write local time without an offset (W3C, Blue Coat; NCSA times without one)")
	return cmd
}

func proxyTime(r *record.Proxy) int64 {
	return (r.TsNs - (r.TsNs%1e9+1e9)%1e9) / 1e9 // floor
}

// decodeProxy decodes the logs named into w, which it closes or aborts. The
// decoder runs in its own goroutine, a batch ahead of the writer. log, when
// set, names the log of other tools the inputs are: zeek or suricata.
// Inputs that are not proxy logs are left out as skips says.
// read, when not nil, is told of the bytes of the files read.
func decodeProxy(ctx context.Context, names []string, stdin io.Reader, read func(int), w ioformat.Writer[record.Proxy], opt proxy.Options, log string, skips *inputSkips) error {
	defer relaxGC(0)() // peak RSS 90-210 MB measured
	var bad ioformat.SkipLog
	opt.OnSkip = func(err error) {
		e := err.(*ioformat.RecordError) // as the decoder documents
		bad.Skip("skipped malformed line", e.Name, e.Unit, e.Number, e.Err)
	}

	// The same inFlight batches go round, and w keeps no reference to
	// what it wrote (ioformat.Writer): the decoder reuses their strings'
	// bytes.
	opt.ReuseBatches = true
	const inFlight = 4
	free := make(chan []record.Proxy, inFlight)
	for range inFlight {
		free <- ioformat.Touched(make([]record.Proxy, ioformat.BatchSize))
	}
	full := make(chan []record.Proxy, inFlight)
	errc := make(chan error, 1)
	stop := make(chan struct{})
	var left int64 // inputs left out
	go func() {
		defer close(full)
		var err error
		left, err = readProxyLogs(ctx, names, stdin, read, opt, log, free, full, stop, skips)
		errc <- err
	}()

	var werr error
	for batch := range full {
		if werr == nil {
			werr = w.Write(batch)
			if werr != nil {
				close(stop)
			}
		}
		free <- batch[:cap(batch)]
	}
	rerr := <-errc
	switch {
	case werr != nil:
		w.Abort()
		return werr
	case rerr != nil:
		w.Abort()
		return rerr
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return err
	}
	if left == int64(len(names)) { // nothing to write
		w.Abort()
	} else if err := w.Close(); err != nil {
		return err
	}
	return skippedOrNil(bad.Count(), "lines", left)
}

// readProxyLogs decodes the logs named into batches; it returns how many
// inputs it left out (not proxy logs, as skips says).
func readProxyLogs(ctx context.Context, names []string, stdin io.Reader, read func(int), opt proxy.Options, log string,
	free chan []record.Proxy, full chan<- []record.Proxy, stop <-chan struct{}, skips *inputSkips) (left int64, err error) {
	for _, name := range names {
		rc, err := ioformat.OpenRawCounted(name, stdin, read)
		if err != nil {
			return left, err
		}
		br := bufio.NewReaderSize(rc, 1<<20)
		kind := log
		if kind == "" && opt.Format == proxy.Auto {
			switch lines := ioformat.PeekLines(br, 8, 64<<10); {
			case zeek.Sniff(lines):
				kind = "zeek"
			case suricata.Sniff(lines):
				kind = "suricata"
			}
		}
		if kind != "" {
			err := readHTTPLog(ctx, name, br, kind, opt, free, full, stop)
			rc.Close()
			if err != nil {
				return left, err
			}
			continue
		}
		d, err := proxy.NewDecoder(br, name, opt)
		if err != nil {
			rc.Close()
			if skips.skip(name, err, proxy.ErrUnknownFormat) {
				left++
				continue
			}
			return left, err
		}
		slog.Info("decoding proxy log", "file", ioformat.DisplayName(name), "format", d.Format())
		for {
			var buf []record.Proxy
			select {
			case buf = <-free:
			case <-stop:
				rc.Close()
				return left, nil
			}
			if err := ctx.Err(); err != nil {
				rc.Close()
				return left, err
			}
			n, err := d.Read(buf)
			if n > 0 {
				full <- buf[:n]
			} else {
				free <- buf
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return left, err
			}
		}
		if err := rc.Close(); err != nil {
			return left, err
		}
	}
	return left, nil
}

// readHTTPLog decodes the http.log rows of Zeek logs (kind zeek) or the
// http events of a Suricata EVE log (suricata) into batches.
func readHTTPLog(ctx context.Context, name string, br *bufio.Reader, kind string, opt proxy.Options,
	free chan []record.Proxy, full chan<- []record.Proxy, stop <-chan struct{}) error {
	skip := func(line int64, err error) {
		if opt.OnSkip != nil {
			opt.OnSkip(&ioformat.RecordError{Name: name, Unit: "line", Number: line, Err: err})
		}
	}
	var read func([]record.Proxy, int) ([]record.Proxy, error)
	var passed func()
	if kind == "zeek" {
		z := zeek.NewReader(br, name)
		z.Warn = func(e *zeek.RowError) { skip(e.Line, e.Err) }
		read = z.ReadProxy
		passed = func() {
			for kind, n := range z.Stats().Passed {
				slog.Warn("rows of another Zeek log passed over: decode proxy reads http.log (conn.log: decode flow; dns.log: decode dns)",
					"file", ioformat.DisplayName(name), "log", kind.String(), "rows", n)
			}
		}
	} else {
		z := suricata.NewReader(br, name)
		z.Warn = func(e *suricata.LineError) { skip(e.Line, e.Err) }
		read = z.ReadProxy
		passed = func() {
			slog.Info("EVE events of other types passed over: decode proxy reads http events (flow, netflow: decode flow; dns: decode dns)",
				"file", ioformat.DisplayName(name), "events", z.Stats().Passed)
		}
	}
	for {
		var buf []record.Proxy
		select {
		case buf = <-free:
		case <-stop:
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := read(buf[:0], len(buf))
		if len(recs) > 0 {
			full <- recs
		} else {
			free <- buf
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
		}
	}
	passed()
	return nil
}
