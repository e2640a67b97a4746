package detect

// FlowRest is what the detectors read of a flow beyond Flow's columns:
// the times of inputs without tstart_ns (Spot's Hive tables).
type FlowRest struct {
	UnixTstamp int64   `parquet:"unix_tstamp"`
	TDur       float32 `parquet:"tdur"`
}

// Complete makes f, read from a flow's columns by Flow's tags, what
// FromFlow makes of the flow: without tstart_ns, its times are
// unix_tstamp's and tdur's; it ends no earlier than it starts.
func (f *Flow) Complete(r *FlowRest) {
	if f.TsNs == 0 {
		f.TsNs = r.UnixTstamp * 1e9
		f.EndNs = f.TsNs + int64(float64(r.TDur)*1e9)
	}
	f.EndNs = max(f.EndNs, f.TsNs)
}

// DNSRest is what the detectors read of a DNS message beyond DNS's
// columns.
type DNSRest struct {
	UnixTstamp int64 `parquet:"unix_tstamp"`
	Response   bool  `parquet:"response"`
}

// Complete makes e, read from a message's columns by DNS's tags, what
// FromDNS makes of the message: a query's client is its source
// (feature.IsQuery: not a response, and ts_ns set), and without ts_ns
// its time is unix_tstamp's.
func (e *DNS) Complete(r *DNSRest) {
	if !r.Response && e.TsNs != 0 {
		e.Client, e.Server = e.Server, e.Client
	}
	if e.TsNs == 0 {
		e.TsNs = r.UnixTstamp * 1e9
	}
}
