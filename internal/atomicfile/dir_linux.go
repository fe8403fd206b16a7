package atomicfile

import (
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// dir is the folder's descriptor, used with the *at system calls directly:
// os.File would add four fcntl calls and an epoll_ctl to every open of a
// regular file (it tries the poller first), which on a folder of small
// outputs cost more than the write.
type dir struct {
	f   *os.File
	fd  int
	dev uint64 // the file system it is on
}

func openDir(root *os.Root, name string) (dir, error) {
	f, err := root.Open(name)
	if err != nil {
		return dir{}, err
	}
	var st unix.Stat_t
	fd := int(f.Fd())
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		f.Close()
		if err == nil {
			err = unix.ENOTDIR
		}
		return dir{}, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return dir{f, fd, uint64(st.Dev)}, nil
}

// write creates tmp (never following a symlink: O_EXCL), writes data to it
// and closes it: openat, write, (fsync,) close.
func (d *dir) write(tmp string, data []byte, sync bool) error {
	fd, err := unix.Openat(d.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	for len(data) > 0 && err == nil {
		var n int
		n, err = unix.Write(fd, data)
		if err == unix.EINTR {
			err = nil
		}
		data = data[max(n, 0):]
	}
	if err == nil && sync {
		err = unix.Fsync(fd)
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		unix.Unlinkat(d.fd, tmp, 0)
		return &os.PathError{Op: "write", Path: tmp, Err: err}
	}
	return nil
}

// rename is renameat within the folder: it replaces a symlink named to,
// never follows it.
func (d *dir) rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

func (d *dir) remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// Close closes d's descriptor.
func (d *Dir) Close() error { return d.f.Close() }

// SyncFS puts the files of temps on disk, data and metadata: one
// syncfs(2) for each file system they are on (usually one for the whole
// batch), which returns once everything written to that file system is on
// stable storage (ext4 and xfs commit their journal and flush the disk's
// cache). Since Linux 5.8 it reports a write-back error of any file of
// that file system since the descriptor was opened; before, none.
func SyncFS(temps []*Temp) error {
	var done []uint64
	for _, t := range temps {
		if slices.Contains(done, t.d.dev) {
			continue
		}
		done = append(done, t.d.dev)
		if err := unix.Syncfs(t.d.fd); err != nil {
			return &os.PathError{Op: "syncfs", Path: t.d.f.Name(), Err: err}
		}
	}
	return nil
}

// CanSyncFS reports whether SyncFS exists here (Linux); elsewhere, each
// file must be flushed by WriteTemp.
const CanSyncFS = true
