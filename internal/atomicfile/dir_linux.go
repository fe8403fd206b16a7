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

// file is an open file descriptor.
type file int

// create makes tmp, never following a symlink (O_EXCL).
func (d *dir) create(tmp string) (file, error) {
	fd, err := unix.Openat(d.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	return file(fd), nil
}

func (f file) write(data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(int(f), data)
		if err != nil && err != unix.EINTR {
			return err
		}
		data = data[max(n, 0):]
	}
	return nil
}

func (f file) sync() error  { return unix.Fsync(int(f)) }
func (f file) close() error { return unix.Close(int(f)) }

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

// canSyncFS: Flush may use syncFS.
const canSyncFS = true

// syncFS puts everything written to the file systems that hold temps on
// disk, data and metadata: one syncfs(2) for each file system (usually one
// for the whole batch). It returns once that is on stable storage (ext4 and
// xfs commit their journal and flush the disk's cache); since Linux 5.8 it
// reports a write-back error of any file of that file system.
func syncFS(temps []*Temp) error {
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
