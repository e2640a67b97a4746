package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// File is a file being written, to appear at Path when committed.
type File struct {
	*os.File
	Path string
	name string // its temporary name; "" while it has none (O_TMPFILE)
	done bool
}

// ErrExiting is returned once Freeze was called: the process is ending.
var ErrExiting = errors.New("spot is exiting")

// live is the lock Commit and Freeze take, and the temporary names that
// exist on disk (files without O_TMPFILE), which Freeze removes.
var live struct {
	sync.Mutex
	names  map[string]bool
	frozen bool
}

// Create starts a file to be committed to path, in path's folder (so the
// rename stays on one file system), with mode 0644.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if f, err := openUnnamed(dir, path); err == nil { // named path in messages: nothing removes by its name
		return &File{File: f, Path: path}, nil
	}
	live.Lock()
	defer live.Unlock()
	if live.frozen {
		return nil, ErrExiting
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if live.names == nil {
		live.names = map[string]bool{}
	}
	live.names[f.Name()] = true
	return &File{File: f, Path: path, name: f.Name()}, nil
}

// Commit puts the file, whose writes are complete, at its path (replacing
// what was there) and closes it. On error nothing is left behind.
func (f *File) Commit() error {
	if f.done {
		return os.ErrClosed
	}
	f.done = true
	live.Lock()
	defer live.Unlock()
	if live.frozen {
		f.File.Close()
		return ErrExiting
	}
	if f.name == "" {
		name, err := linkUnnamed(f.File, f.Path)
		if err != nil {
			f.File.Close()
			return err
		}
		f.name = name
	}
	delete(live.names, f.name)
	err := f.File.Close()
	if err == nil {
		err = os.Rename(f.name, f.Path)
	}
	if err != nil {
		os.Remove(f.name)
	}
	return err
}

// Abort closes the file and removes it: the path keeps what it held.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if f.name != "" {
		live.Lock()
		delete(live.names, f.name)
		os.Remove(f.name)
		live.Unlock()
	}
}

// Scratch returns a file for the process's own use (a spool), created in
// the system's temporary folder and already unlinked: it goes when closed
// or when the process ends.
func Scratch(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Freeze, called before a forced exit, removes every temporary file that
// has a name and makes every later Create and Commit fail (a commit under
// way finishes first): nothing is left half-written, and no output appears
// after the exit was decided. It returns how many files it removed.
func Freeze() int {
	live.Lock()
	live.frozen = true
	n := 0
	for name := range live.names {
		if os.Remove(name) == nil {
			n++
		}
	}
	clear(live.names)
	live.Unlock()
	return n
}
