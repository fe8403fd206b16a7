//go:build unix

package inputfile

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO is refused at once: open must not wait for a writer.
func TestOpenFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.jpg")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := Open(p, false)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("error %v, want ErrNotRegular", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
}
