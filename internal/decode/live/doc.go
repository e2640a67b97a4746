// Package live captures packets from a Linux network interface, for
// "spot decode dns --interface" and "spot decode flow --interface".
//
// A Capture reads an AF_PACKET socket's TPACKET_V3 ring (gopacket's
// afpacket: pure Go, so the binary stays static) of 64 blocks of 1 MiB.
// A goroutine of its own copies the frames out of the ring in batches,
// so the ring is emptied while the decoder works; a batch is handed on
// when full, every 20 ms while packets come, and when none has come for
// 50 ms, so that a streaming output is flushed when the interface is
// quiet. When its context is done (SIGINT or SIGTERM) it goes on reading
// what the kernel had queued (at most 2 s) and then ends, so every packet
// the kernel delivered is decoded and written. Its Stats say how many
// packets passed the kernel's filter and how many of them the kernel
// dropped because the ring was full.
//
// Ethernet and loopback interfaces give whole frames (VLAN tags the
// kernel took off are put back, as tcpdump shows them, with promiscuous
// mode on as tcpdump's default); interfaces without a link header
// (tun, WireGuard) and others give IP packets (pcap.LinkRaw), as does
// "any", every interface at once: a socket bound to none (SOCK_DGRAM, the
// kernel takes the link headers off, as in tcpdump's "Linux cooked"
// capture; not promiscuous, as tcpdump's "any" is not). On "any", a packet
// that crosses two interfaces of the host (a bridge and its port, both
// ends of a veth pair in one namespace) is seen on each, as tcpdump sees it.
//
// Filter builds the kernel filter (classic BPF, with golang.org/x/net/bpf)
// that keeps what a decoder reads: for DNS, TCP and UDP to or from its
// ports, every IP fragment, what may carry a tunnelled packet (IP in IP,
// GRE, the UDP encapsulations' ports), and ICMP when quoted messages are
// decoded; anything it does not look into (VLAN tags left in place, MPLS,
// PPPoE, IPv6 extension headers) is kept. Teredo on ports other than 3544,
// which the files' decoder finds by its content, is not kept. Each packet
// is cut to the snap length by the filter's return value, as libpcap does.
package live
