package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time: -ldflags "-X github.com/spot-hunt/spot/internal/cli.version=v0.1.0 -X ...commit=abc1234".
var (
	version = "dev"
	commit  = ""
)

func versionString() string {
	rev := commit
	if rev == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 7 {
					rev = s.Value[:7]
				}
			}
			if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				version = bi.Main.Version
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("spot %s (rev %s, %s)", version, rev, runtime.Version())
}
