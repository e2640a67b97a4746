package ioformat

import (
	"bufio"
	"bytes"
	"io"
)

// Lines reads the lines of a text log one at a time, without copying them
// and without their end of line (\n or \r\n), and numbers them from 1. A
// line longer than its buffer is passed over whole: Next says so, and
// hands out none of its text.
type Lines struct {
	br   *bufio.Reader
	n    int64
	done bool
}

// NewLines reads lines of up to size bytes from r (r itself when it is a
// bufio.Reader of that size or more).
func NewLines(r io.Reader, size int) *Lines {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < size {
		br = bufio.NewReaderSize(r, size)
	}
	return &Lines{br: br}
}

// Size is the length of the longest line handed out.
func (l *Lines) Size() int { return l.br.Size() }

// Number is the number of the line Next returned last.
func (l *Lines) Number() int64 { return l.n }

// Next returns the next line, valid until the following call; long when
// it was longer than Size (line is then nil). At the end it returns io.EOF.
func (l *Lines) Next() (line []byte, long bool, err error) {
	if l.done {
		return nil, false, io.EOF
	}
	line, err = l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.n++
		for err == bufio.ErrBufferFull {
			_, err = l.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		l.done = err == io.EOF
		return nil, true, nil
	}
	if err == io.EOF {
		l.done = true
		if len(line) == 0 {
			return nil, false, io.EOF
		}
	} else if err != nil {
		return nil, false, err
	}
	l.n++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'}), false, nil
}
