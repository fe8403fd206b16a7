//go:build unix

package inputfile

import (
	"errors"
	"io"
	"io/fs"
	"syscall"
)

// File is an open input: positioned reads, then Close.
type File struct {
	fd   int
	path string
}

// open opens path with O_NONBLOCK (a FIFO opens at once instead of
// waiting for a writer) and, unless follow, O_NOFOLLOW, and reads the
// descriptor's type and size.
func open(path string, follow bool) (*File, fs.FileMode, int64, error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		if fd, err = syscall.Open(path, flags, 0); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		if !follow && errors.Is(err, syscall.ELOOP) {
			err = ErrSymlink
		}
		return nil, 0, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := &File{fd: fd, path: path}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, 0, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return f, mode(uint32(st.Mode)), st.Size, nil
}

// mode is the type bits of a stat mode as an fs.FileMode.
func mode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt does.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: errors.New("negative offset")}
	}
	n := 0
	for n < len(p) {
		m, err := syscall.Pread(f.fd, p[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "read", Path: f.path, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Close closes the descriptor. A second Close is an error, not a close of
// some other file.
func (f *File) Close() error {
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.path, Err: fs.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}
