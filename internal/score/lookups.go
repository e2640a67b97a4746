package score

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// ReadLookups reads DNS records (events, featurized or scored, of any
// format spot reads) of the clients given, for the flow detectors' lookups
// (detect.Lookups, FlowSet.JoinLookups), holding at most max records (0:
// the detectors' subject cap). It closes the inputs.
func ReadLookups(ctx context.Context, ins []*ioformat.Input, clients map[string]bool, max int) (*detect.Lookups, error) {
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	l := detect.NewLookups(max)
	buf := make([]record.DNS, ioformat.BatchSize)
	for _, in := range ins {
		if in.Meta.Kind != record.KindDNS {
			return nil, fmt.Errorf("--lookups: %s holds %s records; lookups are DNS records (spot decode dns)", ioformat.DisplayName(in.Name), in.Meta)
		}
		r, err := ioformat.NewReader[record.DNS](in)
		if err != nil {
			return nil, err
		}
		malformed, err := readEach(ctx, r, buf, func(rec *record.DNS) { l.Add(rec, clients) })
		if err != nil {
			return nil, err
		}
		l.Malformed += malformed
	}
	if l.NoPort > 0 {
		slog.Warn("lookups: DNS records without a client port left out (decoded before spot wrote client_port, or from a source without ports: decode them again)", "records", l.NoPort)
	}
	if l.Dropped > 0 {
		slog.Warn("lookups full: later records of the clients of strong findings left out", "records", l.Dropped, "limit", max)
	}
	return l, nil
}
