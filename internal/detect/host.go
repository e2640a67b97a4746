package detect

import "fmt"

// host: the other events of a host with a strong finding. A hunter who
// finds a host beaconing or scanning looks next at everything else it did:
// Slips judges a profile, a host, rather than a flow (its evidence
// accumulates per host per time window, and past a threshold the alert
// names the host and covers its flows). An event of flows that no stronger
// verdict of its own explains, but whose source or destination is the
// source of a finding scoring hostFloor or more, gets its host's verdict:
//   - one strong finding accuses a conversation more than its host: the
//     host's other events get half that finding's score, ranking after the
//     events of strong verdicts of their own;
//   - two strong findings or more on distinct subjects corroborate each
//     other (evidence accumulating on one profile, as Slips alerts): the
//     host itself is the finding, and its other events get hostFloor, the
//     fused ranking's strong level (score.Fuse), so that they rank before
//     every event of no verdict or of a weak one.
const hostFloor = 0.55

// hostVerdict is a host's verdict and the score of the finding it comes
// from (between a flow's two hosts, the stronger finding's verdict wins).
type hostVerdict struct {
	Verdict
	finding float64
}

// hostVerdicts returns each host's verdict from the findings all.
func hostVerdicts(all []*judged, lim Limits) map[string]*hostVerdict {
	if !lim.enabled("host") {
		return nil
	}
	best := map[string]*judged{}
	strong := map[string]int{}
	for _, j := range all {
		if j.Score < hostFloor || j.src == "" {
			continue
		}
		strong[j.src]++
		if b, ok := best[j.src]; !ok || j.outranks(b) {
			best[j.src] = j
		}
	}
	hosts := make(map[string]*hostVerdict, len(best))
	for h, j := range best {
		v := &hostVerdict{Verdict{Detector: "host", Score: j.Score / 2, Subject: h,
			Evidence: fmt.Sprintf("%s has a %s finding (%.2f): %s", h, j.Detector, j.Score, j.Subject)}, j.Score}
		if n := strong[h]; n > 1 {
			v.Score = hostFloor
			v.Evidence = fmt.Sprintf("%s has %d findings of %.2f or more, the strongest a %s finding (%.2f): %s", h, n, hostFloor, j.Detector, j.Score, j.Subject)
		}
		hosts[h] = v
	}
	return hosts
}
