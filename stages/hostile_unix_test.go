//go:build unix

package stages

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO named like a photo fails at once: opening it must not wait for a
// writer (issue #18.3: a worker blocked forever in open, and SIGTERM was
// ignored).
func TestDecodeFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.jpg")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	for _, link := range []bool{false, true} {
		done := make(chan error, 1)
		go func() {
			_, err := decodeOpts{}.stage()(context.Background(), File{Path: p, Rel: "x.jpg", Link: link})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("a FIFO decoded")
			}
		case <-time.After(time.Second):
			t.Fatalf("decode of a FIFO blocked") // the goroutine is left blocked: nothing to do
		}
	}
}
