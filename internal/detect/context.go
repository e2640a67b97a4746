package detect

// context: how many clients use a domain (DNS), a destination (flows) or a
// web host (proxy). A place few clients go is more suspicious than one half
// the network uses, whatever else a detector found: RITA adds 0.15 to a
// score when at most 2% of internal hosts reach the destination and takes
// 0.15 off when 50% or more do. spot does the same with two changes for
// small networks, where a share means little: the bonus (+0.1) needs at
// least 10 clients in all and at most max(2, 2%) of them (a client and its
// resolver make two), and the penalty (-0.15) at least 4 clients in all.
type prevalence struct {
	users *table[distinct] // place -> distinct clients (by hash)
	all   distinct         // every client
}

func newPrevalence(max int) *prevalence {
	return &prevalence{users: newTable(max, func(d *distinct) int64 { return int64(len(d.items)) })}
}

func (p *prevalence) observe(place, client uint64) {
	p.users.get(place, func() *distinct { return &distinct{} }).add(client, 0)
	p.all.add(client, 0)
}

// count is the number of distinct clients of a place.
func (p *prevalence) count(place uint64) float64 {
	if d, ok := p.users.m[place]; ok {
		return d.count()
	}
	return 0
}

// modifier is the context modifier of a place's score.
func (p *prevalence) modifier(place uint64) float64 {
	n, all := p.count(place), p.all.count()
	switch {
	case all >= 4 && n >= 0.5*all:
		return -0.15
	case all >= 10 && n <= max(2, 0.02*all):
		return 0.1
	}
	return 0
}

func (p *prevalence) merge(o *prevalence) {
	p.users.merge(o.users, func(d, s *distinct) { d.merge(s) })
	p.all.merge(&o.all)
}
