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

// file is an open file.
type file struct{ f *os.File }

func (d *dir) create(tmp string) (file, error) {
	f, err := d.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	return file{f}, err
}

func (f file) write(data []byte) error {
	_, err := f.f.Write(data)
	return err
}

func (f file) sync() error  { return f.f.Sync() }
func (f file) close() error { return f.f.Close() }

func (d *dir) rename(from, to string) error { return d.r.Rename(from, to) }

func (d *dir) remove(name string) error { return d.r.Remove(name) }

// Close closes d.
func (d *Dir) Close() error { return d.r.Close() }

// canSyncFS: there is no syncfs here, Flush fsyncs each file.
const canSyncFS = false

func syncFS([]*Temp) error { return errors.ErrUnsupported }
