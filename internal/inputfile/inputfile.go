// Package inputfile opens input files the way a batch that may meet hostile
// folders must: once, without blocking (a FIFO or a device named photo.jpg
// must not hang a worker in open), without following a symbolic link the
// caller did not accept, and only if what was opened is a regular file.
package inputfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is returned by Open for a FIFO, a device, a socket or a
// folder: what was opened is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrSymlink is returned by Open, without following it, for a symbolic link
// when follow is false.
var ErrSymlink = errors.New("is a symbolic link (not followed)")

// Open opens the file at path for reading. With follow false, a symbolic
// link as the last element of path is not followed (ErrSymlink); with
// follow true it is. The open never blocks (O_NONBLOCK where the platform
// has it, cleared again once the descriptor is known to be a regular file),
// and a descriptor that is not a regular file is closed and refused with
// ErrNotRegular. The returned file's Stat is the one checked.
func Open(path string, follow bool) (*os.File, fs.FileInfo, error) {
	f, err := open(path, follow)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%w (%s)", ErrNotRegular, kind(info.Mode()))
	}
	if err == nil {
		err = blocking(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
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
