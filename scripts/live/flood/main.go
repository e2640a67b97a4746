// Command flood sends DNS queries over UDP at a steady rate, for the live
// capture benchmark (scripts/live/bench.sh): -n queries at -rate per second
// to -to, each a query for a different name, then prints how many it sent
// and at what rate. Bounded in count and time (-max).
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/net/ipv4"
)

func main() {
	to := flag.String("to", "", "`ADDR:PORT` to send to")
	n := flag.Int("n", 300000, "queries to send")
	rate := flag.Int("rate", 110000, "queries per second")
	maxDur := flag.Duration("max", 30*time.Second, "stop after this long, sent or not")
	flag.Parse()
	dst, err := net.ResolveUDPAddr("udp", *to)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
	// Unconnected: no ICMP error from a closed port fails a later write.
	conn, err := net.ListenUDP("udp", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
	// sendmmsg: a step's queries in one system call.
	pc := ipv4.NewPacketConn(conn)
	const step = 64 // queries per pacing step
	msgs := make([]ipv4.Message, step)
	bufs := make([][]byte, step)
	for i := range msgs {
		bufs[i] = make([]byte, 0, 64)
		msgs[i].Addr = dst
	}
	start := time.Now()
	sent := 0
	for sent < *n && time.Since(start) < *maxDur {
		// Pace: the i-th query goes at start + i/rate.
		if ahead := time.Duration(float64(sent)/float64(*rate)*1e9) - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
		k := min(step, *n-sent)
		for j := range k {
			i := sent + j
			q := bufs[j][:0]
			q = binary.BigEndian.AppendUint16(q, uint16(i))
			q = append(q, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD, one question
			label := fmt.Sprintf("q%07d", i)
			q = append(q, byte(len(label)))
			q = append(q, label...)
			q = append(q, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1)
			bufs[j] = q
			msgs[j].Buffers = [][]byte{q}
		}
		for done := 0; done < k; {
			m, err := pc.WriteBatch(msgs[done:k], 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "flood:", err)
				os.Exit(1)
			}
			done += m
		}
		sent += k
	}
	d := time.Since(start)
	fmt.Printf("sent %d queries in %.2f s: %.0f/s\n", sent, d.Seconds(), float64(sent)/d.Seconds())
}
