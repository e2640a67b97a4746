package enrich

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// Network is what a network-context file says of an address.
type Network struct {
	Name     string // the network's name, e.g. "office LAN"
	Internal bool
}

// Networks maps addresses to named networks, longest prefix first. A file
// marks its networks internal unless a row says external; addresses in no
// network are internal when private (RFC 1918, RFC 4193, loopback,
// link-local) and no file was loaded, else external.
type Networks struct {
	prefixes map[netip.Prefix]Network
	bits     []int // prefix lengths present, longest first (v4 as 1000+bits)
}

// LoadNetworks reads a network-context CSV. A row is NETWORK,NAME[,internal|
// external], NETWORK being a CIDR block, an address or a range a-b; Apache
// Spot's ipranges.csv rows (start_IP,limit_IP,name) read as well. A header
// row and # comments are skipped.
func LoadNetworks(path string) (*Networks, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := &Networks{prefixes: map[netip.Prefix]Network{}}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		if err := n.addRow(rec); err != nil {
			if _, nerr := parseNetwork(strings.TrimSpace(rec[0])); row == 1 && nerr != nil {
				continue // a header
			}
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%s: line %d: %v", path, line, err)
		}
	}
	return n, nil
}

func (n *Networks) addRow(rec []string) error {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	network, rest := rec[0], rec[1:]
	if len(rest) > 0 {
		if _, err := netip.ParseAddr(rest[0]); err == nil { // Spot's start_IP,limit_IP,name
			network += "-" + rest[0]
			rest = rest[1:]
		}
	}
	ps, err := parseNetwork(network)
	if err != nil {
		return err
	}
	nw := Network{Internal: true}
	if len(rest) > 0 {
		nw.Name = rest[0]
	}
	if len(rest) > 1 {
		switch strings.ToLower(rest[1]) {
		case "internal", "true", "1", "yes", "":
		case "external", "false", "0", "no":
			nw.Internal = false
		default:
			return fmt.Errorf("third column %q: want internal or external", rest[1])
		}
	}
	for _, p := range ps {
		p = p.Masked()
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 1000
		}
		if !slices.Contains(n.bits, bits) {
			n.bits = append(n.bits, bits)
			slices.Sort(n.bits)
			slices.Reverse(n.bits)
		}
		n.prefixes[p] = nw
	}
	return nil
}

// Lookup returns the network holding addr. Without a file (n nil), every
// private address is in an unnamed internal network.
func (n *Networks) Lookup(addr netip.Addr) Network {
	addr = addr.Unmap()
	if n == nil {
		return Network{Internal: isPrivate(addr)}
	}
	v4 := addr.Is4()
	for _, b := range n.bits {
		if (b >= 1000) != v4 {
			continue
		}
		if b >= 1000 {
			b -= 1000
		}
		p, _ := addr.Prefix(b)
		if nw, ok := n.prefixes[p]; ok {
			return nw
		}
	}
	return Network{}
}

func isPrivate(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast()
}
