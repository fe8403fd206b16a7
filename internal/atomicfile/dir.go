package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// pid is this process's id, as temporary file names hold it.
var pid = strconv.Itoa(os.Getpid())

// Dir is one folder below a root, opened once so that writing a file into
// it costs no path walk, no mkdir and no stat: create the temporary file,
// write, (fsync,) close, rename. Names given to its methods are base names, never paths. Safe for
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
	f         file // open until Flush, with Later; else closed
	open      bool
}

// Sync says when WriteTemp's data is flushed to disk.
type Sync int

const (
	// Now flushes the file (fsync) before WriteTemp returns.
	Now Sync = iota
	// Later leaves the file open for Flush, which flushes a batch of
	// files at once: the file system commits its journal once for all of
	// them instead of once a file.
	Later
	// Never leaves flushing to the operating system: after a power cut the
	// file may be empty or partly written under its final name.
	Never
)

// WriteTemp writes data to a new temporary file in d that Commit will
// rename to name, flushed to disk as sync says. With Later, the Temp holds
// an open file descriptor until Flush, Commit or Abort.
func (d *Dir) WriteTemp(name string, data []byte, sync Sync) (*Temp, error) {
	if filepath.Base(name) != name {
		return nil, fmt.Errorf("atomicfile: %q is not a base name", name)
	}
	var t *Temp
	for i := 0; ; i++ {
		tmp := TempPrefix + pid + "-" + strconv.FormatInt(tempSeq.Add(1), 10) + ".tmp"
		f, err := d.create(tmp)
		if err == nil {
			t = &Temp{d: d, tmp: tmp, name: name, f: f, open: true}
			break
		}
		if !os.IsExist(err) || i > 100 {
			return nil, err
		}
	}
	err := t.f.write(data)
	if err == nil && sync == Now {
		err = t.f.sync()
	}
	if err == nil && sync != Later {
		err = t.close()
	}
	if err != nil {
		t.Abort()
		return nil, &os.PathError{Op: "write", Path: t.tmp, Err: err}
	}
	return t, nil
}

func (t *Temp) close() error {
	if !t.open {
		return nil
	}
	t.open = false
	return t.f.close()
}

// Flush puts the data of every temp written with Later on disk and closes
// it: an fsync each, one after the other. The first commits the file
// system's journal, which on ext4 (data=ordered) and xfs carries every file
// written before it, so the others find their data already there and cost
// little more than the system call.
func Flush(temps []*Temp) error {
	var first error
	for _, t := range temps {
		if !t.open {
			continue
		}
		err := t.f.sync()
		if cerr := t.close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = &os.PathError{Op: "sync", Path: t.tmp, Err: err}
		}
	}
	return first
}

// Commit gives t its final name, replacing any file of that name. A Temp
// written with Later must be flushed first, or it is committed unflushed.
func (t *Temp) Commit() error {
	err := t.close()
	if err == nil {
		err = t.d.rename(t.tmp, t.name)
	}
	if err != nil {
		t.Abort()
		return err
	}
	return nil
}

// Abort removes t's temporary file.
func (t *Temp) Abort() {
	t.close()
	t.d.remove(t.tmp)
}

// Remove deletes the file name (a base name) from d.
func (d *Dir) Remove(name string) error {
	if filepath.Base(name) != name {
		return fmt.Errorf("atomicfile: %q is not a base name", name)
	}
	return d.remove(name)
}
