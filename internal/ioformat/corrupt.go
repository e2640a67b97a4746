package ioformat

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// RecoverCorrupt, deferred around calls into parquet-go on data read from
// a file, turns a panic into *err. parquet-go panics on some corrupt files
// (offsets out of range in a page index or a page), and a corrupt input
// must give an error naming it, never a crash. name may be "" when the
// caller names the file.
func RecoverCorrupt(name string, err *error) {
	if r := recover(); r != nil {
		*err = corrupt(name, r)
	}
}

func corrupt(name string, r any) error {
	if name != "" {
		return fmt.Errorf("%s: corrupt Parquet (%v)", DisplayName(name), r)
	}
	return fmt.Errorf("corrupt Parquet (%v)", r)
}

// SafePages reads pages through p, a panic on a corrupt page being an
// error; it is what parquet.AsyncPages must wrap, since a panic in its
// goroutine cannot be recovered by the reader.
func SafePages(p parquet.Pages) parquet.Pages { return safePages{p} }

type safePages struct{ parquet.Pages }

func (p safePages) ReadPage() (page parquet.Page, err error) {
	defer RecoverCorrupt("", &err)
	return p.Pages.ReadPage()
}

func openParquet(name string, f io.ReaderAt, size int64) (pf *parquet.File, err error) {
	defer RecoverCorrupt(name, &err)
	return parquet.OpenFile(f, size)
}
