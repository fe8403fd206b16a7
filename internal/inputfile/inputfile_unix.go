//go:build unix

package inputfile

import (
	"errors"
	"os"
	"syscall"
)

// open opens path with O_NONBLOCK (a FIFO opens at once instead of
// waiting for a writer) and, unless follow, O_NOFOLLOW.
func open(path string, follow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil && !follow && errors.Is(err, syscall.ELOOP) {
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return f, err
}

// blocking clears O_NONBLOCK on a regular file's descriptor. (Regular
// files ignore the flag on Linux and the BSDs; clearing it keeps reads
// the same everywhere.)
func blocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
