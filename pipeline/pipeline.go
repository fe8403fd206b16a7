package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/clone"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/internal/save"
	"github.com/imgpipe/imgpipe/stages"
)

// Pipeline resizes images: scan → decode → resize → [steps] → encode →
// save (or sink), each stage a fixed pool of workers joined to the next by a
// channel. Build one with New; it may be Run many times, and several
// pipelines may run at once in one process: they share nothing. A Pipeline
// changes no process-wide setting.
type Pipeline struct {
	cfg       Config
	outputs   []stages.Output
	sink      Sink
	sinkCheck SinkCheck
	steps     []Step
	hook      func(Result)
	log       *slog.Logger
	budget    *semaphore.Weighted // the memory budget, shared by concurrent runs
	current   atomic.Pointer[[]*stats]
	made      outputsOf // each input's outputs, for Watch's DeleteOutputs
}

// Sink receives each input's encoded outputs instead of the save stage:
// e.Files[i] is the file for e.Targets[i] (whose Name, Format, Width and
// Height describe it). A web handler can send them in its response, a
// program can put them in object storage. It is called from Config.Save's
// workers concurrently; returning an error fails that input.
type Sink func(ctx context.Context, e *stages.Encoded) error

// Step is a caller's own per-input step, run after resize and before
// encode on every rendition of an input: a watermark, a face blur, a colour
// grade. Fn may replace r.Images[i] or change it in place. It runs on
// Workers goroutines (default 1) and may be called concurrently.
type Step struct {
	Name    string
	Workers int
	Buffer  int
	Fn      func(ctx context.Context, r *stages.Resized) error
}

// Option configures what a Config cannot: hooks and code.
type Option func(*Pipeline)

// WithSink sends encoded outputs to fn instead of writing them below
// Config.OutDir.
func WithSink(fn Sink) Option { return func(p *Pipeline) { p.sink = fn } }

// SinkCheck tells, for a Sink that keeps a record of its outputs, why the
// input f (rel, its path below its root, with slashes) must be done for
// targets: "" when every one is up to date, and the input is then skipped
// as resize skips inputs whose files are up to date. Each target's
// Settings is the hash its record must hold. An error fails the input.
type SinkCheck func(f stages.File, rel string, targets []stages.Target) (why string, err error)

// WithSinkCheck makes a run with a Sink skip inputs whose outputs fn finds
// up to date (not with Config.Force). Without it, a sink's outputs are
// always written.
func WithSinkCheck(fn SinkCheck) Option { return func(p *Pipeline) { p.sinkCheck = fn } }

// WithStep adds a custom step after resize; steps run in the order added.
func WithStep(s Step) Option { return func(p *Pipeline) { p.steps = append(p.steps, s) } }

// OnResult calls fn with each input's result as it ends. Calls come from
// one goroutine, one at a time, so fn needs no locking; a slow fn slows the
// run down.
func OnResult(fn func(Result)) Option { return func(p *Pipeline) { p.hook = fn } }

// WithLogger logs debug details (panic stacks, skipped folders) to l.
// Default: nothing is logged. The pipeline never prints.
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

// New checks cfg and returns a pipeline for it.
func New(cfg Config, opts ...Option) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg.withDefaults(), hook: func(Result) {}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(p)
	}
	p.outputs = cfg.renditions()
	for i, s := range p.steps {
		if s.Fn == nil || s.Name == "" {
			return nil, fmt.Errorf("step %d: needs a Name and a Fn", i+1)
		}
		if s.Workers <= 0 {
			p.steps[i].Workers = 1
		}
	}
	if p.sink == nil && p.cfg.OutDir == "" && !p.cfg.DryRun {
		return nil, errors.New("out_dir: an output folder is required (-o DIR)")
	}
	p.budget = semaphore.NewWeighted(int64(p.cfg.MaxMemory))
	return p, nil
}

// Config returns the configuration in force, defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Metrics returns live figures for each stage of the latest run, in
// pipeline order; nil before the first run. Safe to call at any time.
func (p *Pipeline) Metrics() []StageMetrics {
	s := p.current.Load()
	if s == nil {
		return nil
	}
	out := make([]StageMetrics, len(*s))
	for i, st := range *s {
		out[i] = st.snapshot()
	}
	return out
}

// Run processes every image src finds and returns when all are done, or
// when ctx is cancelled, or at the first failure with FailFast. Every
// goroutine it starts has ended when it returns.
//
// Per-input failures do not make Run fail: they are Results with status
// failed. Run returns an error only when the run as a whole stopped: ctx's
// error if it was cancelled, the first failure's *Error with FailFast, or
// an output folder that cannot be written (ErrOutput).
func (p *Pipeline) Run(ctx context.Context, src Source) (Summary, error) {
	start := time.Now()
	cfg := &p.cfg
	var man *manifest
	if cfg.Manifest != "" && !cfg.DryRun {
		var err error
		if man, err = loadManifest(cfg.Manifest); err != nil {
			return Summary{}, err
		}
	}
	planner := &plan.Planner{Outputs: p.outputs, Decode: cfg.Decode.DecodeOptions, OutDir: cfg.OutDir,
		Force: cfg.Force, DryRun: cfg.DryRun, CaseInsensitive: true}
	made := false // the output folder was made by this run
	// saver holds the output folder, opened once: it is what every output
	// and every deletion of watch's DeleteOutputs goes through, so the
	// folder swapped for a symlink while the run goes on changes nothing.
	var saver *save.Saver
	if p.sink != nil {
		planner.OutDir = ""
		if p.sinkCheck != nil && !cfg.DryRun {
			planner.Check = p.sinkCheck
		}
	} else if cfg.OutDir != "" {
		if !cfg.DryRun {
			_, err := os.Stat(cfg.OutDir)
			made = errors.Is(err, fs.ErrNotExist)
			if err := checkWritable(cfg.OutDir); err != nil {
				return Summary{}, err
			}
			if saver, err = save.New(save.Options{OutDir: cfg.OutDir, NoSync: cfg.Save.NoSync}); err != nil {
				if !errors.Is(err, ErrOutput) {
					err = fmt.Errorf("%w: %w", ErrOutput, err)
				}
				return Summary{}, err
			}
			defer saver.Close()
			if n := atomicfile.RemoveStale(cfg.OutDir); n > 0 {
				p.log.Info("removed temporary files left by an interrupted run", "count", n)
			}
			ctx = context.WithValue(ctx, saverKey{}, saver)
		}
		state, err := plan.LoadState(cfg.OutDir)
		if err != nil {
			p.log.Warn("cannot read the output folder's record: outputs are judged by modification times", "error", err)
		}
		planner.State = state
		planner.CaseInsensitive = caseInsensitive(cfg.OutDir)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &run{p: p, planner: planner, cancel: cancel, results: make(chan Result, 16)}
	if man != nil {
		r.manifest, r.known = man, maps.Clone(man.Images)
	}
	collected := make(chan Summary)
	go r.collect(collected)

	g, gctx := errgroup.WithContext(ctx)
	defer p.made.track(planner)() // for Watch: a removed input gives back its names

	files := source(gctx, g, r, cfg.Scan.Buffer, src)
	decoded := stage(gctx, g, r, "decode", cfg.Decode.StageConfig, files, stages.Decode(cfg.Decode.options(), planner.Plan, r.reserve))
	resized := stage(gctx, g, r, "resize", cfg.Resize, decoded, stages.Resize())
	for _, s := range p.steps {
		resized = stage(gctx, g, r, s.Name, StageConfig{s.Workers, s.Buffer}, resized, step(s.Fn))
	}
	encoded := stage(gctx, g, r, "encode", cfg.Encode, resized, encode(len(p.steps) == 0))
	var saved <-chan item[*stages.Saved]
	switch {
	case p.sink != nil:
		saved = stage(gctx, g, r, "sink", cfg.Save.StageConfig, encoded, sinkStage(p.sink))
	case saver != nil:
		saved = batchStage(gctx, g, r, "save", cfg.Save.StageConfig, encoded, saver)
	default: // a dry run: plan refuses every input
		saved = stage(gctx, g, r, "save", cfg.Save.StageConfig, encoded, dryRunSave)
	}
	g.Go(func() error { return r.finish(gctx, saved) })
	p.current.Store(&r.stats)

	err := g.Wait()
	r.releaseAll() // items abandoned in channel buffers by a cancel
	close(r.results)
	sum := <-collected
	if r.manifest != nil { // also when nothing was added: entries whose outputs went are dropped
		if merr := r.manifest.save(cfg.Manifest, cfg.OutDir); merr != nil && err == nil {
			err = merr
		}
	}
	if planner.State != nil && !cfg.DryRun {
		if err := planner.State.Close(); err != nil {
			p.log.Warn("cannot write the output folder's record: the next run redoes what it misses", "error", err)
		}
	}
	if made && sum.Total() == 0 {
		os.Remove(cfg.OutDir) // nothing found: leave no empty folder behind (Remove keeps a non-empty one)
	}
	sum.Elapsed = time.Since(start)
	sum.Stages = p.Metrics()
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = cause // cancelled by the caller, or by FailFast with the failure
	}
	return sum, err
}

// caseInsensitive probes whether the output folder's file system folds
// case; tests replace it to play a case-insensitive disk on any.
var caseInsensitive = plan.CaseInsensitive

// reserve charges n bytes to the pipeline's memory budget for the input
// whose ticket is in ctx (the engine puts it there before calling a stage
// function), waiting until they are free. The input's ticket holds the
// reservation until the input ends; the stage may give it back sooner with
// the function returned (calling it twice is harmless). An input that needs
// more than the whole budget fails at once with ErrTooLarge: waiting could
// never end (issue #18). The run keeps each
// reservation until it is released, so that releaseAll can return those of
// items a cancelled run abandoned in its channels: the budget outlives the
// run.
func (r *run) reserve(ctx context.Context, n int64) (func(), error) {
	if budget := int64(r.p.cfg.MaxMemory); n > budget {
		return nil, fmt.Errorf("%w: needs about %d MiB of memory, more than the whole memory budget of %d MiB (raise --max-memory / max_memory, or lower max_pixels)",
			ErrTooLarge, (n+1<<20-1)>>20, budget>>20)
	}
	if err := r.p.budget.Acquire(ctx, n); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		r.held = map[int64]int64{}
	}
	r.nextID++
	id := r.nextID
	r.held[id] = n
	release := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if n, ok := r.held[id]; ok {
			delete(r.held, id)
			r.p.budget.Release(n)
		}
	}
	if t, ok := ctx.Value(ticketKey{}).(*ticket); ok {
		t.releases = append(t.releases, release)
	}
	return release, nil
}

// releaseAll returns every reservation still held; Run calls it once all
// its goroutines have ended.
func (r *run) releaseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, n := range r.held {
		delete(r.held, id)
		r.p.budget.Release(n)
	}
}

// run is the state of one Run.
type run struct {
	p       *Pipeline
	planner *plan.Planner
	cancel  context.CancelCauseFunc
	results chan Result // closed by Run once every stage has ended
	stats   []*stats

	mu     sync.Mutex      // guards held and nextID
	held   map[int64]int64 // memory reservations not yet released, by id
	nextID int64

	// Config.Manifest: the manifest, updated by collect alone; the entries
	// it had when the run began, read-only; inputs emitted and not yet
	// ended (the manifest is written whenever none is left).
	manifest      *manifest
	manifestDirty bool
	known         map[string]*manifestEntry
	inFlight      atomic.Int64

	// ahead counts the inputs on their way to a batchStage: emitted by the
	// source and neither failed nor received by the batch stage yet. A
	// batch worker with nothing to receive flushes at once when none is
	// ahead (nothing would join the batch), and otherwise waits a little
	// for them (see maxBatchWait), or until none is: noneAhead.
	ahead     atomic.Int64
	aheadMu   sync.Mutex
	aheadZero chan struct{} // closed when ahead drops to 0; nil when nobody waits
}

// ticket is the engine's record of one input on its way through the
// stages: the input, the time spent on it so far, and the memory it holds.
// Only the worker that has the item touches its ticket.
type ticket struct {
	file     stages.File
	elapsed  time.Duration
	releases []func()
	ahead    bool // counted in run.ahead
}

// arrived takes t's input out of r.ahead, once: it reached the batch
// stage, or failed before it.
func (r *run) arrived(t *ticket) {
	if !t.ahead {
		return
	}
	t.ahead = false
	if r.ahead.Add(-1) == 0 {
		r.aheadMu.Lock()
		if r.aheadZero != nil {
			close(r.aheadZero)
			r.aheadZero = nil
		}
		r.aheadMu.Unlock()
	}
}

// noneAhead returns a channel closed when no input is on its way to the
// batch stage any more. Take it before looking at r.ahead, so as not to
// miss the moment in between.
func (r *run) noneAhead() <-chan struct{} {
	r.aheadMu.Lock()
	defer r.aheadMu.Unlock()
	if r.aheadZero == nil {
		r.aheadZero = make(chan struct{})
	}
	return r.aheadZero
}

// release gives back the memory the input holds; calling it again does
// nothing.
func (t *ticket) release() {
	for _, f := range t.releases {
		f()
	}
	t.releases = nil
}

// ticketKey is the context key under which a stage function call finds its
// input's ticket (for reserve).
type ticketKey struct{}

// item is what travels on the engine's channels: a stage's value and its
// input's ticket.
type item[T any] struct {
	v T
	t *ticket
}

// collect hands results to the hook and totals them until results is
// closed. With FailFast, the first failure cancels the run.
func (r *run) collect(done chan<- Summary) {
	var sum Summary
	for res := range r.results {
		sum.add(res)
		if r.p.cfg.Watch.DeleteOutputs {
			r.p.made.record(res)
		}
		r.updateManifest(res) // first: the hook of the last input of a batch sees the manifest written
		r.p.hook(res)
		if res.Status == StatusFailed && r.p.cfg.FailFast {
			r.cancel(res.Err)
		}
	}
	done <- sum
}

// updateManifest takes res's manifest entry and, when no input is in
// flight any more (a batch or a watch's burst has settled), writes the
// manifest. A write that fails is logged; Run's final write reports it.
func (r *run) updateManifest(res Result) {
	if r.manifest == nil {
		return
	}
	if res.manifest != nil {
		r.manifest.Images[res.manifestKey] = res.manifest
		r.manifestDirty = true
	}
	if res.Stage != "scan" && r.inFlight.Add(-1) == 0 && r.manifestDirty {
		if err := r.manifest.save(r.p.cfg.Manifest, r.p.cfg.OutDir); err != nil {
			r.p.log.Warn("cannot write the manifest", "error", err)
			return
		}
		r.manifestDirty = false
	}
}

// report sends a result. It never blocks for long: collect drains results
// until every stage has ended, so results are never lost, even when the
// run is cancelled.
func (r *run) report(res Result) { r.results <- res }

// fail reports the input of ticket t, whose item v failed in stage, and
// gives back its memory. It returns an error when the failure ends the run.
func (r *run) fail(stage string, v any, t *ticket, err error, took time.Duration) error {
	r.arrived(t)
	in := t.file
	res := Result{Input: in.Path, Status: StatusFailed, Stage: stage, BytesIn: in.Size, Duration: t.elapsed + took}
	var skip *plan.Skip
	switch {
	case errors.As(err, &skip):
		res.Status, res.Stage, res.Reason = StatusSkipped, "", skip.Reason
		if skip.Planned {
			res.Status = StatusPlanned
		}
		for _, o := range skip.Outputs {
			res.Outputs = append(res.Outputs, Rendition{Path: o})
		}
		if r.manifest != nil && skip.Targets != nil {
			res.manifestKey = manifestKey(in)
			res.manifest = skippedManifestEntry(skip, in.Size, r.p.cfg.OutDir, r.known[res.manifestKey])
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		t.release()
		return err // abandoned, not failed: the run is stopping
	default:
		res.Err = &Error{Stage: stage, Path: in.Path, Err: err}
	}
	if d := decodedOf(v); d != nil {
		res.Format, res.Width, res.Height = d.Format, d.Width, d.Height
	}
	res.Notes = r.planner.Notes(in.Path)
	t.release()
	r.report(res)
	if errors.Is(err, stages.ErrOutput) {
		return res.Err
	}
	return nil
}

// finish turns each saved input into an ok result.
func (r *run) finish(ctx context.Context, saved <-chan item[*stages.Saved]) error {
	for {
		select {
		case it, ok := <-saved:
			if !ok {
				return nil
			}
			s := it.v
			r.planner.Done(s.File, s.Targets, s.Paths) // the output folder's record
			res := Result{
				Input: s.File.Path, Status: StatusOK, Format: s.Format, Width: s.Width, Height: s.Height,
				Outputs: renditions(s.Decoded, s.Paths, s.Files), BytesIn: s.File.Size,
				Duration: it.t.elapsed, Notes: append(r.planner.Notes(s.File.Path), s.Notes...),
			}
			for _, o := range res.Outputs {
				res.BytesOut += o.Bytes
				if res.Placeholder == "" {
					res.Placeholder = o.Placeholder
				}
			}
			if r.manifest != nil {
				res.manifestKey, res.manifest = manifestKey(s.File), newManifestEntry(s.Decoded, res.Outputs, res.Placeholder)
			}
			it.t.release()
			r.report(res)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// decodedOf finds the decoded input behind a stage's item, if it has got
// that far.
func decodedOf(v any) *stages.Decoded {
	switch v := v.(type) {
	case *stages.Decoded:
		return v
	case *stages.Resized:
		return v.Decoded
	case *stages.Encoded:
		return v.Decoded
	case *stages.Saved:
		return v.Decoded
	}
	return nil
}

// stage starts cfg.Workers goroutines that apply fn to each item of in and
// send the results on the channel it returns, which it closes once they
// have all returned. Failed items become Results and go no further.
func stage[In, Out any](ctx context.Context, g *errgroup.Group, r *run, name string, cfg StageConfig,
	in <-chan item[In], fn func(context.Context, In) (Out, error)) <-chan item[Out] {
	out := make(chan item[Out], cfg.Buffer)
	workers := max(cfg.Workers, 1)
	st := &stats{name: name, workers: workers, buffer: cfg.Buffer, queue: func() int { return len(in) }}
	r.stats = append(r.stats, st)
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		g.Go(func() error {
			defer wg.Done()
			return work(ctx, r, st, in, out, fn)
		})
	}
	g.Go(func() error {
		wg.Wait()
		close(out)
		return nil
	})
	return out
}

// work is one worker of a stage.
func work[In, Out any](ctx context.Context, r *run, st *stats, in <-chan item[In], out chan<- item[Out],
	fn func(context.Context, In) (Out, error)) error {
	for {
		t := time.Now()
		var it item[In]
		var ok bool
		select {
		case it, ok = <-in:
		case <-ctx.Done():
			return ctx.Err()
		}
		since(t, &st.waitIn)
		if !ok {
			return nil
		}
		res, ok, err := apply(ctx, r, st, fn, it)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		t = time.Now()
		select {
		case out <- item[Out]{res, it.t}:
			st.out.Add(1)
		case <-ctx.Done():
			return ctx.Err() // res is abandoned; Run releases its memory
		}
		since(t, &st.waitOut)
	}
}

// batcher is a stage whose items end in batches: Write does an item's own
// work, Flush one costly step for a whole batch, then Commit finishes each
// item and Abort undoes the Write of one that will not be committed.
// *save.Saver is one: temporary files written, then flushed together
// (one journal commit for the batch), then renamed.
type batcher[In, P, Out any] interface {
	Write(context.Context, In) (P, error)
	Flush([]P) error
	Commit(P) (Out, error)
	Abort(P)
}

// maxBatch bounds a save worker's batch: one flush serves up to maxBatch
// inputs, whose memory stays charged until then.
const maxBatch = 64

// maxBatchWait is how long a save worker's batch may wait for more inputs
// when none is waiting to be saved but some are still on their way (being
// decoded, resized or encoded). When none is on its way (a lone file from
// watch, the end of a batch) the batch is flushed at once, so nothing
// waits for company that is not coming.
//
// Flushing as soon as nothing waited, as before, made batches of 2 on the
// thumbnails of issue #17, where save keeps up: 1,021 flushes (569 syncfs,
// 452 fsync) for 1,980 outputs, 0.78 s in them (strace -f -T): a flush
// costs about the same for 2 files as for 10. With 20 ms: 259 flushes,
// 0.16 s (10 ms: 372; 50 ms: 140, no faster).
var maxBatchWait = 20 * time.Millisecond

// batchStage is stage for a batcher: each of cfg.Workers workers keeps its
// own batch (see maxBatch), so no item waits on another worker's flush.
func batchStage[In, P, Out any](ctx context.Context, g *errgroup.Group, r *run, name string, cfg StageConfig,
	in <-chan item[In], b batcher[In, P, Out]) <-chan item[Out] {
	out := make(chan item[Out], cfg.Buffer)
	workers := max(cfg.Workers, 1)
	st := &stats{name: name, workers: workers, buffer: cfg.Buffer, queue: func() int { return len(in) }}
	r.stats = append(r.stats, st)
	limit := maxBatch
	if s, ok := any(b).(interface{ Batched() bool }); ok && !s.Batched() {
		limit = 1 // nothing to amortise
	}
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		g.Go(func() error {
			defer wg.Done()
			return batchWork(ctx, r, st, in, out, b, limit)
		})
	}
	g.Go(func() error {
		wg.Wait()
		close(out)
		return nil
	})
	return out
}

// batchWork is one worker of a batchStage.
func batchWork[In, P, Out any](ctx context.Context, r *run, st *stats, in <-chan item[In], out chan<- item[Out],
	b batcher[In, P, Out], limit int) error {
	var batch []item[P]
	defer func() { // cancelled: the batch is abandoned, its temporary files go
		for _, it := range batch {
			b.Abort(it.v)
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var first time.Time // when the batch's first item was written
	for {
		t := time.Now()
		var it item[In]
		var ok bool
		select {
		case it, ok = <-in:
		default: // nothing waiting
			if len(batch) == 0 {
				select {
				case it, ok = <-in:
				case <-ctx.Done():
					return ctx.Err()
				}
				break
			}
			wait := maxBatchWait - t.Sub(first)
			zero := r.noneAhead()
			flush := r.ahead.Load() == 0 || wait <= 0 || limit == 1
			if !flush {
				timer.Reset(wait)
				select {
				case it, ok = <-in:
				case <-timer.C:
					flush = true
				case <-zero:
					flush = true
				case <-ctx.Done():
					return ctx.Err()
				}
				timer.Stop()
			}
			if flush {
				err := flushBatch(ctx, r, st, out, b, batch)
				batch = nil
				if err != nil {
					return err
				}
				continue
			}
		}
		since(t, &st.waitIn)
		if !ok {
			done := batch
			batch = nil
			return flushBatch(ctx, r, st, out, b, done)
		}
		r.arrived(it.t)
		res, ok, err := apply(ctx, r, st, b.Write, it)
		if err != nil {
			// The run ends here (the output folder cannot take this
			// input: disk full, read-only). The batch's files are
			// written whole: flush and commit them first, so that what
			// was done before the disk filled is kept and reported.
			if ctx.Err() == nil {
				done := batch
				batch = nil
				flushBatch(ctx, r, st, out, b, done)
			}
			return err
		}
		if !ok {
			continue
		}
		if len(batch) == 0 {
			first = time.Now()
		}
		batch = append(batch, item[P]{res, it.t})
		if len(batch) >= limit {
			done := batch
			batch = nil
			if err := flushBatch(ctx, r, st, out, b, done); err != nil {
				return err
			}
		}
	}
}

// flushBatch flushes batch with one call, then commits each item and sends
// it on, or reports it failed. Every item is committed or aborted when it
// returns, whatever happens.
func flushBatch[In, P, Out any](ctx context.Context, r *run, st *stats, out chan<- item[Out],
	b batcher[In, P, Out], batch []item[P]) error {
	if len(batch) == 0 {
		return nil
	}
	t := time.Now()
	err := protect(r.p.log, func() error { return b.Flush(values(batch)) })
	took := time.Since(t)
	st.busy.Add(int64(took))
	share := took / time.Duration(len(batch))
	for i, it := range batch {
		var res Out
		cerr := err
		if cerr == nil {
			t := time.Now()
			cerr = protect(r.p.log, func() (err error) { res, err = b.Commit(it.v); return err })
			st.busy.Add(int64(time.Since(t)))
		} else {
			b.Abort(it.v)
		}
		it.t.elapsed += share
		if cerr != nil {
			st.failed.Add(1)
			if err := r.fail(st.name, it.v, it.t, cerr, 0); err != nil {
				abortAll(b, batch[i+1:])
				return err
			}
			continue
		}
		t := time.Now()
		select {
		case out <- item[Out]{res, it.t}:
			st.out.Add(1)
		case <-ctx.Done():
			abortAll(b, batch[i+1:])
			return ctx.Err()
		}
		since(t, &st.waitOut)
	}
	return nil
}

func abortAll[In, P, Out any](b batcher[In, P, Out], batch []item[P]) {
	for _, it := range batch {
		b.Abort(it.v)
	}
}

func values[T any](items []item[T]) []T {
	v := make([]T, len(items))
	for i, it := range items {
		v[i] = it.v
	}
	return v
}

// protect runs fn, turning a panic into an error wrapping ErrPanic.
func protect(log *slog.Logger, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", stages.ErrPanic, p)
			log.Debug("recovered a panic", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	return fn()
}

// apply runs fn on it, as a worker of st: it counts and times the call
// and, when fn fails, reports the input (ok false). A non-nil error ends
// the worker: the failure ends the run.
func apply[In, Out any](ctx context.Context, r *run, st *stats, fn func(context.Context, In) (Out, error),
	it item[In]) (res Out, ok bool, err error) {
	st.in.Add(1)
	t := time.Now()
	res, ferr := call(context.WithValue(ctx, ticketKey{}, it.t), r.p.log, fn, it)
	took := time.Since(t)
	st.busy.Add(int64(took))
	if ferr != nil {
		st.failed.Add(1)
		return res, false, r.fail(st.name, it.v, it.t, ferr, took)
	}
	it.t.elapsed += took
	return res, true, nil
}

// call runs fn, turning a panic into an error wrapping ErrPanic: one bad
// input must not take the batch down.
func call[In, Out any](ctx context.Context, log *slog.Logger, fn func(context.Context, In) (Out, error), it item[In]) (out Out, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", stages.ErrPanic, p)
			log.Debug("recovered a panic", "input", it.t.file.Path, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	return fn(ctx, it.v)
}

// step adapts a custom Step's function to a stage function. Renditions
// that differ only in format share one image after resize; each gets its
// own copy first, so a step that draws in place draws once on each.
func step(fn func(context.Context, *stages.Resized) error) func(context.Context, *stages.Resized) (*stages.Resized, error) {
	return func(ctx context.Context, r *stages.Resized) (*stages.Resized, error) {
		unshare(r.Images)
		return r, fn(ctx, r)
	}
}

// unshare replaces every image that is also an earlier entry of imgs by a
// copy of it.
func unshare(imgs []image.Image) {
	for i := range imgs {
		for j := range i {
			if samePointer(imgs[i], imgs[j]) {
				imgs[i] = clone.Image(imgs[i])
				break
			}
		}
	}
}

// samePointer reports whether a and b are the same pointer to an image.
func samePointer(a, b image.Image) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Pointer && vb.Kind() == reflect.Pointer && va.Type() == vb.Type() && va.Pointer() == vb.Pointer()
}

// encode is the encode stage. With recycle, each input's resized images
// go back to resize once encoded (stages.Resized.Recycle): only when no
// custom Step ran, since a step may keep a reference to an image.
func encode(recycle bool) func(context.Context, *stages.Resized) (*stages.Encoded, error) {
	enc := stages.Encode()
	if !recycle {
		return enc
	}
	return func(ctx context.Context, r *stages.Resized) (*stages.Encoded, error) {
		defer r.Recycle()
		return enc(ctx, r)
	}
}

// sinkStage adapts a Sink to a stage function.
func sinkStage(sink Sink) func(context.Context, *stages.Encoded) (*stages.Saved, error) {
	return func(ctx context.Context, e *stages.Encoded) (*stages.Saved, error) {
		if err := sink(ctx, e); err != nil {
			return nil, err
		}
		return &stages.Saved{Encoded: e}, nil
	}
}

// dryRunSave is the save stage of a dry run, which no input reaches: the
// plan ends each one as a Skip.
func dryRunSave(context.Context, *stages.Encoded) (*stages.Saved, error) {
	return nil, errors.New("dry run: nothing is written")
}

// saverKey is the context key under which a run's source finds the run's
// *save.Saver (Watch deletes outputs through it).
type saverKey struct{}

// checkWritable makes sure dir exists and a file can be created in it, so
// a run with nowhere to write fails at once, not once per input.
func checkWritable(dir string) error {
	if err := atomicfile.CheckWritable(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrOutput, err)
	}
	return nil
}
