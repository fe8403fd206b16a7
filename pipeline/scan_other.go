//go:build !unix

package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// errNotDir: what openSubdir was to open is no longer a folder (a link, a
// file).
var errNotDir = errors.New("not a folder")

// openSubdir opens the folder name inside the open folder parent: by
// path, checked before with Lstat (a folder, not a link) and after on the
// open descriptor (the same folder), so a folder swapped for a link in
// between is not entered.
func openSubdir(parent *os.File, name string) (*os.File, error) {
	p := filepath.Join(parent.Name(), name)
	before, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() || before.Mode()&fs.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: p, Err: errNotDir}
	}
	d, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if after, err := d.Stat(); err != nil || !os.SameFile(before, after) {
		d.Close()
		return nil, &os.PathError{Op: "open", Path: p, Err: errNotDir}
	}
	return d, nil
}
