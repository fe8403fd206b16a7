package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is one folder below a root, opened once so that writing a file into
// it costs no path walk, no mkdir and no stat: create the temporary file,
// write, close, rename (and fsync, unless the caller flushes a batch with
// SyncFS). Names given to its methods are base names, never paths. Safe for
// concurrent use; Close it when done (it holds one file descriptor).
type Dir struct {
	dir
}

// OpenDir creates the folder name below root if it is missing and opens
// it. Like every access through root, neither name nor a symlink can lead
// it outside root's folder.
func OpenDir(root *os.Root, name string) (*Dir, error) {
	if name != "." {
		if err := root.MkdirAll(name, 0o755); err != nil {
			return nil, err
		}
	}
	d, err := openDir(root, name)
	if err != nil {
		return nil, err
	}
	return &Dir{d}, nil
}

// Temp is a file written under a temporary name in its Dir, waiting to
// take its final name (Commit) or to be removed (Abort).
type Temp struct {
	d         *Dir
	tmp, name string
}

// WriteTemp writes data to a new temporary file in d that Commit will
// rename to name. With sync set, the data is flushed to disk (fsync) before
// it returns; without, the caller must flush it (SyncFS) before Commit if
// the file is to survive a power cut complete.
func (d *Dir) WriteTemp(name string, data []byte, sync bool) (*Temp, error) {
	if filepath.Base(name) != name {
		return nil, fmt.Errorf("atomicfile: %q is not a base name", name)
	}
	for i := 0; ; i++ {
		tmp := fmt.Sprintf("%s%d-%d.tmp", TempPrefix, os.Getpid(), tempSeq.Add(1))
		err := d.write(tmp, data, sync)
		if err == nil {
			return &Temp{d, tmp, name}, nil
		}
		if !os.IsExist(err) || i > 100 {
			return nil, err
		}
	}
}

// Commit gives t its final name, replacing any file of that name.
func (t *Temp) Commit() error {
	if err := t.d.rename(t.tmp, t.name); err != nil {
		t.Abort()
		return err
	}
	return nil
}

// Abort removes t's temporary file.
func (t *Temp) Abort() { t.d.remove(t.tmp) }

// Remove deletes the file name (a base name) from d.
func (d *Dir) Remove(name string) error {
	if filepath.Base(name) != name {
		return fmt.Errorf("atomicfile: %q is not a base name", name)
	}
	return d.remove(name)
}
