package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/synctest"
)

// A disk unmounted under a watched folder sends no event (fsnotify drops
// inotify's IN_UNMOUNT): the roots' check notices that the folder is now
// the empty mount point, a different folder.
func TestWatchLoopRootUnmounted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	png := watchTestdata(t, "1x1.png")
	synctest.Test(t, func(t *testing.T) {
		mnt := filepath.Join(t.TempDir(), "card")
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
			t.Skip("cannot mount a tmpfs:", err)
		}
		mounted := true
		t.Cleanup(func() {
			if mounted {
				syscall.Unmount(mnt, syscall.MNT_DETACH)
			}
		})
		l := &loopRun{t: t, root: mnt, n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
		l.oldFile("DCIM/a.png", png)
		l.start(WatchOptions{Settle: loopSettle})
		l.want("catch-up", "DCIM/a.png", 1, 0)
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Fatal("umount:", err)
		}
		mounted = false
		l.after(rootCheckEvery)
		if ended, err := l.end(); !ended || err == nil {
			t.Fatalf("watch returned %v (ended %v) after the unmount, want an error", err, ended)
		}
		if errs := l.rec.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrNoFolder) {
			t.Errorf("errors %v, want one wrapping ErrNoFolder", errs)
		}
		l.after(10 * loopSettle)
		if n := l.rec.removedCount("DCIM/a.png"); n != 0 {
			t.Errorf("OnRemove called %d times, want 0: the photos are on the card, not deleted", n)
		}
	})
}
