package pipeline

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/internal/save"
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
// root. An input deleted or moved away gives back its output names (another
// input may take them); with Config.Watch.DeleteOutputs, its outputs that
// this pipeline made (or found up to date) are deleted too.
//
// Every root must be a folder: if one is missing or is a file, the source
// returns at once an error wrapping ErrNoFolder. A root that goes later
// (deleted, moved away, unmounted) is a failed result wrapping ErrNoFolder;
// when none is left, the source returns an error.
func (p *Pipeline) Watch(roots []string) Source {
	opts := p.cfg.Watch.WatchOptions
	opts.Scan = p.cfg.Scan.ScanOptions
	if p.cfg.OutDir != "" {
		opts.Scan.Exclude = append(append([]string(nil), opts.Scan.Exclude...), p.cfg.OutDir)
	}
	if opts.Logger == nil {
		opts.Logger = p.log
	}
	hook := opts.OnRemove
	return func(ctx context.Context, emit Emit) error {
		opts := opts
		opts.OnRemove = func(f stages.File) {
			p.removed(ctx, f)
			if hook != nil {
				hook(f)
			}
		}
		return watchTree(ctx, roots, opts, emit)
	}
}

// outputsOf remembers, for Watch's removals, each input's output files
// (for DeleteOutputs) and the planners of the runs in progress, which hold
// the output names each input claimed.
type outputsOf struct {
	mu       sync.Mutex
	paths    map[string][]string
	planners map[*plan.Planner]bool
}

// track adds a run's planner, until the returned function is called.
func (o *outputsOf) track(pl *plan.Planner) (untrack func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.planners == nil {
		o.planners = map[*plan.Planner]bool{}
	}
	o.planners[pl] = true
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		delete(o.planners, pl)
	}
}

// release gives back the output names input claimed, in every run in
// progress: the one the watch feeds, and any other run of this Pipeline
// at the same time, where the input, gone, can no longer be planned.
func (o *outputsOf) release(input string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for pl := range o.planners {
		pl.Release(input)
	}
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

// removed is what Watch does when an input it emitted is deleted or moved
// away: it gives back the input's output names, and with DeleteOutputs
// deletes its outputs.
func (p *Pipeline) removed(ctx context.Context, f stages.File) {
	p.log.Debug("input removed", "input", f.Path)
	p.made.release(f.Path)
	if p.cfg.Watch.DeleteOutputs {
		p.removeOutputs(ctx, f)
	}
}

// removeOutputs deletes the outputs recorded for a removed input, through
// the output folder the run opened (ctx carries it): only files inside it
// are ever removed, even if the folder was swapped for a symlink since.
func (p *Pipeline) removeOutputs(ctx context.Context, f stages.File) {
	saver, _ := ctx.Value(saverKey{}).(*save.Saver)
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
