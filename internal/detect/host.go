package detect

import "fmt"

// host: the other events of a host with a strong finding. A hunter who
// finds a host beaconing or scanning looks next at everything else it did
// (Slips judges a profile, a host, rather than a flow: its evidence
// accumulates per host and the alert names the host). An event of flows
// that no verdict of its own explains, but whose source or destination is
// the source of a finding scoring hostFloor or more, gets a verdict of
// half that finding's score: it ranks after the events of strong verdicts
// of their own and before the events of none.
const hostFloor = 0.55

// hostVerdicts returns each host's verdict from the findings all.
func hostVerdicts(all []*judged, lim Limits) map[string]*Verdict {
	if !lim.enabled("host") {
		return nil
	}
	best := map[string]*judged{}
	for _, j := range all {
		if j.Score < hostFloor || j.src == "" {
			continue
		}
		if b, ok := best[j.src]; !ok || j.outranks(b) {
			best[j.src] = j
		}
	}
	hosts := make(map[string]*Verdict, len(best))
	for h, j := range best {
		hosts[h] = &Verdict{Detector: "host", Score: j.Score / 2, Subject: h,
			Evidence: fmt.Sprintf("%s has a %s finding (%.2f): %s", h, j.Detector, j.Score, j.Subject)}
	}
	return hosts
}
