package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/spot-hunt/spot/internal/cli"
	"github.com/spot-hunt/spot/internal/enrich/enrichtest"
	"github.com/spot-hunt/spot/internal/interrupt"
)

func TestMain(m *testing.M) {
	testscript.Main(testsOnly{m}, map[string]func(){
		"spot": func() { os.Exit(cli.MainSignals(interrupt.Signals)) },
	})
}

// testsOnly runs the tests with SIGINT and SIGTERM back to their default
// (main's import of internal/interrupt catches them), so that Ctrl-C
// ends "go test".
type testsOnly struct{ m *testing.M }

func (t testsOnly) Run() int {
	interrupt.Stop()
	return t.m.Run()
}

// TestScripts runs the end-to-end scripts in testdata/script against the real
// binary. $TESTDATA is the repository's testdata folder. UPDATE_SCRIPTS=1
// rewrites expected output in place.
func TestScripts(t *testing.T) {
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(testdata, "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// mkmmdb OUT CIDR=CC,city,lat,lon,asn,org...: a MaxMind-format database
			"mkmmdb": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: mkmmdb OUT CIDR=CC,city,lat,lon,asn,org...")
				}
				places, err := enrichtest.ParsePlaces(args[1:])
				ts.Check(err)
				ts.Check(enrichtest.Write(ts.MkAbs(args[0]), places))
			},
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTDATA", testdata)
			return nil
		},
	})
}
