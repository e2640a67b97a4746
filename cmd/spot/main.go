// Command spot hunts threats in network flows, DNS traffic and web-proxy logs
// with unsupervised machine learning. See "spot help" or man spot(1).
package main

import (
	"os"

	"github.com/spot-hunt/spot/internal/cli"
	"github.com/spot-hunt/spot/internal/interrupt"
)

func main() { os.Exit(cli.MainSignals(interrupt.Signals)) }
