package stages

import (
	"context"
	"errors"
	"fmt"
	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"os"
	"path/filepath"
	"syscall"
)

// SaveOptions controls the save stage.
type SaveOptions struct {
	// OutDir is the output folder; created if missing. Required.
	OutDir string `yaml:"-"`
	// NoSync skips the flush before rename that keeps outputs whole.
	NoSync bool `yaml:"no_sync"`
}

// Saved is an input whose outputs are on disk.
type Saved struct {
	*Encoded
	Paths []string // where each target was written, in target order
}

// Save returns the save stage: each file is written to a temporary file
// and renamed into place below OutDir (absent, old or complete, never
// half-written), through an os.Root that no name or symlink can leave.
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
			if err := atomicfile.Write(root, name, data, !opts.NoSync); err != nil {
				return nil, outputErr(err)
			}
			s.Paths[i] = filepath.Join(opts.OutDir, name)
		}
		return s, nil
	}
}

// outputErr marks errors that every later output would meet too.
func outputErr(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", ErrOutput, err)
	}
	return err
}
