package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scaleCases: the whole hunt of a day of NetFlow v9 exports (decode ->
// partitions -> counts and detectors' state -> model and the day's state ->
// fused scores -> top 100) through
// scripts/parallel/hunt.sh at 1, 2 and 4 shards, each against the same
// stages run as one process each over the whole day (the peer column), in
// the same run: flows/s end to end and the largest process's peak RSS.
// Then a projection to a 1B-flow day, from the time each step took.
func scaleCases(env *Env) []Case {
	n := 20_000_000
	if env.Small {
		n = 2_000_000
	}
	day := filepath.Join(env.Dir, fmt.Sprintf("scale-day-%d", n))
	setup := func() error {
		if exists(filepath.Join(day, "DONE")) {
			return nil
		}
		return writeExportDay(day, n)
	}
	script := "scripts/parallel/hunt.sh"
	var cases []Case
	for _, shards := range []int{1, 2, 4} {
		out := filepath.Join(env.Dir, fmt.Sprintf("scale-out-%d", shards))
		log := out + ".log"
		cases = append(cases, Case{
			Name: fmt.Sprintf("hunt %s flows, %d shard(s) (parallel)", si(float64(n)), shards), Items: float64(n), Unit: "flows", Setup: setup,
			Ours: fmt.Sprintf(`rm -rf %[1]s && %[2]s --jobs %[3]d --shards %[3]d --top 100 --include '*.pcap' --spot $SPOT %[4]s %[1]s > %[5]s &&
$SPOT train --describe %[1]s/model/flow.model > %[1]s/model.txt && grep -q '^tokens: *%[6]d$' %[1]s/model.txt || { echo "the model did not see every flow" >&2; exit 1; }`,
				out, script, shards, day, log, 2*n),
			Peer: fmt.Sprintf(`d=$BENCH_DIR/scale-one && rm -rf $d && mkdir -p $d && $SPOT decode flow %[1]s/*.pcap -o $d/events.parquet &&
$SPOT featurize --counts $d/events.parquet -o $d/counts.parquet && $SPOT train $d/counts.parquet -o $d/model &&
$SPOT score --top 100 -m $d/model $d/events.parquet -o $d/scored.parquet && $SPOT filter --top 100 $d/scored.parquet -o $d/top.parquet`, day),
			PeerName: "one process/stage",
			Note:     func() string { return projection(log, n, shards) },
		})
	}
	return cases
}

// stepTime matches the parallel driver's "step STEP: N.NN s" lines (STEP
// may be two steps run at once, "counts+detect").
var stepTime = regexp.MustCompile(`(?m)^step ([\w+]+): ([0-9.]+) s$`)

// projection reads the step times of the last run and projects them to a
// 1B-flow day: map steps (decode, counts, detect, score) scale with flows
// and divide among machines; train and merge scale with the distinct
// (host, word) pairs and subjects, which grow far slower than flows
// (counted here as if they grew with flows: an upper bound); top reads a
// fixed number of rows per shard.
func projection(log string, n, shards int) string {
	b, err := os.ReadFile(log)
	if err != nil {
		return ""
	}
	steps := map[string]float64{}
	for _, m := range stepTime.FindAllStringSubmatch(string(b), -1) {
		steps[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	mapS := steps["decode"] + steps["counts+detect"] + steps["score"]
	reduceS := steps["train+merge"]
	if mapS == 0 {
		return ""
	}
	scale := 1e9 / float64(n)
	var sb strings.Builder
	fmt.Fprintf(&sb, "steps (s): decode %.1f, counts+detect %.1f, train+merge %.1f, score %.1f, top %.1f\n",
		steps["decode"], steps["counts+detect"], steps["train+merge"], steps["score"], steps["top"])
	for _, machines := range []int{1, 4, 16} {
		s := mapS*scale/float64(machines) + reduceS*scale + steps["top"]
		fmt.Fprintf(&sb, "projection, not a measurement: 1B flows on %d such machine(s), %d shard(s) each: %.0f min (train and merge at most %.0f min of it)\n",
			machines, shards, s/60, reduceS*scale/60)
	}
	return sb.String()
}

// writeExportDay writes a day of NetFlow v9 exports from one router as 24
// hourly captures (UDP to 2055, as tcpdump -G 3600 rotates them), n flow
// records in all: a few thousand internal hosts, each with its own mix of
// services (web, DNS to the internal resolvers, file shares, mail, ssh,
// remote desktop, peer-to-peer on high ports), talking to a long tail of
// external addresses, more by day than by night; each connection is a
// request and a response record, their sizes log-normal per service.
// Every capture starts with the template, and the exporter sends it again
// every 20 datagrams, as Cisco's default refresh does.
func writeExportDay(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(19, uint64(n)))
	type service struct {
		port          uint16
		proto         byte
		share         float64 // of a typical host's connections
		reqB, respB   float64 // median bytes each way
		sigma         float64 // of log bytes
		pktB          float64 // mean bytes per packet
		internal      bool    // served inside
		servers       int     // how many servers (internal) or 0: the external tail
		fixedServers  []uint32
		highPortsBoth bool
	}
	services := []*service{
		{port: 443, proto: 6, share: 0.50, reqB: 2500, respB: 40000, sigma: 1.3, pktB: 900},
		{port: 80, proto: 6, share: 0.12, reqB: 900, respB: 15000, sigma: 1.3, pktB: 800},
		{port: 53, proto: 17, share: 0.16, reqB: 70, respB: 180, sigma: 0.3, pktB: 120, internal: true, servers: 4},
		{port: 123, proto: 17, share: 0.01, reqB: 76, respB: 76, sigma: 0, pktB: 76},
		{port: 445, proto: 6, share: 0.05, reqB: 20000, respB: 200000, sigma: 1.5, pktB: 1200, internal: true, servers: 20},
		{port: 22, proto: 6, share: 0.02, reqB: 4000, respB: 8000, sigma: 1.2, pktB: 200, internal: true, servers: 200},
		{port: 25, proto: 6, share: 0.01, reqB: 30000, respB: 1500, sigma: 1.0, pktB: 1000, internal: true, servers: 2},
		{port: 3389, proto: 6, share: 0.01, reqB: 80000, respB: 900000, sigma: 1.2, pktB: 700, internal: true, servers: 300},
		{port: 8080, proto: 6, share: 0.04, reqB: 1500, respB: 20000, sigma: 1.3, pktB: 900},
		{port: 0, proto: 17, share: 0.08, reqB: 3000, respB: 3000, sigma: 1.5, pktB: 600, highPortsBoth: true},
	}
	const hosts, externals = 6000, 60000
	ip4 := func(a, b, c, d int) uint32 { return uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8 | uint32(d) }
	internal := func(i int) uint32 { return ip4(10, 1+i>>16, i>>8&255, i&255) }
	for _, s := range services {
		for j := range s.servers {
			s.fixedServers = append(s.fixedServers, internal(hosts+j*7%2000))
		}
	}
	external := func() uint32 { // Zipf-like: most connections go to few addresses
		x := min(int(rng.ExpFloat64()*externals/8), externals-1)
		return ip4(23+x%180, 17+x/180%200, x*7%256, 1+x*13%254)
	}
	// Each host: an activity level and its own mix of services.
	weight := make([]float64, hosts)
	mix := make([][]float64, hosts)
	var total float64
	for h := range hosts {
		weight[h] = math.Exp(rng.NormFloat64() * 1.2)
		total += weight[h]
		cum := 0.0
		mix[h] = make([]float64, len(services))
		for i, s := range services {
			cum += s.share * math.Exp(rng.NormFloat64()*0.8)
			mix[h][i] = cum
		}
	}
	cumHost := make([]float64, hosts)
	acc := 0.0
	for h := range hosts {
		acc += weight[h] / total
		cumHost[h] = acc
	}
	// Connections per hour: busy by day.
	hourW := make([]float64, 24)
	var hw float64
	for h := range hourW {
		hourW[h] = 0.25 + math.Max(0, math.Sin(math.Pi*(float64(h)-6)/13))
		hw += hourW[h]
	}
	dayStart := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	boot := dayStart.Add(-time.Hour) // sysUptime counts from the router's boot
	conns := n / 2
	done := 0
	for hour := range 24 {
		k := int(float64(conns) * hourW[hour] / hw)
		if hour == 23 {
			k = conns - done
		}
		done += k
		type rec struct {
			src, dst        uint32
			sport, dport    uint16
			proto, flags    byte
			pkts, bytes     uint32
			firstMs, lastMs uint32
		}
		recs := make([]rec, 0, 2*k)
		for range k {
			h, _ := slices.BinarySearch(cumHost, rng.Float64())
			h = min(h, hosts-1)
			si, _ := slices.BinarySearch(mix[h], rng.Float64()*mix[h][len(services)-1])
			s := services[min(si, len(services)-1)]
			client := internal(h)
			var server uint32
			switch {
			case s.internal:
				server = s.fixedServers[min(int(rng.ExpFloat64()*float64(s.servers)/3), s.servers-1)]
			default:
				server = external()
			}
			sport, dport := uint16(32768+rng.IntN(28000)), s.port
			if s.highPortsBoth {
				dport = uint16(1024 + rng.IntN(30000))
			}
			start := dayStart.Add(time.Duration(hour)*time.Hour + time.Duration(rng.Int64N(int64(time.Hour)))).UnixMilli()
			dur := int64(rng.ExpFloat64() * 2000)
			if start+dur >= dayStart.Add(time.Duration(hour+1)*time.Hour).UnixMilli() {
				dur = 0 // an hour's capture holds the flows that ended in it
			}
			size := func(median float64) (uint32, uint32) {
				b := math.Max(40, median*math.Exp(rng.NormFloat64()*s.sigma))
				p := math.Max(1, math.Round(b/s.pktB*math.Exp(rng.NormFloat64()*0.2)))
				return uint32(p), uint32(b)
			}
			up := uint32(start - boot.UnixMilli())
			var flags byte
			if s.proto == 6 {
				flags = 0x1b // SYN ACK PSH FIN
			}
			p, b := size(s.reqB)
			recs = append(recs, rec{client, server, sport, dport, s.proto, flags, p, b, up, up + uint32(dur)})
			p, b = size(s.respB)
			recs = append(recs, rec{server, client, dport, sport, s.proto, flags, p, b, up, up + uint32(dur)})
		}
		slices.SortFunc(recs, func(a, b rec) int { return int(a.lastMs) - int(b.lastMs) })
		// Datagrams of 30 records, exported when the last of them ended.
		path := filepath.Join(dir, fmt.Sprintf("exports-%s.pcap", dayStart.Add(time.Duration(hour)*time.Hour).Format("2006010215")))
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		hdr := make([]byte, 24)
		binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 65535)
		binary.LittleEndian.PutUint32(hdr[20:], 1)
		w.Write(hdr)
		const perGram = 30
		for g := 0; g*perGram < len(recs); g++ {
			batch := recs[g*perGram : min(len(recs), (g+1)*perGram)]
			last := batch[len(batch)-1].lastMs
			export := boot.Add(time.Duration(last)*time.Millisecond + 500*time.Millisecond)
			gram := v9Header(uint32(last+500), uint32(export.Unix()), uint32(hour*1_000_000+g), g%20 == 0, len(batch))
			if g%20 == 0 {
				gram = append(gram, v9Template...)
			}
			set := len(gram)
			gram = binary.BigEndian.AppendUint16(gram, 256)
			gram = binary.BigEndian.AppendUint16(gram, 0) // length, below
			for _, r := range batch {
				gram = binary.BigEndian.AppendUint32(gram, r.src)
				gram = binary.BigEndian.AppendUint32(gram, r.dst)
				gram = binary.BigEndian.AppendUint16(gram, r.sport)
				gram = binary.BigEndian.AppendUint16(gram, r.dport)
				gram = append(gram, r.proto, r.flags, 0)
				gram = binary.BigEndian.AppendUint32(gram, r.pkts)
				gram = binary.BigEndian.AppendUint32(gram, r.bytes)
				gram = binary.BigEndian.AppendUint16(gram, 1)
				gram = binary.BigEndian.AppendUint16(gram, 2)
				gram = binary.BigEndian.AppendUint16(gram, 0)
				gram = binary.BigEndian.AppendUint16(gram, 0)
				gram = binary.BigEndian.AppendUint32(gram, r.firstMs)
				gram = binary.BigEndian.AppendUint32(gram, r.lastMs)
			}
			for len(gram)%4 != 0 {
				gram = append(gram, 0)
			}
			binary.BigEndian.PutUint16(gram[set+2:], uint16(len(gram)-set))
			frame := udpFrame(gram)
			rec := make([]byte, 16)
			binary.LittleEndian.PutUint32(rec[0:], uint32(export.Unix()))
			binary.LittleEndian.PutUint32(rec[4:], uint32(export.Nanosecond()/1000))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
			w.Write(rec)
			w.Write(frame)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "bench: generated %d flows of NetFlow v9 exports in %s\n", n, dir)
	return os.WriteFile(filepath.Join(dir, "DONE"), nil, 0o644)
}

// v9Template is the template flowset of the bench's exporter: template 256,
// IPv4 addresses, ports, protocol, TCP flags, ToS, packets, bytes,
// interfaces, AS numbers and first/last switched (sysUptime ms).
var v9Template = func() []byte {
	fields := [][2]uint16{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {5, 1}, {2, 4}, {1, 4},
		{10, 2}, {14, 2}, {16, 2}, {17, 2}, {22, 4}, {21, 4}}
	b := binary.BigEndian.AppendUint16(nil, 0) // template flowset
	b = binary.BigEndian.AppendUint16(b, uint16(8+4*len(fields)))
	b = binary.BigEndian.AppendUint16(b, 256)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, f[0])
		b = binary.BigEndian.AppendUint16(b, f[1])
	}
	return b
}()

// v9Header is a NetFlow v9 packet header; count is the records in the
// packet, the template among them when it is sent.
func v9Header(uptimeMs, unixSecs, seq uint32, template bool, records int) []byte {
	if template {
		records++
	}
	b := binary.BigEndian.AppendUint16(nil, 9)
	b = binary.BigEndian.AppendUint16(b, uint16(records))
	b = binary.BigEndian.AppendUint32(b, uptimeMs)
	b = binary.BigEndian.AppendUint32(b, unixSecs)
	b = binary.BigEndian.AppendUint32(b, seq)
	return binary.BigEndian.AppendUint32(b, 1) // source id
}
