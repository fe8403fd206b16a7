package pipeline

import "github.com/fsnotify/fsnotify"

// notifier is what the watcher uses of fsnotify: a watch per folder, and
// the events and errors they produce. The event loop only ever talks to
// this interface, so that tests can play events from a fake one inside a
// testing/synctest bubble, whose clock (time.Now and the loop's timer) moves
// only when every goroutine in it waits: fsnotify's reader, blocked in a
// read from the kernel, would stop it.
type notifier interface {
	Add(dir string) error
	Remove(dir string) error
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	// Close stops the notifier; its Errors channel is closed once it has
	// stopped sending.
	Close() error
}

// newFSNotifier returns the notifier of the system: inotify on Linux,
// kqueue on BSD and macOS, ReadDirectoryChangesW on Windows.
func newFSNotifier() (notifier, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return fsNotifier{fw}, nil
}

type fsNotifier struct{ w *fsnotify.Watcher }

func (n fsNotifier) Add(dir string) error          { return n.w.Add(dir) }
func (n fsNotifier) Remove(dir string) error       { return n.w.Remove(dir) }
func (n fsNotifier) Events() <-chan fsnotify.Event { return n.w.Events }
func (n fsNotifier) Errors() <-chan error          { return n.w.Errors }
func (n fsNotifier) Close() error                  { return n.w.Close() }
