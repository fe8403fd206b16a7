// Package atomicfile writes files below a folder so that each is absent,
// its previous version, or complete, whatever happens to the process: a
// temporary file in the same folder, flushed, then renamed. Temporary
// files are named after the process that writes them, so that those left
// by a process that died can be told from those of one still running.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// TempPrefix starts the name of every temporary file: such a file is
// hidden, and named TempPrefix + pid + "-" + sequence + ".tmp".
const TempPrefix = ".imgpipe-"

// tempSeq numbers the temporary files of this process.
var tempSeq atomic.Int64

// CheckWritable makes sure dir exists and a file can be created in it,
// with a name that RemoveStale knows.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, fmt.Sprintf("%s%d-*.tmp", TempPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// IsTemp reports whether a path is one of the temporary files Write makes.
func IsTemp(p string) bool {
	base := path.Base(filepath.ToSlash(p))
	return len(base) > len(TempPrefix) && base[:len(TempPrefix)] == TempPrefix && path.Ext(base) == ".tmp"
}

// RemoveTemp deletes the temporary files that process pid left below dir:
// used when a second Ctrl-C ends the process at once. It returns how many
// it removed.
func RemoveTemp(dir string, pid int) int {
	prefix := fmt.Sprintf("%s%d-", TempPrefix, pid)
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && IsTemp(p) {
			if os.Remove(p) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

// RemoveStale deletes the temporary files below dir that processes no
// longer running left behind (a crash, a power cut, kill -9). Files of live
// processes, this one included, are left alone. It returns how many it
// removed.
func RemoveStale(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsTemp(p) {
			return nil
		}
		var pid, seq int
		if _, err := fmt.Sscanf(strings.TrimPrefix(d.Name(), TempPrefix), "%d-%d.tmp", &pid, &seq); err != nil {
			return nil
		}
		if pid != os.Getpid() && !processAlive(pid) && os.Remove(p) == nil {
			n++
		}
		return nil
	})
	return n
}
