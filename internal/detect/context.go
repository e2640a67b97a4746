package detect

// context: how many clients use a domain (DNS), a destination (flows) or a
// web host (proxy). A place few clients go is more suspicious than one half
// the network uses, whatever else a detector found: RITA adds 0.15 to a
// score when at most 2% of internal hosts reach the destination and takes
// 0.15 off when 50% or more do. spot does the same with two changes for
// small networks, where a share means little: the bonus (+0.1) needs at
// least 10 clients in all and at most max(2, 2%) of them (a client and its
// resolver make two), and the penalty (-0.15) at least 4 clients in all.
//
// Prevalence is counted at Finish from the pair subjects (a client and a
// place each), so it costs nothing per event and merges as they do.
type prevalence struct {
	users map[uint64]int // place -> clients
	all   int            // clients in all
}

func newPrevalence() *prevalence { return &prevalence{users: map[uint64]int{}} }

// modifier is the context modifier of a place's score.
func (p *prevalence) modifier(place uint64) float64 {
	n, all := float64(p.users[place]), float64(p.all)
	switch {
	case all >= 4 && n >= 0.5*all:
		return -0.15
	case all >= 10 && n <= max(2, 0.02*all):
		return 0.1
	}
	return 0
}
