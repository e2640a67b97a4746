package interrupt

import (
	"os"
	"os/signal"
	"syscall"
)

// Signals has been notified of SIGINT and SIGTERM since the package's
// init; it holds three before they are read (a fourth is dropped).
var Signals = make(chan os.Signal, 3)

func init() { signal.Notify(Signals, os.Interrupt, syscall.SIGTERM) }

// Stop gives the signals back their default action (a test binary that
// links the package but does not run spot).
func Stop() { signal.Stop(Signals) }
