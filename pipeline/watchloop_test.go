package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/imgpipe/imgpipe/stages"
)

// The tests in this file run the event loop inside a testing/synctest
// bubble, on a real folder, with a fake notifier: the test changes the
// folder, then sends the event fsnotify would. The bubble's clock moves only
// when every goroutine waits, so the waits are exact and take no time.

// fakeNotifier is a notifier whose events and errors the test sends.
type fakeNotifier struct {
	events chan fsnotify.Event
	errs   chan error
	once   sync.Once

	mu      sync.Mutex
	watched map[string]bool
}

func newFakeNotifier() *fakeNotifier {
	return &fakeNotifier{events: make(chan fsnotify.Event, 64), errs: make(chan error, 8), watched: map[string]bool{}}
}

func (n *fakeNotifier) Add(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.watched[dir] = true
	return nil
}

func (n *fakeNotifier) Remove(dir string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.watched, dir)
	return nil
}

func (n *fakeNotifier) Events() <-chan fsnotify.Event { return n.events }
func (n *fakeNotifier) Errors() <-chan error          { return n.errs }

func (n *fakeNotifier) Close() error {
	n.once.Do(func() {
		close(n.events)
		close(n.errs)
	})
	return nil
}

// loopRun is one watch running in a bubble on a fake notifier.
type loopRun struct {
	t    *testing.T
	root string
	more []string // other roots
	n    *fakeNotifier
	rec  *watchRecorder
	log  *watchLog
	wrap func(Emit) Emit // if set, what emit becomes

	done  chan error // the watch's return, once
	ended bool       // the test took it (ended)
}

// startLoop runs watchWith on root in the calling test's bubble and waits
// until catch-up is over. When the test ends it cancels the watch and
// checks that it returned context.Canceled; synctest.Test checks that no
// goroutine is left.
func startLoop(t *testing.T, opts WatchOptions) *loopRun {
	t.Helper()
	l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
	return l.start(opts)
}

func (l *loopRun) start(opts WatchOptions) *loopRun {
	l.t.Helper()
	opts.OnRemove = l.rec.onRemove
	opts.Logger = slog.New(slog.NewTextHandler(l.log, nil))
	emit := Emit(l.rec.emit)
	if l.wrap != nil {
		emit = l.wrap(emit)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.done = make(chan error, 1)
	go func() {
		roots := append([]string{l.root}, l.more...)
		l.done <- watchWith(ctx, roots, opts, emit, func() (notifier, error) { return l.n, nil })
	}()
	l.t.Cleanup(func() {
		cancel()
		if l.ended {
			return
		}
		if err := <-l.done; !errors.Is(err, context.Canceled) {
			l.t.Errorf("watch returned %v, want context.Canceled", err)
		}
	})
	synctest.Wait()
	return l
}

// end reports whether the watch has returned by itself, and its error.
func (l *loopRun) end() (ended bool, err error) {
	synctest.Wait()
	select {
	case err := <-l.done:
		l.ended = true
		return true, err
	default:
		return false, nil
	}
}

// send hands the loop the event fsnotify would send for rel, and waits
// until the loop has handled it.
func (l *loopRun) send(op fsnotify.Op, rel string) {
	l.n.events <- fsnotify.Event{Name: filepath.Join(l.root, rel), Op: op}
	synctest.Wait()
}

// write writes rel in place, as a copy does, with the events it makes:
// Create if it is new, then Write.
func (l *loopRun) write(rel string, data []byte) {
	l.t.Helper()
	p := filepath.Join(l.root, rel)
	_, err := os.Stat(p)
	isNew := err != nil
	watchWriteInPlace(l.t, p, data)
	if isNew {
		l.send(fsnotify.Create, rel)
	}
	l.send(fsnotify.Write, rel)
}

// renameIn writes rel whole elsewhere and renames it in, as atomic writers
// and downloads do.
func (l *loopRun) renameIn(rel string, data []byte) {
	l.t.Helper()
	tmp := filepath.Join(l.t.TempDir(), "tmp")
	watchWriteInPlace(l.t, tmp, data)
	if err := os.Rename(tmp, filepath.Join(l.root, rel)); err != nil {
		l.t.Fatal(err)
	}
	l.send(fsnotify.Create, rel)
}

// after lets d pass on the bubble's clock, and the loop act on it.
func (l *loopRun) after(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// want checks how often rel was emitted and removed so far.
func (l *loopRun) want(when, rel string, emitted, removed int) {
	l.t.Helper()
	if n, r := l.rec.count(rel), l.rec.removedCount(rel); n != emitted || r != removed {
		l.t.Errorf("%s: %s emitted %d and removed %d times, want %d and %d\n%s", when, rel, n, r, emitted, removed, l.rec)
	}
}

// oldFile writes rel dated an hour before the bubble's now, so catch-up
// takes it as complete.
func (l *loopRun) oldFile(rel string, data []byte) {
	l.t.Helper()
	p := filepath.Join(l.root, rel)
	watchWriteInPlace(l.t, p, data)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		l.t.Fatal(err)
	}
}

const loopSettle = 300 * time.Millisecond // short wait: 30ms

func TestWatchLoopSlowWrite(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	data := append(slices.Clone(jpg), make([]byte, 200_000)...) // trailing bytes after EOI are harmless
	synctest.Test(t, func(t *testing.T) {
		l := startLoop(t, WatchOptions{Settle: loopSettle})
		const chunks, gap = 20, loopSettle - time.Millisecond // each write just in time
		p := filepath.Join(l.root, "big.jpg")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		l.send(fsnotify.Create, "big.jpg")
		step := (len(data) + chunks - 1) / chunks
		for i := 0; i < len(data); i += step {
			l.after(gap)
			if _, err := f.Write(data[i:min(i+step, len(data))]); err != nil {
				t.Fatal(err)
			}
			l.send(fsnotify.Write, "big.jpg")
			l.want("during the copy", "big.jpg", 0, 0)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		l.after(loopSettle - 1)
		l.want("just before Settle", "big.jpg", 0, 0)
		l.after(1)
		l.want("at Settle", "big.jpg", 1, 0)
		if got, _ := l.rec.last("big.jpg"); got.Size != int64(len(data)) || got.Format != "jpeg" {
			t.Errorf("emitted Size %d Format %q, want %d jpeg", got.Size, got.Format, len(data))
		}
	})
}

func TestWatchLoopAppearsWhole(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	short := loopSettle / 10
	t.Run("short wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := startLoop(t, WatchOptions{Settle: loopSettle})
			l.renameIn("x.jpg", jpg)
			l.after(short - 1)
			l.want("before the short wait", "x.jpg", 0, 0)
			l.after(1)
			l.want("after the short wait", "x.jpg", 1, 0)
		})
	})
	t.Run("then written: the full wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := startLoop(t, WatchOptions{Settle: loopSettle})
			l.renameIn("x.jpg", jpg)
			l.after(short / 2)
			l.write("x.jpg", append(slices.Clone(jpg), 0))
			l.after(loopSettle - 1)
			l.want("before Settle after the write", "x.jpg", 0, 0)
			l.after(1)
			l.want("at Settle after the write", "x.jpg", 1, 0)
		})
	})
	// The loop is busy (emit blocked) past x's short deadline while x is
	// written: the write, taken late, still cuts the short wait.
	t.Run("written while the loop was busy", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			gate := make(chan struct{})
			l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
			l.wrap = func(emit Emit) Emit {
				return func(f stages.File, err error) error {
					if f.Rel == "y.jpg" {
						<-gate
					}
					return emit(f, err)
				}
			}
			l.start(WatchOptions{Settle: loopSettle})
			l.renameIn("y.jpg", jpg)
			l.after(short / 2)
			l.renameIn("x.jpg", jpg)
			l.after(short) // y is due, and its emit blocks; x is due now too
			l.write("x.jpg", append(slices.Clone(jpg), 0))
			close(gate)
			synctest.Wait()
			l.want("after the loop took the write", "x.jpg", 0, 0)
			l.after(loopSettle)
			l.want("a Settle after the write", "x.jpg", 1, 0)
			if f, _ := l.rec.last("x.jpg"); f.Size != int64(len(jpg)+1) {
				t.Errorf("emitted Size %d, want %d", f.Size, len(jpg)+1)
			}
		})
	})
}

func TestWatchLoopChangedWithoutEvent(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	synctest.Test(t, func(t *testing.T) {
		l := startLoop(t, WatchOptions{Settle: loopSettle})
		l.write("a.jpg", jpg)
		l.after(loopSettle / 2)
		watchWriteInPlace(t, filepath.Join(l.root, "a.jpg"), append(slices.Clone(jpg), 0, 0)) // no event
		l.after(loopSettle / 2)
		l.want("at the first deadline", "a.jpg", 0, 0)
		l.after(loopSettle - 1)
		l.want("before the second", "a.jpg", 0, 0)
		l.after(1)
		l.want("at the second", "a.jpg", 1, 0)
		if f, _ := l.rec.last("a.jpg"); f.Size != int64(len(jpg)+2) {
			t.Errorf("emitted Size %d, want %d", f.Size, len(jpg)+2)
		}
	})
}

func TestWatchLoopRemove(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	synctest.Test(t, func(t *testing.T) {
		l := startLoop(t, WatchOptions{Settle: loopSettle})
		p := filepath.Join(l.root, "a.jpg")
		l.write("a.jpg", jpg)
		l.after(loopSettle)
		l.want("written", "a.jpg", 1, 0)

		// Renamed away and back within the Settle: not a removal, and
		// not emitted again (same size and time).
		away := filepath.Join(t.TempDir(), "a.jpg")
		if err := os.Rename(p, away); err != nil {
			t.Fatal(err)
		}
		l.send(fsnotify.Rename, "a.jpg")
		l.after(loopSettle / 2)
		if err := os.Rename(away, p); err != nil {
			t.Fatal(err)
		}
		l.send(fsnotify.Create, "a.jpg")
		l.after(2 * loopSettle)
		l.want("renamed away and back", "a.jpg", 1, 0)

		// Deleted: removed a Settle later, once.
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		l.send(fsnotify.Remove, "a.jpg")
		l.after(loopSettle - 1)
		l.want("before Settle after the delete", "a.jpg", 1, 0)
		l.after(1)
		l.want("at Settle after the delete", "a.jpg", 1, 1)
		l.after(10 * loopSettle)
		l.want("long after", "a.jpg", 1, 1)
	})
}

// An overflow means events were lost: every root is scanned again, images
// found are emitted again (the pipeline skips up-to-date outputs), new ones
// too, and those not found are removals.
func TestWatchLoopOverflow(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	synctest.Test(t, func(t *testing.T) {
		l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
		l.oldFile("a.png", png)
		l.oldFile("b.png", png)
		l.start(WatchOptions{Settle: loopSettle})
		l.want("catch-up", "a.png", 1, 0)
		l.want("catch-up", "b.png", 1, 0)

		// Unheard of: c.png arrives, b.png goes.
		l.oldFile("sub/c.png", png)
		if err := os.Remove(filepath.Join(l.root, "b.png")); err != nil {
			t.Fatal(err)
		}
		l.n.errs <- errors.New("something else")
		l.n.errs <- fsnotify.ErrEventOverflow
		synctest.Wait()
		if log := l.log.String(); !strings.Contains(log, "rescanning") || !strings.Contains(log, "something else") {
			t.Errorf("log lacks the overflow warning or the other error:\n%s", log)
		}
		l.want("rescan", "a.png", 2, 0)
		l.want("rescan", "sub/c.png", 1, 0)
		l.want("rescan", "b.png", 1, 0)
		l.after(loopSettle)
		l.want("a Settle after the rescan", "b.png", 1, 1)
		// The folder found in the rescan is watched.
		l.n.mu.Lock()
		watched := l.n.watched[filepath.Join(l.root, "sub")]
		l.n.mu.Unlock()
		if !watched {
			t.Error("sub, found in the rescan, is not watched")
		}
	})
}

// A catch-up file modified less than Settle ago may still be being
// written: it waits the full Settle, from the start.
func TestWatchLoopCatchUpRecent(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	synctest.Test(t, func(t *testing.T) {
		l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
		p := filepath.Join(l.root, "recent.png")
		watchWriteInPlace(t, p, png)
		now := time.Now()
		if err := os.Chtimes(p, now, now); err != nil {
			t.Fatal(err)
		}
		l.start(WatchOptions{Settle: loopSettle})
		l.want("at start", "recent.png", 0, 0)
		l.after(loopSettle - 1)
		l.want("before Settle", "recent.png", 0, 0)
		l.after(1)
		l.want("at Settle", "recent.png", 1, 0)
	})
}

// A watched folder that goes is reported, and not taken as its images
// being deleted; the watch ends when no folder is left.
func TestWatchLoopRootGone(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	// gone checks that root was reported once, as gone, and that its image
	// was not taken as removed, a while later.
	gone := func(l *loopRun, root string) {
		t := l.t
		t.Helper()
		l.after(10 * loopSettle)
		errs := l.rec.errors()
		want := "no folder to watch: gone (deleted, moved away or unmounted), no longer watched"
		if len(errs) != 1 || !errors.Is(errs[0], ErrNoFolder) || errs[0].Error() != want {
			t.Errorf("errors %v, want one: %s", errs, want)
		}
		if n := l.rec.removedCount("a.png"); n != 0 {
			t.Errorf("OnRemove(a.png) called %d times, want 0: the folder went, not its photos", n)
		}
	}
	t.Run("deleted, the only one", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
			l.oldFile("a.png", png)
			l.start(WatchOptions{Settle: loopSettle})
			l.want("catch-up", "a.png", 1, 0)
			if err := os.RemoveAll(l.root); err != nil {
				t.Fatal(err)
			}
			l.send(fsnotify.Remove, "a.png") // as inotify does: the files, then the folder
			l.send(fsnotify.Remove, "")
			ended, err := l.end()
			if want := "watch: no folder left to watch: " + l.root + " is gone"; !ended || err == nil || err.Error() != want {
				t.Errorf("watch returned %v (ended %v), want %q", err, ended, want)
			}
			if errors.Is(err, ErrNoFolder) {
				t.Errorf("%v: a folder gone later is not ErrNoFolder, which means \"never started\"", err)
			}
			gone(l, l.root)
		})
	})
	t.Run("moved away, one of two", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			other := t.TempDir()
			l := &loopRun{t: t, root: t.TempDir(), more: []string{other}, n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
			l.oldFile("a.png", png)
			l.start(WatchOptions{Settle: loopSettle})
			if err := os.Rename(l.root, l.root+"-away"); err != nil {
				t.Fatal(err)
			}
			l.send(fsnotify.Rename, "")
			if ended, err := l.end(); ended {
				t.Fatalf("watch returned %v with a folder still watched", err)
			}
			gone(l, l.root)
			// The other folder is still watched.
			watchWriteInPlace(t, filepath.Join(other, "b.png"), png)
			l.n.events <- fsnotify.Event{Name: filepath.Join(other, "b.png"), Op: fsnotify.Create}
			l.after(loopSettle)
			l.want("in the other folder", "b.png", 1, 0)
		})
	})
	t.Run("replaced without an event, as by an unmount", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := &loopRun{t: t, root: t.TempDir(), n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
			l.oldFile("a.png", png)
			l.start(WatchOptions{Settle: loopSettle})
			// The mount point is left, empty: another folder by the same name.
			if err := os.Rename(l.root, l.root+"-disk"); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(l.root, 0o755); err != nil {
				t.Fatal(err)
			}
			l.after(rootCheckEvery - 1)
			if ended, err := l.end(); ended {
				t.Fatalf("watch returned %v before the roots' check", err)
			}
			l.after(1)
			if ended, err := l.end(); !ended || err == nil {
				t.Fatalf("watch returned %v (ended %v) at the roots' check, want an error", err, ended)
			}
			gone(l, l.root)
		})
	})
}
