// Package save is the save stage: it writes each input's encoded outputs
// below the output folder so that each is absent, old or complete,
// whatever happens, flushing them in batches.
package save

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/stages"
)

// Options controls the save stage.
type Options struct {
	// OutDir is the output folder; created if missing. Required.
	OutDir string
	// NoSync skips the flush before rename that keeps outputs whole.
	NoSync bool
}

// Saver writes outputs below one output folder, opened once by New:
// every file is written through that os.Root, so neither a name, a symlink
// below the folder, nor the folder itself being swapped for a symlink while
// a run goes on can send a write elsewhere. Each output is written to a
// temporary file in its folder (Write), flushed to disk with others in one
// batch (Flush), then renamed into place (Commit); Save does the three for
// one input. A Saver is safe for concurrent use. It holds one file
// descriptor for the output folder and one for each of up to maxDirs
// folders below it (cached so that a file costs no mkdir and no path walk);
// Close releases them.
type Saver struct {
	root   *os.Root
	outDir string
	sync   atomicfile.Sync

	mu   sync.Mutex
	dirs map[string]*atomicfile.Dir // by name below root
}

// maxDirs bounds the folders a Saver keeps open; outputs in others are
// written all the same, opening their folder each time.
const maxDirs = 256

// New creates opts.OutDir if it is missing and opens it for a run.
func New(opts Options) (*Saver, error) {
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, outputErr(err)
	}
	root, err := os.OpenRoot(opts.OutDir)
	if err != nil {
		return nil, outputErr(err)
	}
	s := &Saver{root: root, outDir: opts.OutDir, sync: atomicfile.Later, dirs: map[string]*atomicfile.Dir{}}
	if opts.NoSync {
		s.sync = atomicfile.Never
	}
	return s, nil
}

// Batched reports whether Flush does the flushing (the outputs written by
// Write are not on disk until it returns), so that it pays to Flush many
// inputs at once.
func (s *Saver) Batched() bool { return s.sync == atomicfile.Later }

// Root is the output folder opened for the run.
func (s *Saver) Root() *os.Root { return s.root }

// Close releases the output folder. Nothing may be written after.
func (s *Saver) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, d := range s.dirs {
		d.Close()
		delete(s.dirs, name)
	}
	return s.root.Close()
}

// Pending is an input whose outputs are written under temporary names.
type Pending struct {
	e     *stages.Encoded
	temps []*atomicfile.Temp
	dirs  []*atomicfile.Dir // to close after Commit: folders not cached
}

// Write writes e's files under temporary names in their folders.
func (s *Saver) Write(ctx context.Context, e *stages.Encoded) (*Pending, error) {
	p := &Pending{e: e}
	for i, data := range e.Files {
		if err := ctx.Err(); err != nil {
			s.Abort(p)
			return nil, err
		}
		dir, base := filepath.Split(filepath.FromSlash(e.Targets[i].Name))
		d, err := s.dir(p, filepath.Clean(dir))
		if err == nil {
			var t *atomicfile.Temp
			if t, err = d.WriteTemp(base, data, s.sync); err == nil {
				p.temps = append(p.temps, t)
				continue
			}
		}
		s.Abort(p)
		return nil, outputErr(err)
	}
	return p, nil
}

// dir returns the folder name below the root, created and opened once per
// Saver (or once for p, beyond maxDirs).
func (s *Saver) dir(p *Pending, name string) (*atomicfile.Dir, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dirs[name]; ok {
		return d, nil
	}
	d, err := atomicfile.OpenDir(s.root, name)
	if err != nil {
		return nil, err
	}
	if len(s.dirs) < maxDirs {
		s.dirs[name] = d
	} else {
		p.dirs = append(p.dirs, d)
	}
	return d, nil
}

// Flush puts the files of ps on disk (unless NoSync): an fsync each, one
// after the other, once all are written, so that the file system commits
// its journal once for the batch rather than once a file (see
// atomicfile.Flush). Then, and only then, Commit may give them their names.
func (s *Saver) Flush(ps []*Pending) error {
	var temps []*atomicfile.Temp
	for _, p := range ps {
		temps = append(temps, p.temps...)
	}
	return outputErr(atomicfile.Flush(temps))
}

// Commit renames p's files into place, once Flush has returned.
func (s *Saver) Commit(p *Pending) (*stages.Saved, error) {
	defer closeAll(p.dirs)
	out := &stages.Saved{Encoded: p.e, Paths: make([]string, len(p.temps))}
	for i, t := range p.temps {
		if err := t.Commit(); err != nil {
			for _, t := range p.temps[i+1:] {
				t.Abort()
			}
			return nil, outputErr(err)
		}
		out.Paths[i] = filepath.Join(s.outDir, filepath.FromSlash(p.e.Targets[i].Name))
	}
	return out, nil
}

// Abort removes p's temporary files.
func (s *Saver) Abort(p *Pending) {
	for _, t := range p.temps {
		t.Abort()
	}
	closeAll(p.dirs)
}

func closeAll(dirs []*atomicfile.Dir) {
	for _, d := range dirs {
		d.Close()
	}
}

// Save writes e's files and puts them in place, flushed: Write, Flush and
// Commit for one input.
func (s *Saver) Save(ctx context.Context, e *stages.Encoded) (*stages.Saved, error) {
	p, err := s.Write(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := s.Flush([]*Pending{p}); err != nil {
		s.Abort(p)
		return nil, err
	}
	return s.Commit(p)
}

// Remove deletes the file name (slash-separated, below the output folder)
// through the output folder opened for the run.
func (s *Saver) Remove(name string) error {
	return s.root.Remove(filepath.FromSlash(name))
}

// outputErr marks errors that every later output would meet too.
func outputErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", stages.ErrOutput, err)
	}
	return err
}
