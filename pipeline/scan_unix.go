//go:build unix

package pipeline

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// errNotDir: what openSubdir was to open is no longer a folder (a link, a
// file).
var errNotDir = errors.New("not a folder")

// openSubdir opens the folder name inside the open folder parent with
// openat(O_NOFOLLOW|O_DIRECTORY): relative to parent's descriptor, so
// neither a swapped name nor a swapped parent path leads elsewhere.
func openSubdir(parent *os.File, name string) (*os.File, error) {
	p := filepath.Join(parent.Name(), name)
	rc, err := parent.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var oerr error
	if err := rc.Control(func(pfd uintptr) {
		for {
			fd, oerr = unix.Openat(int(pfd), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if oerr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return nil, err
	}
	switch {
	case oerr == unix.ELOOP || oerr == unix.ENOTDIR:
		return nil, &os.PathError{Op: "open", Path: p, Err: errNotDir}
	case oerr != nil:
		return nil, &os.PathError{Op: "open", Path: p, Err: oerr}
	}
	return os.NewFile(uintptr(fd), p), nil
}
