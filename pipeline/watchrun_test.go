package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imgpipe/imgpipe/stages"
)

// The helpers of the watch tests that run on real fsnotify (watcher_test.go,
// watch_test.go); watchloop_test.go shares watchRecorder and watchLog.

// watchSettle is the Settle used by the watch tests on real fsnotify:
// short, as every test waits it a few times. Their files land whole
// (watchWrite), so how fast the test writes does not matter. What depends
// on exact waits is tested in watchloop_test.go, on the bubble's clock.
const watchSettle = 50 * time.Millisecond

// watchSettleInPlace is the Settle of the tests that write files in place
// (watchWriteInPlace): far longer than the gap between the create and the
// write of one os.WriteFile on a loaded machine, as a file seen empty at
// its deadline is emitted empty.
const watchSettleInPlace = 150 * time.Millisecond

// watchWaitLimit bounds every wait for a result; waits end as soon as the
// condition holds, so a generous limit costs nothing when all is well.
const watchWaitLimit = 20 * time.Second

// signal lets a test wait for a change without polling: notify closes the
// channel that wait handed out, and the next wait makes a new one.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// waitUntil waits until cond holds, looking again each time changed is
// notified; it fails the test after watchWaitLimit. describe says what was
// seen so far, for the failure message.
func waitUntil(t *testing.T, changed *signal, what string, cond func() bool, describe fmt.Stringer) {
	t.Helper()
	timeout := time.NewTimer(watchWaitLimit)
	defer timeout.Stop()
	for {
		next := changed.wait() // before cond: a change in between is not missed
		if cond() {
			return
		}
		select {
		case <-next:
		case <-timeout.C:
			t.Fatalf("timed out after %v waiting for %s\n%s", watchWaitLimit, what, describe)
		}
	}
}

func watchTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "watch", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// watchRecorder records what a Watch emits and removes, and notifies
// changed after each.
type watchRecorder struct {
	changed signal

	mu      sync.Mutex
	files   []stages.File
	errs    []error
	removed []stages.File
}

func (r *watchRecorder) emit(f stages.File, err error) error {
	defer r.changed.notify()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
	} else {
		r.files = append(r.files, f)
	}
	return nil
}

func (r *watchRecorder) onRemove(f stages.File) {
	defer r.changed.notify()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, f)
}

// count returns how often rel was emitted.
func (r *watchRecorder) count(rel string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.files {
		if f.Rel == rel {
			n++
		}
	}
	return n
}

// last returns the last emit of rel.
func (r *watchRecorder) last(rel string) (stages.File, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.files) - 1; i >= 0; i-- {
		if r.files[i].Rel == rel {
			return r.files[i], true
		}
	}
	return stages.File{}, false
}

func (r *watchRecorder) removedCount(rel string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.removed {
		if f.Rel == rel {
			n++
		}
	}
	return n
}

// rels lists the emitted Rels, without sentinels, for assertions and
// failure messages.
func (r *watchRecorder) rels() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var rels []string
	for _, f := range r.files {
		if !strings.HasPrefix(f.Rel, "zz-sentinel-") {
			rels = append(rels, f.Rel)
		}
	}
	return rels
}

func (r *watchRecorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

func (r *watchRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "emitted:")
	for _, f := range r.files {
		fmt.Fprintf(&b, " %s(%d)", f.Rel, f.Size)
	}
	fmt.Fprintf(&b, "\nremoved:")
	for _, f := range r.removed {
		fmt.Fprintf(&b, " %s", f.Rel)
	}
	fmt.Fprintf(&b, "\nerrors: %v", r.errs)
	return b.String()
}

// watchLog is a bytes.Buffer safe for the logger and the test to share; it
// notifies changed, if set, after each write.
type watchLog struct {
	changed *signal

	mu sync.Mutex
	b  bytes.Buffer
}

func (s *watchLog) Write(p []byte) (int, error) {
	if s.changed != nil {
		defer s.changed.notify()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *watchLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// watchRun is one Watch running in the background of a test.
type watchRun struct {
	t        *testing.T
	root     string
	rec      *watchRecorder
	log      *watchLog
	cancel   context.CancelFunc
	done     chan error
	png      []byte
	sentinel int
}

// startWatch runs Watch on root with opts (Settle defaults to watchSettle,
// OnRemove and Logger to the run's watchRecorder and buffer), emitting to
// the run's watchRecorder, or to what wrap makes of the watchRecorder's
// emit. When the test ends it cancels the run, checks that Watch returned
// context.Canceled promptly, and that no goroutine outlived it.
func startWatch(t *testing.T, root string, opts WatchOptions, wrap func(Emit) Emit) *watchRun {
	t.Helper()
	return startWatchWith(t, root, opts, wrap, newFSNotifier)
}

// startWatchWith is startWatch on the notifier newNotifier returns.
func startWatchWith(t *testing.T, root string, opts WatchOptions, wrap func(Emit) Emit, newNotifier func() (notifier, error)) *watchRun {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{t: t, root: root, rec: &watchRecorder{}, cancel: cancel,
		done: make(chan error, 1), png: watchTestdata(t, "1x1.png")}
	w.log = &watchLog{changed: &w.rec.changed}
	if opts.Settle == 0 {
		opts.Settle = watchSettle
	}
	if opts.OnRemove == nil {
		opts.OnRemove = w.rec.onRemove
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(w.log, nil))
	}
	emit := Emit(w.rec.emit)
	if wrap != nil {
		emit = wrap(emit)
	}
	go func() { w.done <- watchWith(ctx, []string{root}, opts, emit, newNotifier) }()
	t.Cleanup(func() {
		if err := w.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
		goleak.VerifyNone(t, leaks)
	})
	return w
}

// stop cancels the run and returns Watch's error; it fails the test if Watch
// does not return within a few seconds.
func (w *watchRun) stop() error {
	w.t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		w.done <- err // for a second stop
		return err
	case <-time.After(5 * time.Second):
		w.t.Fatal("Watch did not return within 5s of cancel")
		return nil
	}
}

// waitFor waits until cond, on what the run emitted, removed or logged,
// holds.
func (w *watchRun) waitFor(what string, cond func() bool) {
	w.t.Helper()
	waitUntil(w.t, &w.rec.changed, what, cond, w.rec)
}

// waitEmitted waits until every rel was emitted at least once.
func (w *watchRun) waitEmitted(rels ...string) {
	w.t.Helper()
	for _, rel := range rels {
		w.waitFor("emit of "+rel, func() bool { return w.rec.count(rel) > 0 })
	}
}

// sync writes a new image at the top of the root and waits for its emit.
// Events are handled in order and a file written in place waits the
// longest (Settle), so once it is out, every change made before sync was
// called has been handled: a file not emitted by then never will be. The
// first sync also shows that catch-up is over and the event loop runs.
func (w *watchRun) sync() {
	w.t.Helper()
	w.sentinel++
	rel := "zz-sentinel-" + strconv.Itoa(w.sentinel) + ".png"
	// In place, so it waits Settle; should it be emitted empty first, that
	// is still after every earlier change was handled.
	watchWriteInPlace(w.t, filepath.Join(w.root, rel), w.png)
	w.waitEmitted(rel)
}

// wantOnce checks that each rel was emitted exactly once.
func (w *watchRun) wantOnce(rels ...string) {
	w.t.Helper()
	for _, rel := range rels {
		if n := w.rec.count(rel); n != 1 {
			w.t.Errorf("%s emitted %d times, want 1\n%s", rel, n, w.rec)
		}
	}
}

// wantNone checks that nothing emitted matches any of the patterns (path.Match
// on Rel, or a prefix ending in "/").
func (w *watchRun) wantNone(patterns ...string) {
	w.t.Helper()
	for _, rel := range w.rec.rels() {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, rel); ok || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) {
				w.t.Errorf("%s emitted, want it never emitted (matches %q)", rel, p)
			}
		}
	}
}

// watchWrite puts data at p whole, as atomic writers and downloads do: it
// writes a temporary file beside p, named as the watch ignores, and renames
// it. Nothing sees p half written, so a test that uses it does not depend
// on how fast the writer runs; watchWriteInPlace is for the tests about
// writes in place.
func watchWrite(t *testing.T, p string, data []byte) {
	t.Helper()
	watchPut(t, p, data, time.Time{})
}

// watchWriteOld is watchWrite of a file dated an hour ago, so catch-up emits
// it at once rather than waiting Settle in case it is still being written.
func watchWriteOld(t *testing.T, p string, data []byte) {
	t.Helper()
	watchPut(t, p, data, time.Now().Add(-time.Hour))
}

func watchPut(t *testing.T, p string, data []byte, mod time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".watch-test-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !mod.IsZero() {
		err = os.Chtimes(f.Name(), mod, mod)
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		t.Fatal(err)
	}
}

// watchWriteInPlace writes data into p, creating it if need be, as a copy
// does: a watch may see p empty, then whole. A watched file written so
// waits the full Settle after its last write, and would be emitted empty
// should the writer stall longer than that between its create and its
// write: tests that write in place use Settle watchSettleInPlace.
func watchWriteInPlace(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// limitedNotifier cannot watch folders named limited-*.
type limitedNotifier struct{ notifier }

func (n limitedNotifier) Add(dir string) error {
	if strings.HasPrefix(filepath.Base(dir), "limited-") {
		return syscall.ENOSPC
	}
	return n.notifier.Add(dir)
}
