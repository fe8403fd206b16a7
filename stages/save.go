package stages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// SaveOptions controls the save stage.
type SaveOptions struct {
	// OutDir is the output folder; created if missing. Required.
	OutDir string `yaml:"-"`
	// NoSync skips the fsync before each rename. By default every output is
	// flushed to disk before it takes its name, so a power cut leaves either
	// the old file or the new one, never an empty one.
	NoSync bool `yaml:"no_sync"`
}

// Saved is an input whose outputs are on disk.
type Saved struct {
	*Encoded
	Paths []string // where each target was written, in target order
}

// TempPrefix starts the name of every temporary file the save stage
// writes. Such a file is hidden, and is renamed or removed before Save
// returns, even on error.
const TempPrefix = ".imgpipe-"

// Save returns the save stage: each encoded file is written to a
// temporary file in its target folder below OutDir and renamed into place,
// so an output is either absent, the previous version, or complete. All
// writes go through an os.Root, so no name, symlink or ".." can make it
// write outside OutDir.
func Save(opts SaveOptions) func(context.Context, *Encoded) (*Saved, error) {
	return func(ctx context.Context, e *Encoded) (*Saved, error) {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return nil, outputErr(err)
		}
		root, err := os.OpenRoot(opts.OutDir)
		if err != nil {
			return nil, outputErr(err)
		}
		defer root.Close()
		s := &Saved{Encoded: e, Paths: make([]string, len(e.Files))}
		for i, data := range e.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			name := filepath.FromSlash(e.Targets[i].Name)
			if err := writeAtomic(root, name, data, !opts.NoSync); err != nil {
				return nil, outputErr(err)
			}
			s.Paths[i] = filepath.Join(opts.OutDir, name)
		}
		return s, nil
	}
}

// writeAtomic writes data to name below root through a temporary file.
func writeAtomic(root *os.Root, name string, data []byte, sync bool) (err error) {
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, f, err := createTemp(root, dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if sync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

// createTemp makes a new hidden temporary file in dir below root.
func createTemp(root *os.Root, dir string) (string, *os.File, error) {
	for i := 0; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf("%s%d-%d.tmp", TempPrefix, os.Getpid(), tempSeq.Add(1)))
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return "", nil, err
		}
	}
}

// IsTemp reports whether a path is one of the save stage's temporary files.
func IsTemp(p string) bool {
	base := path.Base(filepath.ToSlash(p))
	return len(base) > len(TempPrefix) && base[:len(TempPrefix)] == TempPrefix && path.Ext(base) == ".tmp"
}

var tempSeq atomic.Int64

// outputErr marks errors that every later output would meet too.
func outputErr(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", ErrOutput, err)
	}
	return err
}

// RemoveTemp deletes the temporary files that process pid left below
// outDir: used when a second Ctrl-C ends the process at once, and (with
// the pid of a process that is gone) to tidy up after a crash. It returns
// how many it removed.
func RemoveTemp(outDir string, pid int) int {
	prefix := fmt.Sprintf("%s%d-", TempPrefix, pid)
	n := 0
	filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && IsTemp(p) {
			if os.Remove(p) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

// RemoveStaleTemp deletes the temporary files below outDir that processes
// no longer running left behind (a crash, a power cut, kill -9). Files of
// live processes, this one included, are left alone. It returns how many it
// removed.
func RemoveStaleTemp(outDir string) int {
	n := 0
	filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
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
