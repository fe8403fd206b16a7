//go:build unix

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// Inputs swapped after the scan saw them, for a FIFO or a link to
// /dev/zero, fail at once: no worker blocks in open() and no memory grows
// (issue #18.3); the photo among them still comes out, and a cancelled run
// returns promptly (SIGTERM works).
func TestRunInputsSwappedAfterScan(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg")
	photo := filepath.Join(in, "photos", "camera_Nikon_P6000_GPS.jpg")
	var swapped []string
	for i := range 3 {
		p := filepath.Join(in, "fifo"+string(rune('a'+i))+".jpg")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip(err)
		}
		swapped = append(swapped, p)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		p := filepath.Join(in, "zero.jpg")
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Fatal(err)
		}
		swapped = append(swapped, p)
	}
	// What a scan emitted before the swap: regular files, not links.
	src := func(ctx context.Context, emit Emit) error {
		for _, p := range append(swapped, photo) {
			if err := emit(stages.File{Path: p, Rel: filepath.Base(p), Size: 1000}, nil); err != nil {
				return err
			}
		}
		return nil
	}
	for _, cancelEarly := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := New(Config{OutDir: out, Force: true, Output: stages.Output{Width: 64},
			Decode: DecodeConfig{StageConfig: StageConfig{Workers: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if cancelEarly {
			time.AfterFunc(10*time.Millisecond, cancel)
		}
		done := make(chan struct{})
		var sum Summary
		go func() {
			defer close(done)
			sum, err = p.Run(ctx, src)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Run blocked on swapped inputs (cancelled: %v)", cancelEarly)
		}
		cancel()
		if !cancelEarly && (err != nil || sum.OK != 1 || sum.Failed != len(swapped)) {
			t.Errorf("summary %+v, err %v; want the photo done and %d failed", sum, err, len(swapped))
		}
	}
}
