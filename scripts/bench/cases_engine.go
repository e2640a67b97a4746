package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// engineCases: featurize and score throughput on flow events, Parquet to
// Parquet (the floor: featurize + score >= 3M flow events/s).
func engineCases(env *Env) []Case {
	n := 10_000_000
	if env.Small {
		n = 1_000_000
	}
	pq := filepath.Join(env.Dir, fmt.Sprintf("engine-flows-%d.parquet", n))
	model := filepath.Join(env.Dir, fmt.Sprintf("engine-flows-%d.model", n))
	setup := func() error {
		if exists(pq) && exists(model) {
			return nil
		}
		if err := writeSyntheticFlows(pq, n, 1); err != nil {
			return err
		}
		// train on the first 1M events' counts (what a day's model would see)
		train := pq + ".train.parquet"
		if err := writeSyntheticFlows(train, min(n, 1_000_000), 2); err != nil {
			return err
		}
		defer os.Remove(train)
		cmd := fmt.Sprintf("%s train %s --seed 1 -o %s", env.Spot, train, model)
		r := &result{}
		run(env, env.Spot, cmd, r)
		return r.err
	}
	out := filepath.Join(env.Dir, "engine-out.parquet")
	items := float64(n)
	return []Case{
		{Name: fmt.Sprintf("flow featurize Parquet->Parquet %s", si(items)), Items: items, Unit: "events", Setup: setup,
			Ours: fmt.Sprintf("$SPOT featurize %s -o %s", pq, out)},
		{Name: fmt.Sprintf("flow featurize --counts %s", si(items)), Items: items, Unit: "events", Setup: setup,
			Ours: fmt.Sprintf("$SPOT featurize --counts %s -o %s", pq, out)},
		{Name: fmt.Sprintf("flow featurize+score Parquet->Parquet %s", si(items)), Items: items, Unit: "events", Setup: setup,
			Ours: fmt.Sprintf("$SPOT score -m %s --method spot %s -o %s", model, pq, out)},
		{Name: fmt.Sprintf("flow detectors (spot detect) Parquet %s", si(items)), Items: items, Unit: "events", Setup: setup,
			Ours: fmt.Sprintf("$SPOT detect %s -o %s.findings.parquet", pq, out)},
		{Name: fmt.Sprintf("flow fused score (detectors+score) Parquet->Parquet %s", si(items)), Items: items, Unit: "events", Setup: setup,
			Ours: fmt.Sprintf("$SPOT score -m %s --method fused %s -o %s", model, pq, out)},
	}
}

// writeSyntheticFlows writes n flow events of a plausible network: a few
// thousand internal hosts talking to services and to each other.
func writeSyntheticFlows(path string, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 42))
	w, err := ioformat.Create[record.Flow](ioformat.Dest{Path: path}, record.Flow{}.Meta())
	if err != nil {
		return err
	}
	const hosts = 5000
	internal := make([]string, hosts)
	for i := range internal {
		internal[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	external := make([]string, 20000)
	for i := range external {
		external[i] = fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	services := []int32{53, 80, 443, 22, 25, 123, 389, 445, 3389, 8080}
	protos := []string{"TCP", "UDP", "ICMP"}
	base := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Unix()
	buf := make([]record.Flow, 0, ioformat.BatchSize)
	for i := 0; i < n; i++ {
		t := base + int64(i)*86400/int64(n)
		tm := time.Unix(t, 0).UTC()
		sip := internal[r.IntN(hosts)]
		var dip string
		if r.IntN(4) == 0 {
			dip = internal[r.IntN(hosts)]
		} else {
			dip = external[r.IntN(len(external))]
		}
		sport := int32(1025 + r.IntN(64000))
		dport := services[int(r.ExpFloat64()*2)%len(services)]
		if r.IntN(20) == 0 {
			dport = int32(1025 + r.IntN(64000))
		}
		proto := protos[0]
		if dport == 53 || dport == 123 {
			proto = protos[1]
		} else if r.IntN(200) == 0 {
			proto, sport, dport = protos[2], 0, 2048
		}
		pk := int64(1 + r.ExpFloat64()*20)
		by := pk * int64(40+r.IntN(1400))
		ts := tm.Format("2006-01-02 15:04:05")
		buf = append(buf, record.Flow{TReceived: ts, UnixTstamp: t, TrYear: int32(tm.Year()), TrMonth: int32(tm.Month()),
			TrDay: int32(tm.Day()), TrHour: int32(tm.Hour()), TrMinute: int32(tm.Minute()), TrSec: int32(tm.Second()),
			TDur: float32(r.ExpFloat64()), SIP: sip, DIP: dip, SPort: sport, DPort: dport, Proto: proto, Flag: ".AP.SF",
			IPkt: pk, IByt: by, OPkt: pk, OByt: by * 3, RIP: "10.255.0.1", TStartNs: t * 1e9, TEndNs: t*1e9 + 5e8,
			Source: "netflow9", EID: int64(record.EID("synthetic", int64(i+1), []byte(strconv.Itoa(i))))})
		if len(buf) == cap(buf) {
			if err := w.Write(buf); err != nil {
				w.Abort()
				return err
			}
			buf = buf[:0]
		}
	}
	if err := w.Write(buf); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
