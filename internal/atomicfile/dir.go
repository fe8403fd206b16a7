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
	if !isBase(name) {
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

// Flush puts the data of every temp written with Later on disk, with its
// size and blocks, and closes it. One file is fsynced. Two or more, on
// Linux, take one syncfs(2) for each file system they are on: the file
// system writes them out together and commits its journal and flushes the
// disk's cache once, where an fsync each would flush once a file. The price:
// syncfs also waits for whatever else is waiting to be written on that file
// system, which is why a lone file gets an fsync (watch's latency must not
// depend on another program's big copy). Elsewhere each file is fsynced.
//
// Either way, when Flush returns nil every file is complete on stable
// storage under its temporary name, so a rename after it leaves the final
// name absent, old or complete, whatever happens next.
func Flush(temps []*Temp) error {
	var open []*Temp
	for _, t := range temps {
		if t.open {
			open = append(open, t)
		}
	}
	var first error
	if len(open) > 1 && canSyncFS {
		first = syncFS(open)
		for _, t := range open {
			if err := t.close(); err != nil && first == nil {
				first = &os.PathError{Op: "close", Path: t.tmp, Err: err}
			}
		}
		return first
	}
	for _, t := range open {
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

// isBase reports whether name names a file in its folder: no separator,
// not "", "." or "..".
func isBase(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name
}

// Write writes one file, name below root, through a temporary file that is
// flushed to disk (with sync) before it takes its name: for a file written
// on its own, such as the output folder's record.
func Write(root *os.Root, name string, data []byte, sync bool) error {
	d, err := OpenDir(root, filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	mode := Never
	if sync {
		mode = Now
	}
	t, err := d.WriteTemp(filepath.Base(name), data, mode)
	if err != nil {
		return err
	}
	return t.Commit()
}
