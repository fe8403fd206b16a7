package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// fakeSaver records what a batchStage does with each item.
type fakeSaver struct {
	mu        sync.Mutex
	written   map[*stages.Encoded]bool
	committed map[*stages.Encoded]int
	aborted   map[*stages.Encoded]int
	batches   []int
	flushWait time.Duration
	flushErr  error
	encode    func(i int) error // runBatch's stage before save: nil, or how item i fares
	holdOpen  bool              // runBatch's source ends only once every input has its result, as watch's
	writeErr  error             // Write fails with it from the writeFrom-th write on
	writeFrom int
	writes    int
}

func newFakeSaver() *fakeSaver {
	return &fakeSaver{written: map[*stages.Encoded]bool{}, committed: map[*stages.Encoded]int{}, aborted: map[*stages.Encoded]int{}}
}

func (f *fakeSaver) Write(_ context.Context, e *stages.Encoded) (*stages.Encoded, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writes++; f.writeErr != nil && f.writes >= f.writeFrom {
		return nil, f.writeErr
	}
	f.written[e] = true
	return e, nil
}

func (f *fakeSaver) Flush(b []*stages.Encoded) error {
	time.Sleep(f.flushWait)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(b))
	return f.flushErr
}

func (f *fakeSaver) Commit(e *stages.Encoded) (*stages.Saved, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed[e]++
	return &stages.Saved{Encoded: e}, nil
}

func (f *fakeSaver) Abort(e *stages.Encoded) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aborted[e]++
}

// runBatch feeds n items through a batchStage of 2 workers behind a queue of
// buffer, cancelling after cancelAfter results (0: never), and returns the
// run's error and the results counted.
func runBatch(t *testing.T, f *fakeSaver, n, buffer, cancelAfter int) (error, Summary) {
	t.Helper()
	p, err := New(Config{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	seen := 0
	allSeen := make(chan struct{})
	p.hook = func(Result) {
		if seen++; seen == cancelAfter {
			cancel(context.Canceled)
		}
		if seen == n {
			close(allSeen)
		}
	}
	r := &run{p: p, planner: &plan.Planner{}, cancel: cancel, results: make(chan Result, 16)}
	collected := make(chan Summary)
	go r.collect(collected)
	g, gctx := errgroup.WithContext(ctx)
	src := func(ctx context.Context, emit Emit) error {
		for range n {
			if err := emit(stages.File{Path: "in"}, nil); err != nil {
				return err
			}
		}
		if f.holdOpen {
			select {
			case <-allSeen:
			case <-ctx.Done():
			}
		}
		return nil
	}
	files := source(gctx, g, r, 0, src)
	var seq atomic.Int64
	encoded := stage(gctx, g, r, "encode", StageConfig{Workers: 2, Buffer: buffer}, files,
		func(_ context.Context, in stages.File) (*stages.Encoded, error) {
			if f.encode != nil {
				if err := f.encode(int(seq.Add(1))); err != nil {
					return nil, err
				}
			}
			return &stages.Encoded{Decoded: &stages.Decoded{File: in}}, nil
		})
	saved := batchStage(gctx, g, r, "save", StageConfig{Workers: 2}, encoded, f)
	g.Go(func() error { return r.finish(gctx, saved) })
	err = g.Wait()
	close(r.results)
	return err, <-collected
}

func TestBatchStage(t *testing.T) {
	t.Run("backlog makes batches", func(t *testing.T) {
		f := newFakeSaver()
		f.flushWait = 2 * time.Millisecond
		err, sum := runBatch(t, f, 200, 32, 0)
		if err != nil || sum.OK != 200 {
			t.Fatalf("%+v %v", sum, err)
		}
		if len(f.batches) >= 200 {
			t.Errorf("%d flushes for 200 items behind a queue of 32: no batching", len(f.batches))
		}
		for e := range f.written {
			if f.committed[e] != 1 || f.aborted[e] != 0 {
				t.Fatalf("item committed %d times, aborted %d", f.committed[e], f.aborted[e])
			}
		}
	})
	t.Run("inputs on their way join the batch", func(t *testing.T) {
		// Save keeps up with a slow stage before it: without waiting for
		// the inputs still on their way, every flush would serve one.
		f := newFakeSaver()
		f.encode = func(int) error { time.Sleep(time.Millisecond); return nil }
		err, sum := runBatch(t, f, 100, 0, 0)
		if err != nil || sum.OK != 100 {
			t.Fatalf("%+v %v", sum, err)
		}
		if len(f.batches) > 50 {
			t.Errorf("%d flushes for 100 inputs arriving one at a time: the batches did not wait for them", len(f.batches))
		}
	})
	t.Run("nothing waits for company that is not coming", func(t *testing.T) {
		// With a batch that could wait an hour and a source that stays open
		// until every input has its result (as watch's does), the run ends
		// only if a worker flushes once no input is on its way: a lone
		// input, and inputs whose followers failed before save.
		defer func(w time.Duration) { maxBatchWait = w }(maxBatchWait)
		maxBatchWait = time.Hour
		for _, n := range []int{1, 2, 7} {
			f := newFakeSaver()
			f.holdOpen = true
			f.encode = func(i int) error {
				if i > 1 {
					time.Sleep(time.Millisecond) // let the first reach save alone
					return errors.New("broken")
				}
				return nil
			}
			done := make(chan Summary, 1)
			go func() { _, sum := runBatch(t, f, n, 0, 0); done <- sum }()
			select {
			case sum := <-done:
				if sum.OK != 1 || sum.Failed != n-1 {
					t.Fatalf("%d inputs: %+v", n, sum)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%d inputs: the batch is still waiting for inputs that failed", n)
			}
		}
	})
	t.Run("a full disk keeps what the batch holds", func(t *testing.T) {
		// The 6th write finds the disk full, which ends the run; the five
		// before it, waiting in batches for inputs on their way, are
		// complete files: they are flushed and committed, not dropped.
		// (The other worker's batch may still be cut short by the end of
		// the run: then aborted, never half done.)
		f := newFakeSaver()
		f.writeErr, f.writeFrom = fmt.Errorf("%w: no space left on device", stages.ErrOutput), 6
		f.encode = func(i int) error {
			if i > 5 {
				time.Sleep(time.Millisecond) // the first five reach save while more are on their way
			}
			return nil
		}
		err, sum := runBatch(t, f, 40, 0, 0)
		if !errors.Is(err, stages.ErrOutput) {
			t.Fatalf("err %v, want the output error", err)
		}
		committed := 0
		for e := range f.written {
			if f.committed[e]+f.aborted[e] != 1 {
				t.Fatalf("item committed %d times, aborted %d", f.committed[e], f.aborted[e])
			}
			committed += f.committed[e]
		}
		if sum.OK == 0 || sum.OK > committed {
			t.Fatalf("%d ok of %d written, %d committed: the batch was dropped", sum.OK, len(f.written), committed)
		}
	})
	t.Run("buffers at 0", func(t *testing.T) {
		f := newFakeSaver()
		err, sum := runBatch(t, f, 50, 0, 0)
		if err != nil || sum.OK != 50 {
			t.Fatalf("%+v %v", sum, err)
		}
	})
	t.Run("flush error fails the batch", func(t *testing.T) {
		f := newFakeSaver()
		f.flushErr = errors.New("disk on fire")
		err, sum := runBatch(t, f, 20, 4, 0)
		if err != nil || sum.Failed != 20 {
			t.Fatalf("%+v %v", sum, err)
		}
		for e := range f.written {
			if f.committed[e] != 0 || f.aborted[e] != 1 {
				t.Fatalf("item committed %d times, aborted %d", f.committed[e], f.aborted[e])
			}
		}
	})
	t.Run("cancel leaves nothing half-done", func(t *testing.T) {
		f := newFakeSaver()
		f.flushWait = time.Millisecond
		err, _ := runBatch(t, f, 500, 32, 10)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		for e := range f.written {
			if f.committed[e]+f.aborted[e] != 1 {
				t.Fatalf("item committed %d times, aborted %d", f.committed[e], f.aborted[e])
			}
		}
	})
}
