package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// watching runs a watch pipeline on a new folder whose output folder lies
// inside it, and returns the folder, the output folder, a function listing
// results so far, and a stop function that returns Run's error.
func watching(t *testing.T, cfg Config) (string, string, func() []Result, func() error) {
	t.Helper()
	in := t.TempDir()
	out := filepath.Join(in, "out") // inside the watched folder: must never be re-processed
	cfg.OutDir = out
	cfg.Watch.Settle = 150 * time.Millisecond
	if cfg.Output.Width == 0 {
		cfg.Output.Width = 48
	}
	var mu sync.Mutex
	var results []Result
	p, err := New(cfg, OnResult(func(r Result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(ctx, p.Watch([]string{in}))
		done <- err
	}()
	list := func() []Result {
		mu.Lock()
		defer mu.Unlock()
		return append([]Result(nil), results...)
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return in, out, list, stop
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
	in, out, results, stop := watching(t, Config{Watch: WatchConfig{DeleteOutputs: true}})

	// A file lands: exactly one output, and the output (inside the watched
	// folder) is never taken for an input.
	a := filepath.Join(in, "a.jpg")
	os.WriteFile(a, jpg, 0o644)
	waitFor(t, "a.jpg processed", func() bool { return count(results(), a, StatusOK) == 1 })
	if _, err := os.Stat(filepath.Join(out, "a.jpg")); err != nil {
		t.Fatal(err)
	}

	// A truncated file fails, and succeeds once it is complete.
	b := filepath.Join(in, "b.jpg")
	os.WriteFile(b, jpg[:len(jpg)/3], 0o644)
	waitFor(t, "truncated b.jpg failed", func() bool { return count(results(), b, StatusFailed) == 1 })
	time.Sleep(10 * time.Millisecond) // a later modification time than the failed version
	os.WriteFile(b, jpg, 0o644)
	waitFor(t, "completed b.jpg processed", func() bool { return count(results(), b, StatusOK) == 1 })

	// Deleting an input deletes its output.
	os.Remove(a)
	waitFor(t, "a's output removed", func() bool {
		_, err := os.Stat(filepath.Join(out, "a.jpg"))
		return errors.Is(err, os.ErrNotExist)
	})

	if err := stop(); !errors.Is(err, context.Canceled) {
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
	in, out, results, stop := watching(t, Config{Output: stages.Output{Width: 300}})
	for i := range 60 {
		os.WriteFile(filepath.Join(in, "p"+string(rune('A'+i))+".jpg"), jpg, 0o644)
	}
	waitFor(t, "the first outputs", func() bool { return len(results()) > 0 })
	if err := stop(); !errors.Is(err, context.Canceled) {
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
