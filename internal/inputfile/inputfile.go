// Package inputfile opens input files the way a batch that may meet hostile
// folders must: once, without blocking (a FIFO or a device named photo.jpg
// must not hang a worker in open), without following a symbolic link the
// caller did not accept, and only if what was opened is a regular file.
//
// On Unix a File is a bare descriptor read with pread: an *os.File costs
// an input four more system calls (registering with the poller, which
// fails for regular files, and the flag calls around it), and on a batch
// of thumbnails system calls were an eighth of the CPU.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ErrNotRegular is returned by Open for a FIFO, a device, a socket or a
// folder: what was opened is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrSymlink is returned by Open, without following it, for a symbolic link
// when follow is false.
var ErrSymlink = errors.New("is a symbolic link (not followed)")

// Open opens the file at path for reading and returns it with its size.
// With follow false, a symbolic link as the last element of path is not
// followed (ErrSymlink); with follow true it is. The open never blocks
// (O_NONBLOCK where the platform has it, which regular files ignore), and
// a descriptor that is not a regular file is closed and refused with
// ErrNotRegular. The size is the opened file's own.
func Open(path string, follow bool) (*File, int64, error) {
	f, mode, size, err := open(path, follow)
	if err != nil {
		return nil, 0, err
	}
	if !mode.IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w (%s)", ErrNotRegular, kind(mode))
	}
	return f, size, nil
}

// ReadHead reads the first len(buf) bytes of the file at path (fewer if it
// is shorter) into buf, opened as Open does, and returns how many it read.
func ReadHead(path string, follow bool, buf []byte) (int, error) {
	f, _, err := Open(path, follow)
	if err != nil {
		return 0, err
	}
	n, err := f.ReadAt(buf, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// kind names a file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "irregular"
}
