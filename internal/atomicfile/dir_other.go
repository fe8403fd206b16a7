//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

// dir is the folder opened as a root of its own.
type dir struct{ r *os.Root }

func openDir(root *os.Root, name string) (dir, error) {
	r, err := root.OpenRoot(name)
	return dir{r}, err
}

func (d *dir) write(tmp string, data []byte, sync bool) error {
	f, err := d.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.r.Remove(tmp)
	}
	return err
}

func (d *dir) rename(from, to string) error { return d.r.Rename(from, to) }

func (d *dir) remove(name string) error { return d.r.Remove(name) }

// Close closes d.
func (d *Dir) Close() error { return d.r.Close() }

// SyncFS is Linux only: here it returns errors.ErrUnsupported (and
// WriteTemp must flush each file).
func SyncFS(temps []*Temp) error {
	if len(temps) == 0 {
		return nil
	}
	return errors.ErrUnsupported
}

// CanSyncFS reports whether SyncFS exists here (Linux); elsewhere, each
// file must be flushed by WriteTemp.
const CanSyncFS = false
