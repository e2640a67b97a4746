package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// dnsCases: spot decode dns against tshark with Apache Spot's field list,
// on a capture of dnsperf-nsd.pcap's packets repeated (each copy shifted in
// time), at two sizes 10x apart.
func dnsCases(env *Env) []Case {
	seed := filepath.Join(env.Corpus, "dns", "generated", "dnsperf-nsd.pcap")
	const seedPackets = 34049
	var cases []Case
	for _, copies := range []int{15, 150} {
		if env.Small {
			copies /= 10
		}
		n := copies * seedPackets
		file := filepath.Join(env.Dir, fmt.Sprintf("dns-%d.pcap", n))
		setup := func() error { return repeatPcap(seed, file, copies) }
		st, _ := os.Stat(seed)
		var size int64
		if st != nil {
			size = int64(copies) * st.Size()
		}
		name := fmt.Sprintf("dns decode %s pkts", si(float64(n)))
		// tshark at both sizes: at 510k packets spot's start-up still shows
		// in its time; the larger gives the steady-state ratio (tshark takes
		// ~90 s there).
		c := Case{Name: name + " -> NDJSON", Items: float64(n), Unit: "packets", Bytes: size, Setup: setup,
			Ours:     fmt.Sprintf("$SPOT decode dns %s > /dev/null", file),
			PeerName: "tshark",
			Peer: fmt.Sprintf("tshark -n -r %s -T fields -E separator=, -E occurrence=f -e frame.time -e frame.len -e ip.dst -e ip.src "+
				"-e dns.qry.name -e dns.qry.class -e dns.qry.type -e dns.flags.rcode -e dns.a -Y 'dns.flags.response == 1' > /dev/null", file)}
		cases = append(cases, c,
			Case{Name: name + " -> Parquet", Items: float64(n), Unit: "packets", Bytes: size, Setup: setup,
				Ours: fmt.Sprintf("$SPOT decode dns %s -o %s.parquet", file, file)},
			Case{Name: name + " --queries (stdin)", Items: float64(n), Unit: "packets", Bytes: size, Setup: setup,
				Ours: fmt.Sprintf("cat %s | $SPOT decode dns --queries > /dev/null", file)})
	}
	return cases
}

// repeatPcap writes the records of a classic pcap copies times, each copy
// shifted after the previous one in time.
func repeatPcap(seed, dest string, copies int) error {
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	data, err := os.ReadFile(seed)
	if err != nil {
		return err
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(data) != 0xa1b23c4d {
		return errors.New("seed is not a little-endian classic pcap")
	}
	// span of the capture, in seconds
	var first, last uint32
	for off := 24; off+16 <= len(data); {
		ts := binary.LittleEndian.Uint32(data[off:])
		if off == 24 {
			first = ts
		}
		last = ts
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	span := last - first + 1
	tmp := dest + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(data[:24])
	recs := append([]byte(nil), data[24:]...)
	for c := 0; c < copies; c++ {
		for off := 0; off+16 <= len(recs); {
			binary.LittleEndian.PutUint32(recs[off:], binary.LittleEndian.Uint32(data[24+off:])+uint32(c)*span)
			off += 16 + int(binary.LittleEndian.Uint32(recs[off+8:]))
		}
		if _, err := w.Write(recs); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}
