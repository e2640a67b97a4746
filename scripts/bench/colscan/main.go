// Command colscan reads some columns of a flow Parquet file through spot's
// stream layer, as the flow engine does, and prints a checksum of them: the
// bench row for column projection.
//
//	colscan FILE COLUMN,...
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: colscan FILE COLUMN,...")
		os.Exit(2)
	}
	in, err := ioformat.Open(os.Args[1], os.Stdin)
	check(err)
	r, err := ioformat.NewReader[record.Flow](in, strings.Split(os.Args[2], ",")...)
	check(err)
	defer r.Close()
	buf := make([]record.Flow, ioformat.BatchSize)
	var rows, sum int64
	for {
		n, err := r.Read(buf)
		for _, f := range buf[:n] {
			sum += int64(len(f.SIP)+len(f.DIP)+len(f.Proto)) + int64(f.SPort+f.DPort+f.TrHour) + f.IPkt + f.IByt
		}
		rows += int64(n)
		if err == io.EOF {
			break
		}
		check(err)
	}
	fmt.Println(rows, sum)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "colscan:", err)
		os.Exit(1)
	}
}
