package score

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// contactColumns are the columns of a flow record that say who talked.
var contactColumns = []string{"sip", "dip", "sport", "dport", "proto"}

// ReadContacts reads flow records (events, featurized or scored flows, of
// any format spot reads) into the (client, address) pairs that talked, for
// the DNS detectors' context (detect.Contacts), holding at most max pairs
// (0: the detectors' subject cap). It closes the inputs.
func ReadContacts(ctx context.Context, ins []*ioformat.Input, max int) (*detect.Contacts, error) {
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	c := detect.NewContacts(max)
	buf := make([]record.Flow, ioformat.BatchSize)
	for _, in := range ins {
		if in.Meta.Kind != record.KindFlow {
			return nil, fmt.Errorf("--contacts: %s holds %s records; contacts are flows (spot decode flow)", ioformat.DisplayName(in.Name), in.Meta)
		}
		var cols []string
		if in.Format == ioformat.Parquet {
			have := in.Columns()
			for _, col := range contactColumns {
				if slices.Contains(have, col) {
					cols = append(cols, col)
				}
			}
		}
		r, err := ioformat.NewReader[record.Flow](in, cols...)
		if err != nil {
			return nil, err
		}
		malformed, err := readEach(ctx, r, buf, c.AddFlow)
		if err != nil {
			return nil, err
		}
		c.Malformed += malformed
	}
	c.Seal()
	if c.Skipped > 0 {
		slog.Warn("contacts: flow records without two addresses left out", "records", c.Skipped)
	}
	slog.Info("contacts", "flows", c.Records, "dns flows left out", c.DNS, "pairs", c.Len())
	return c, nil
}

// readEach hands each record of r to each, reading into buf, and returns
// how many records the reader skipped as malformed. It closes r.
func readEach[T any](ctx context.Context, r ioformat.Reader[T], buf []T, each func(*T)) (malformed int64, err error) {
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := r.Read(buf)
		for i := range buf[:n] {
			each(&buf[i])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if s, ok := r.(ioformat.Skipper); ok {
		malformed = s.Skipped()
	}
	return malformed, nil
}
