package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/fsnotify/fsnotify"

	"github.com/imgpipe/imgpipe/stages"
)

// report emits err for f, wrapped as "watch <path>: <cause>", once per path.
func (w *watcher) report(f stages.File, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return w.reportErr(f, fmt.Errorf("watch %s: %w", f.Path, err))
}

// reportErr emits an already wrapped error once per path: a folder we could
// not watch is also one Scan cannot read.
func (w *watcher) reportErr(f stages.File, err error) error {
	if w.reported[f.Path] {
		return nil
	}
	w.reported[f.Path] = true
	return w.emit(f, err)
}

func (w *watcher) warnOnce(key, msg string, args ...any) {
	if w.warned[key] {
		return
	}
	w.warned[key] = true
	w.log.Warn(msg, args...)
}

// limitHint says which system limit err means and how to raise it, or ""
// when err is not about a limit. inotify reports running out of watches as
// "no space left on device".
func limitHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), strings.Contains(err.Error(), "no space left on device"):
		return " of inotify watches per user (fs.inotify.max_user_watches), run:" +
			" sudo sysctl fs.inotify.max_user_watches=524288 (and add it to /etc/sysctl.conf to keep it)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), strings.Contains(err.Error(), "too many open files"):
		return " of inotify instances per user (fs.inotify.max_user_instances), run:" +
			" sudo sysctl fs.inotify.max_user_instances=1024 (and add it to /etc/sysctl.conf to keep it);" +
			" on macOS and BSD, raise the open-file limit (ulimit -n)"
	}
	return ""
}

// errQueue passes fsnotify's errors to the event loop without ever blocking
// the sender: overflows collapse into one flag, other errors are kept up to
// a bound (they are only logged).
type errQueue struct {
	mu       sync.Mutex
	errs     []error
	overflow bool
	ready    chan struct{} // capacity 1: "something to take"
}

func (q *errQueue) put(err error) {
	q.mu.Lock()
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		q.overflow = true
	} else if len(q.errs) < 100 {
		q.errs = append(q.errs, err)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *errQueue) take() ([]error, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	errs, overflow := q.errs, q.overflow
	q.errs, q.overflow = nil, false
	return errs, overflow
}
