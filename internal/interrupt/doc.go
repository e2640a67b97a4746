// Package interrupt catches SIGINT and SIGTERM from the start of the
// process, before main runs.
//
// Go ends a process that receives either signal before anything asked for
// it with signal.Notify, and spot's packages take tens of milliseconds to
// initialize (over a hundred on a loaded machine) before main can ask: an
// interrupt in that window killed spot by the signal, where a later one
// exits 130 with a message. This package needs only os/signal, so its init
// runs among the first, and the window shrinks to the runtime's own start.
//
// Only cmd/spot imports it. A program that links it ignores these signals
// until it reads Signals (cli.MainSignals does) or calls Stop.
package interrupt
