package netflow

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	return testenv.Corpus(t, sub)
}

// vendorCase is one context of logstash-codec-netflow's spec/codecs/netflow_spec.rb:
// the .dat files it feeds one codec, each as one datagram, and the number of
// events it expects (flow records plus options records, since the codec
// emits both). want -1: the spec only asks that decoding raises no error.
type vendorCase struct {
	files  []string
	want   int
	checks map[int]func(*testing.T, *record.Flow) // by event index among flows+options
}

func flowIs(sip, dip string, sport, dport int32, pkts, byts int64) func(*testing.T, *record.Flow) {
	return func(t *testing.T, f *record.Flow) {
		t.Helper()
		if f.SIP != sip || f.DIP != dip || (sport >= 0 && f.SPort != sport) || (dport >= 0 && f.DPort != dport) ||
			(pkts >= 0 && f.IPkt != pkts) || (byts >= 0 && f.IByt != byts) {
			t.Errorf("got %s:%d -> %s:%d %d pkts %d bytes; want %s:%d -> %s:%d %d pkts %d bytes",
				f.SIP, f.SPort, f.DIP, f.DPort, f.IPkt, f.IByt, sip, sport, dip, dport, pkts, byts)
		}
	}
}

var vendorCases = map[string]vendorCase{
	"netflow5 valid":          {[]string{"netflow5.dat"}, 2, map[int]func(*testing.T, *record.Flow){0: flowIs("10.0.2.2", "10.0.2.15", 54435, 22, 5, 230), 1: flowIs("10.0.2.15", "10.0.2.2", 22, 54435, 4, 304)}},
	"netflow5 invalid01":      {[]string{"netflow5_test_invalid01.dat"}, -1, nil},
	"netflow5 invalid02":      {[]string{"netflow5_test_invalid02.dat"}, -1, nil},
	"netflow9 valid01":        {[]string{"netflow9_test_valid01.dat"}, 7, map[int]func(*testing.T, *record.Flow){0: flowIs("172.16.32.100", "172.16.32.248", 123, 123, 1, 76)}},
	"netflow9 macaddr":        {[]string{"netflow9_test_macaddr_tpl.dat", "netflow9_test_macaddr_data.dat"}, -1, map[int]func(*testing.T, *record.Flow){1: flowIs("172.16.32.1", "172.16.32.201", 65058, 22, -1, -1)}},
	"netflow9 cisco aci":      {[]string{"netflow9_test_cisco_aci_tpl256-258.dat", "netflow9_test_cisco_aci_data256.dat"}, 3, map[int]func(*testing.T, *record.Flow){0: flowIs("10.154.231.145", "10.154.231.146", 179, 49411, 2, 99)}},
	"netflow9 cisco asa":      {[]string{"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat"}, 14, map[int]func(*testing.T, *record.Flow){1: flowIs("192.168.23.22", "164.164.37.11", -1, -1, -1, -1)}},
	"netflow9 two exporters":  {[]string{"netflow9_test_nprobe_tpl.dat", "netflow9_test_softflowd_tpl_data.dat", "netflow9_test_nprobe_data.dat"}, 9, map[int]func(*testing.T, *record.Flow){1: flowIs("172.16.32.100", "172.16.32.248", 123, 123, 1, 76), 8: flowIs("172.16.32.201", "172.16.32.1", 22, 65058, 2, 200)}},
	"netflow9 invalid01":      {[]string{"netflow9_test_invalid01.dat"}, -1, nil},
	"ipfix softflowd":         {[]string{"ipfix.dat"}, 7, map[int]func(*testing.T, *record.Flow){1: flowIs("192.168.253.1", "192.168.253.128", 60560, 22, 5, 260), 6: flowIs("192.168.253.132", "54.214.9.161", 49935, 443, 13, 2608)}},
	"netflow9 cisco asa 2":    {[]string{"netflow9_test_cisco_asa_2_tpl_26x.dat", "netflow9_test_cisco_asa_2_tpl_27x.dat", "netflow9_test_cisco_asa_2_data.dat"}, 19, map[int]func(*testing.T, *record.Flow){18: flowIs("192.168.0.1", "192.168.0.18", 56651, 80, -1, -1)}},
	"ipfix openbsd pflow":     {[]string{"ipfix_test_openbsd_pflow_tpl.dat", "ipfix_test_openbsd_pflow_data.dat"}, 26, map[int]func(*testing.T, *record.Flow){25: flowIs("192.168.0.1", "192.168.0.17", 80, 64026, 8, 6425)}},
	"netflow5 mikrotik":       {[]string{"netflow5_test_microtik.dat"}, 30, map[int]func(*testing.T, *record.Flow){29: flowIs("10.0.8.1", "192.168.0.1", 80, 51826, 13, 11442)}},
	"netflow5 juniper mx80":   {[]string{"netflow5_test_juniper_mx80.dat"}, 29, map[int]func(*testing.T, *record.Flow){28: flowIs("66.249.92.75", "192.168.0.1", 37387, 80, 2, 104)}},
	"netflow9 ipt_netflow":    {[]string{"netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat"}, 12, map[int]func(*testing.T, *record.Flow){11: flowIs("2.17.140.47", "10.233.150.21", 443, 38164, 3, 187)}},
	"netflow9 h3c":            {[]string{"netflow9_test_h3c_tpl3281.dat", "netflow9_test_h3c_data3281.dat"}, 16, nil},
	"netflow9 ie150 ie151":    {[]string{"netflow9_test_unknown_tpl266_292_data.dat"}, 2, map[int]func(*testing.T, *record.Flow){1: flowIs("192.168.0.4", "192.168.0.5", 58130, 6343, 1, 232)}},
	"netflow9 paloalto 81":    {[]string{"netflow9_test_paloalto_81_tpl256-263.dat", "netflow9_test_paloalto_81_data257_1flowset_in_large_zerofilled_packet.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("134.220.2.6", "134.220.1.156", 88, 50234, 3, 363)}},
	"netflow9 h3c varstring":  {[]string{"netflow9_test_h3c_netstream_varstring_tpl3281.dat", "netflow9_test_h3c_netstream_varstring_data3281.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("20.20.20.20", "20.20.255.255", 137, 137, 9, -1)}},
	"netflow9 fortigate 542":  {[]string{"netflow9_test_fortigate_fortios_542_appid_tpl258-269.dat", "netflow9_test_fortigate_fortios_542_appid_data258_262.dat"}, 17, nil},
	"ipfix ixia":              {[]string{"ipfix_test_ixia_tpldata256.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("119.103.128.175", "202.170.60.247", 51695, 36197, 4, 360)}},
	"ipfix juniper mx240":     {[]string{"ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat", "ipfix_test_juniper_mx240_junos151r6s3_data512.dat"}, 1, nil},
	"ipfix nokia bras":        {[]string{"ipfix_test_nokia_bras_tpl.dat", "ipfix_test_nokia_bras_data256.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("10.0.1.228", "10.0.0.34", 5878, 80, -1, -1)}},
	"ipfix procera":           {[]string{"ipfix_test_procera_tpl52935.dat", "ipfix_test_procera_data52935.dat"}, 8, map[int]func(*testing.T, *record.Flow){7: flowIs("138.44.161.14", "138.44.161.13", 33689, 179, -1, -1)}},
	"ipfix barracuda uniflow": {[]string{"ipfix_test_barracuda_extended_uniflow_tpl256.dat", "ipfix_test_barracuda_extended_uniflow_data256.dat"}, 2, map[int]func(*testing.T, *record.Flow){1: flowIs("64.235.151.76", "10.236.5.4", 443, 51917, 0, 0)}},
	"netflow9 ubnt":           {[]string{"netflow9_test_ubnt_edgerouter_tpl.dat", "netflow9_test_ubnt_edgerouter_data1024.dat", "netflow9_test_ubnt_edgerouter_data1025.dat"}, 16, map[int]func(*testing.T, *record.Flow){15: flowIs("192.168.1.102", "10.2.0.95", 47690, 443, 21, 3668)}},
	"netflow9 nprobe dpi":     {[]string{"netflow9_test_nprobe_dpi.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("0.0.0.0", "0.0.0.0", 0, 0, 1, 82)}},
	"netflow9 fortigate 521":  {[]string{"netflow9_test_fortigate_fortios_521_tpl.dat", "netflow9_test_fortigate_fortios_521_data256.dat", "netflow9_test_fortigate_fortios_521_data257.dat"}, 2, map[int]func(*testing.T, *record.Flow){1: flowIs("192.168.99.7", "31.13.87.36", 61910, 443, 3, 152)}},
	"netflow9 streamcore":     {[]string{"netflow9_test_streamcore_tpl_data256.dat", "netflow9_test_streamcore_tpl_data260.dat"}, 4, map[int]func(*testing.T, *record.Flow){0: flowIs("100.78.40.201", "10.231.128.150", 8080, 50073, 3, 128)}},
	"ipfix mikrotik":          {[]string{"ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat", "ipfix_test_mikrotik_data259.dat"}, 46, map[int]func(*testing.T, *record.Flow){0: flowIs("10.10.8.197", "192.168.128.17", 123, 123, 2, 152), 45: flowIs("fe80::ff:fe00:1201", "fe80::ff:fe00:1201", 5678, 5678, 2, 370)}},
	"ipfix netscaler":         {[]string{"ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"}, 3, map[int]func(*testing.T, *record.Flow){2: flowIs("192.168.0.1", "10.0.0.1", 51053, 443, 2, 1541)}},
	"ipfix vmware vds":        {[]string{"ipfix_test_vmware_vds_tpl.dat", "ipfix_test_vmware_vds_data264.dat", "ipfix_test_vmware_vds_data266.dat", "ipfix_test_vmware_vds_data266_267.dat"}, 5, map[int]func(*testing.T, *record.Flow){0: flowIs("172.18.65.21", "172.18.65.211", 61209, 5985, 2, 100), 4: flowIs("fe80::5187:5cd8:d750:cdc9", "ff02::1:3", 61329, 5355, 2, 144)}},
	"netflow9 juniper srx":    {[]string{"netflow9_test_juniper_srx_tplopt.dat"}, 1, nil},
	"netflow9 0length":        {[]string{"netflow9_test_0length_fields_tpl_data.dat"}, 10, map[int]func(*testing.T, *record.Flow){9: flowIs("192.168.1.33", "239.255.255.250", 0, 0, 0, 0)}},
	"netflow9 asr9k opt256":   {[]string{"netflow9_test_cisco_asr9k_opttpl256.dat", "netflow9_test_cisco_asr9k_data256.dat"}, 19, nil},
	"netflow9 huawei":         {[]string{"netflow9_test_huawei_netstream_tpl.dat", "netflow9_test_huawei_netstream_data.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("10.108.219.53", "10.111.112.204", 45587, 2598, 4, 200)}},
	"netflow9 layer2segment":  {[]string{"netflow9_test_field_layer2segmentid_tpl.dat", "netflow9_test_field_layer2segmentid_data.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("192.168.200.136", "80.82.237.40", 61926, 445, 1, 52)}},
	"netflow9 asr9k 260":      {[]string{"netflow9_test_cisco_asr9k_tpl260.dat", "netflow9_test_cisco_asr9k_data260.dat"}, 21, map[int]func(*testing.T, *record.Flow){20: flowIs("10.0.29.46", "10.0.15.38", 443, 52364, 2, 112)}},
	"netflow9 nbar opt260":    {[]string{"netflow9_test_cisco_nbar_opttpl260.dat"}, 15, nil},
	"netflow9 nbar 262":       {[]string{"netflow9_test_cisco_nbar_tpl262.dat", "netflow9_test_cisco_nbar_data262.dat"}, 5, map[int]func(*testing.T, *record.Flow){4: flowIs("10.10.172.60", "10.30.19.180", 45269, 161, 36, 2794)}},
	"netflow9 cisco wlc":      {[]string{"netflow9_test_cisco_wlc_tpl.dat", "netflow9_test_cisco_wlc_data261.dat"}, 19, nil},
	"netflow9 wlc 8510":       {[]string{"netflow9_test_cisco_wlc_8510_tpl_262.dat"}, -1, nil},
	"netflow9 cisco 1941":     {[]string{"netflow9_test_cisco_1941K9.dat"}, -1, nil},
	"netflow9 asr1001x":       {[]string{"netflow9_cisco_asr1001x_tpl259.dat"}, -1, nil},
	"netflow9 paloalto panos": {[]string{"netflow9_test_paloalto_panos_tpl.dat", "netflow9_test_paloalto_panos_data.dat"}, 8, map[int]func(*testing.T, *record.Flow){1: flowIs("10.32.105.103", "162.115.24.30", 39702, 443, 1, 111)}},
	"ipfix viptela":           {[]string{"ipfix_test_viptela_tpl257.dat", "ipfix_test_viptela_data257.dat"}, 1, map[int]func(*testing.T, *record.Flow){0: flowIs("10.113.7.54", "172.16.21.27", 41717, 443, 8, 775)}},
	"ipfix barracuda":         {[]string{"ipfix_test_barracuda_tpl.dat", "ipfix_test_barracuda_data256.dat"}, 8, map[int]func(*testing.T, *record.Flow){7: flowIs("10.98.243.20", "10.99.168.140", 53, 50294, 1, 113)}},
	"ipfix yaf":               {[]string{"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat", "ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data45873.dat", "ipfix_test_yaf_data53248.dat"}, 3, map[int]func(*testing.T, *record.Flow){0: flowIs("172.16.32.201", "172.16.32.100", 46086, 53, 2, 132), 1: flowIs("172.16.32.100", "172.16.32.215", 63499, 9997, 4, 172)}},
}

// TestVendorSamples decodes every context of logstash-codec-netflow's own
// spec the way it does (each .dat file one datagram, one codec per context)
// and checks its event counts and the field values it states.
func TestVendorSamples(t *testing.T) {
	dir := corpusDir(t, "netflow/logstash-codec-netflow")
	used := map[string]bool{}
	exporter := netip.MustParseAddr("192.0.2.1")
	for name, c := range vendorCases {
		t.Run(name, func(t *testing.T) {
			d := New(name)
			var events []*record.Flow // nil for an options record
			for _, f := range c.files {
				used[f] = true
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				opts := d.Stats.OptionRecords
				flows, _ := d.decodeEvents(exporter, b)
				// Options records come before the flows of a datagram in every
				// sample that mixes them (their templates come first).
				for i := opts; i < d.Stats.OptionRecords; i++ {
					events = append(events, nil)
				}
				for i := range flows {
					events = append(events, &flows[i])
				}
			}
			if c.want >= 0 && len(events) != c.want {
				t.Errorf("%d events (%d flows, %d options records), logstash's spec expects %d",
					len(events), d.Stats.Records, d.Stats.OptionRecords, c.want)
			}
			for i, check := range c.checks {
				if i >= len(events) || events[i] == nil {
					t.Errorf("event %d: not a flow record", i)
					continue
				}
				check(t, events[i])
			}
		})
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
	for _, f := range all {
		if !used[filepath.Base(f)] {
			// Samples the spec does not name: they must still decode without a panic.
			b, _ := os.ReadFile(f)
			New("x").decodeEvents(exporter, b)
		}
	}
}

func (d *Decoder) decodeEvents(exporter netip.Addr, b []byte) ([]record.Flow, error) {
	return d.Decode(exporter, b, nil)
}

// TestFixedLayout checks that reading templates of fixed-length fields by
// their precomputed offsets gives what reading them field by field gives,
// on every vendor sample, and which templates qualify.
func TestFixedLayout(t *testing.T) {
	dir := corpusDir(t, "netflow/logstash-codec-netflow")
	exporter := netip.MustParseAddr("192.0.2.1")
	fixed := 0
	for name, c := range vendorCases {
		fast, slow := New(name), New(name)
		slow.generic = true
		for _, f := range c.files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			a, errA := fast.decodeEvents(exporter, b)
			z, errZ := slow.decodeEvents(exporter, b)
			if fmt.Sprint(errA) != fmt.Sprint(errZ) || len(a) != len(z) {
				t.Fatalf("%s %s: %d records (%v) by offsets, %d (%v) field by field", name, f, len(a), errA, len(z), errZ)
			}
			for i := range a {
				if a[i] != z[i] {
					t.Errorf("%s %s: record %d differs:\n%+v\n%+v", name, f, i, a[i], z[i])
				}
			}
		}
		if fast.Stats != slow.Stats {
			t.Errorf("%s: stats %+v by offsets, %+v field by field", name, fast.Stats, slow.Stats)
		}
		for _, s := range fast.sessions {
			for _, tm := range s.templates {
				if tm.fixed != nil {
					fixed++
				}
			}
		}
	}
	t.Logf("%d vendor templates read by offsets", fixed)
	if fixed < 10 {
		t.Errorf("only %d vendor templates read by offsets", fixed)
	}

	f := func(act action, n uint16) field { return field{length: n, act: act} }
	for _, c := range []struct {
		name   string
		fields []field
		want   int // fields kept; -1: not fixed
	}{
		{"v4 five-tuple and counters", []field{f(aSrc4, 4), f(aDst4, 4), f(aSkip, 2), f(aSPort, 2), f(aDPort, 2), f(aProto, 1), f(aInBytes, 4), f(aInPkts, 8)}, 7},
		{"variable length", []field{f(aSrc4, 4), f(aSkip, varLen)}, -1},
		{"a value twice", []field{f(aInBytes, 4), f(aInBytes, 8)}, -1},
		{"v4 and v6 sources", []field{f(aSrc4, 4), f(aSrc6, 16)}, -1},
		{"two start times", []field{f(aStartSec, 4), f(aStartMs, 8)}, -1},
		{"ICMP type-code and type", []field{f(aICMPTypeCode, 2), f(aICMPType, 1)}, -1},
		{"ICMP type and code", []field{f(aICMPType, 1), f(aICMPCode, 1)}, 2},
	} {
		got := fixedLayout(c.fields)
		if (got == nil) != (c.want < 0) || c.want >= 0 && len(got) != c.want {
			t.Errorf("%s: fixedLayout = %v, want %d fields", c.name, got, c.want)
		}
	}
}
