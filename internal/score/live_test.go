package score

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// flowsAndModel writes n flows (a beacon, a scan and ordinary traffic) as
// NDJSON and a model trained on them, and returns both paths.
func flowsAndModel(t testing.TB, n int) (string, string) {
	t.Helper()
	dir := t.TempDir()
	t0 := int64(1_700_000_000)
	var fs []record.Flow
	for i := 0; len(fs) < n; i++ {
		f := record.Flow{UnixTstamp: t0 + int64(i), SIP: fmt.Sprintf("10.0.0.%d", i%7+1), DIP: fmt.Sprintf("192.0.2.%d", i%13+1),
			SPort: int32(40000 + i%900), DPort: 443, Proto: "TCP", IPkt: int64(5 + i%20), IByt: int64(400 + 37*(i%50)), OPkt: 8, OByt: 9000,
			TReceived: "2023-11-14 10:13:20", TrHour: 10} // Spot's filters reject flows without treceived
		switch {
		case i%10 == 0: // a beacon every 60 s
			f.SIP, f.DIP, f.DPort, f.IByt, f.UnixTstamp = "10.0.0.99", "198.51.100.9", 8080, 300, t0+int64(i/10)*60
		case i%10 == 1: // a scan
			f.SIP, f.DIP, f.DPort, f.IPkt, f.IByt, f.OPkt, f.OByt = "10.0.0.66", "10.0.1.1", int32(1+i/10), 1, 60, 0, 0
		}
		f.TStartNs = f.UnixTstamp * 1e9
		f.TEndNs = f.TStartNs + 1e9
		f.EID = int64(i + 1)
		fs = append(fs, f)
	}
	path := filepath.Join(dir, "flows.ndjson")
	w, err := ioformat.Create[record.Flow](ioformat.Dest{Path: path}, record.Flow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(fs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fz := feature.New(record.KindFlow, feature.Options{})
	b := lda.NewBuilder()
	for i := range fs {
		f := &fs[i]
		src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		b.Add(f.SIP, src, 1)
		b.Add(f.DIP, dst, 1)
	}
	m, err := lda.Train(context.Background(), b.Build(), lda.Settings{Topics: 3, Alpha: 1.02, Beta: 1.001, Iterations: 5, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Kind = string(record.KindFlow)
	m.Features = fz.Settings()
	model := filepath.Join(dir, "flows.model")
	if err := m.WriteFile(model); err != nil {
		t.Fatal(err)
	}
	return path, model
}

// The fused method reads a pipe once: held whole, or spilled to a file past
// maxHeld events, it scores every event as from the file, with the same
// findings.
func TestPipedEqualsFile(t *testing.T) {
	path, model := flowsAndModel(t, 3000)
	score := func(in *ioformat.Input) (string, []record.Finding) {
		t.Helper()
		var out bytes.Buffer
		st, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Stdout: &out, Format: ioformat.NDJSON},
			Options{Model: model, Method: Fused})
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), st.Findings
	}
	open := func(name string, stdin *bytes.Reader) *ioformat.Input {
		t.Helper()
		in, err := ioformat.Open(name, stdin)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	want, wantFindings := score(open(path, nil))
	if len(wantFindings) == 0 {
		t.Fatal("no findings: the test's beacon and scan were not found")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, held := range []int{maxHeld, 100} {
		t.Run(fmt.Sprint("held ", held), func(t *testing.T) {
			defer func(old int) { maxHeld = old }(maxHeld)
			maxHeld = held
			got, findings := score(open("-", bytes.NewReader(data)))
			if got != want {
				t.Errorf("piped scores differ from the file's")
			}
			if fmt.Sprint(findings) != fmt.Sprint(wantFindings) {
				t.Errorf("piped findings %v, want %v", findings, wantFindings)
			}
		})
	}
}
