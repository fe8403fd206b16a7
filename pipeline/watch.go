package pipeline

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/imgpipe/imgpipe/stages"
)

// WatchConfig configures watch mode (the watch: section of config.yaml).
type WatchConfig struct {
	// settle (default 1s) and ignore (extra glob patterns): see
	// WatchOptions.
	WatchOptions `yaml:",inline"`
	// DeleteOutputs removes an input's outputs when the input is deleted or
	// moved away. Off by default: outputs are often published elsewhere.
	DeleteOutputs bool `yaml:"delete_outputs"`
}

// Watch returns a source that emits what is under roots (catch-up: what is
// not up to date in the output is processed, as in a batch), then every
// image that lands there once it has stopped changing, until the run's
// context is cancelled. The output folder is never watched, even inside a
// root. With Config.Watch.DeleteOutputs, deleting an input deletes the
// outputs this pipeline made (or found up to date) for it.
func (p *Pipeline) Watch(roots []string) Source {
	opts := p.cfg.Watch.WatchOptions
	opts.Scan = p.cfg.Scan.ScanOptions
	if p.cfg.OutDir != "" {
		opts.Scan.Exclude = append(append([]string(nil), opts.Scan.Exclude...), p.cfg.OutDir)
	}
	if opts.Logger == nil {
		opts.Logger = p.log
	}
	return func(ctx context.Context, emit Emit) error {
		opts := opts
		if p.cfg.Watch.DeleteOutputs {
			opts.OnRemove = func(f stages.File) { p.removeOutputs(ctx, f) }
		}
		return watchTree(ctx, roots, opts, emit)
	}
}

// outputsOf remembers each input's output files, for DeleteOutputs.
type outputsOf struct {
	mu    sync.Mutex
	paths map[string][]string
}

func (o *outputsOf) record(r Result) {
	if r.Status == StatusFailed || len(r.Outputs) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.paths == nil {
		o.paths = map[string][]string{}
	}
	paths := make([]string, len(r.Outputs))
	for i, out := range r.Outputs {
		paths[i] = out.Path
	}
	o.paths[r.Input] = paths
}

func (o *outputsOf) take(input string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	paths := o.paths[input]
	delete(o.paths, input)
	return paths
}

// removeOutputs deletes the outputs recorded for a removed input, through
// the output folder the run opened (ctx carries it): only files inside it
// are ever removed, even if the folder was swapped for a symlink since.
func (p *Pipeline) removeOutputs(ctx context.Context, f stages.File) {
	saver, _ := ctx.Value(saverKey{}).(*stages.Saver)
	if saver == nil {
		return
	}
	for _, path := range p.made.take(f.Path) {
		rel, err := filepath.Rel(p.cfg.OutDir, path)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		if err := saver.Remove(filepath.ToSlash(rel)); err == nil {
			p.log.Info("removed output of deleted input", "input", f.Path, "output", path)
		}
	}
}
