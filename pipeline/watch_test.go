package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// watchPipe is a watch pipeline running in the background of a test.
type watchPipe struct {
	t       *testing.T
	in, out string // the watched folder, and the output folder inside it
	changed signal // notified on each result and each log line
	stop    func() error

	mu  sync.Mutex
	res []Result
}

// watching runs a watch pipeline on a new folder whose output folder lies
// inside it. stop cancels it and returns Run's error.
func watching(t *testing.T, cfg Config) *watchPipe {
	t.Helper()
	w := &watchPipe{t: t, in: t.TempDir()}
	w.out = filepath.Join(w.in, "out") // inside the watched folder: must never be re-processed
	cfg.OutDir = w.out
	cfg.Watch.Settle = watchSettle
	if cfg.Output.Width == 0 {
		cfg.Output.Width = 48
	}
	p, err := New(cfg, OnResult(func(r Result) {
		defer w.changed.notify()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.res = append(w.res, r)
	}), WithLogger(slog.New(slog.NewTextHandler(&watchLog{changed: &w.changed}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(ctx, p.Watch([]string{w.in}))
		done <- err
	}()
	w.stop = func() error {
		cancel()
		select {
		case err := <-done:
			done <- err // for a second stop
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *watchPipe) results() []Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.res)
}

func (w *watchPipe) String() string {
	var b strings.Builder
	for _, r := range w.results() {
		fmt.Fprintf(&b, "%s %s %v\n", r.Input, r.Status, r.Err)
	}
	return b.String()
}

// waitFor waits until cond holds, looking again after each result and
// log line.
func (w *watchPipe) waitFor(what string, cond func() bool) {
	w.t.Helper()
	waitUntil(w.t, &w.changed, what, cond, w)
}

func count(results []Result, input string, status Status) int {
	n := 0
	for _, r := range results {
		if r.Input == input && r.Status == status {
			n++
		}
	}
	return n
}

func TestWatchPipeline(t *testing.T) {
	jpg, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	w := watching(t, Config{Watch: WatchConfig{DeleteOutputs: true}})
	in, out, results := w.in, w.out, w.results

	// A file lands: exactly one output, and the output (inside the watched
	// folder) is never taken for an input.
	a := filepath.Join(in, "a.jpg")
	os.WriteFile(a, jpg, 0o644)
	w.waitFor("a.jpg processed", func() bool { return count(results(), a, StatusOK) == 1 })
	if _, err := os.Stat(filepath.Join(out, "a.jpg")); err != nil {
		t.Fatal(err)
	}

	// A truncated file fails, and succeeds once it is complete.
	b := filepath.Join(in, "b.jpg")
	os.WriteFile(b, jpg[:len(jpg)/3], 0o644)
	w.waitFor("truncated b.jpg failed", func() bool { return count(results(), b, StatusFailed) == 1 })
	time.Sleep(10 * time.Millisecond) // a later modification time than the failed version
	os.WriteFile(b, jpg, 0o644)
	w.waitFor("completed b.jpg processed", func() bool { return count(results(), b, StatusOK) == 1 })

	// Deleting an input deletes its output.
	os.Remove(a)
	w.waitFor("a's output removed", func() bool {
		_, err := os.Stat(filepath.Join(out, "a.jpg"))
		return errors.Is(err, os.ErrNotExist)
	})

	if err := w.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	for _, r := range results() {
		if filepath.Dir(r.Input) == out {
			t.Errorf("an output was processed as an input: %s", r.Input)
		}
	}
}

// Stopping in the middle of a burst leaves no temporary file, no partial
// output and no goroutine (TestMain checks goroutines).
func TestWatchShutdownMidBurst(t *testing.T) {
	jpg, _ := os.ReadFile("../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	w := watching(t, Config{Output: stages.Output{Width: 300}})
	in, out, results := w.in, w.out, w.results
	for i := range 60 {
		os.WriteFile(filepath.Join(in, "p"+string(rune('A'+i))+".jpg"), jpg, 0o644)
	}

	// Written in place with a short settle, a file seen part-written may
	// fail: wait for an output, not for any result.
	w.waitFor("the first outputs", func() bool {
		return slices.ContainsFunc(results(), func(r Result) bool { return r.Status == StatusOK })
	})
	if err := w.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	noTemp(t, out)
	entries, _ := os.ReadDir(out)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == plan.StateName })
	for _, e := range entries {
		decodeOutput(t, filepath.Join(out, e.Name()))
	}
	if len(entries) == 0 || len(entries) > 60 {
		t.Errorf("%d outputs", len(entries))
	}
}

// An input that goes gives its output names back: after Photo.jpg is
// deleted, photo.jpg is processed, not refused as a collision. With or
// without DeleteOutputs, and the caller's own OnRemove is still called.
func TestWatchReleasesNames(t *testing.T) {
	jpg, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	for _, deleteOutputs := range []bool{false, true} {
		t.Run(fmt.Sprintf("delete_outputs=%v", deleteOutputs), func(t *testing.T) {
			var mu sync.Mutex
			var removed []string
			var w *watchPipe
			cfg := Config{Watch: WatchConfig{DeleteOutputs: deleteOutputs}}
			cfg.Watch.OnRemove = func(f stages.File) {
				defer w.changed.notify()
				mu.Lock()
				defer mu.Unlock()
				removed = append(removed, f.Path)
			}
			w = watching(t, cfg)
			upper, lower := filepath.Join(w.in, "Photo.jpg"), filepath.Join(w.in, "photo.jpg")
			watchWrite(t, upper, jpg)
			w.waitFor("Photo.jpg processed", func() bool { return count(w.results(), upper, StatusOK) == 1 })

			os.Remove(upper)
			w.waitFor("OnRemove(Photo.jpg)", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return slices.Contains(removed, upper)
			})
			watchWrite(t, lower, jpg)
			w.waitFor("photo.jpg done", func() bool {
				return slices.ContainsFunc(w.results(), func(r Result) bool { return r.Input == lower })
			})
			if count(w.results(), lower, StatusOK) != 1 {
				t.Errorf("photo.jpg after Photo.jpg was deleted:\n%s", w)
			}
			_, err := os.Stat(filepath.Join(w.out, "Photo.jpg"))
			if gone := errors.Is(err, fs.ErrNotExist); gone != deleteOutputs {
				t.Errorf("Photo.jpg's output removed: %v, want %v", gone, deleteOutputs)
			}
		})
	}
}
