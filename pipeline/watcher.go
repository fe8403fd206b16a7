package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/imgpipe/imgpipe/stages"
)

// WatchOptions controls Watch. Zero values mean the defaults.
type WatchOptions struct {
	// Settle is the quiet time after the last change to a file before it is
	// emitted; default 1s. Copies and downloads write in many small steps
	// with pauses between them, and nothing portable says "closed for
	// writing", so a file counts as complete once it has been left alone
	// this long.
	//
	// A file that appears already full (renamed or linked in, the atomic
	// write pattern: write "x.tmp", rename to "x.jpg") waits only
	// min(Settle/10, 50ms); any write to it switches it back to Settle.
	Settle time.Duration `yaml:"settle"`
	// Scan sets Hidden, FollowSymlinks and Exclude as for Scan. Exclude
	// holds the output folder(s): nothing below them is watched or emitted,
	// even when they lie inside a watched root or do not exist yet.
	Scan ScanOptions `yaml:"-"`
	// Ignore lists extra base-name glob patterns (filepath.Match syntax) of
	// files and folders to ignore, on top of the built-in temporary and
	// partial names: dotfiles (unless Scan.Hidden), "._*", "*.part",
	// "*.crdownload", "*.tmp", "*~" and "*.swp".
	Ignore []string `yaml:"ignore"`
	// Logger receives warnings: watch limits reached, event overflows and
	// the rescans they cause. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
	// OnRemove is called, from Watch's goroutine, once for each emitted
	// image that is deleted or renamed away (a whole folder at a time
	// included), a Settle after it went and only if it has not come back by
	// then, so an editor's save-by-rename is not a removal (nor is a
	// watched folder that goes: see Pipeline.Watch). Pipeline.Watch uses it
	// to give back the input's output names and for DeleteOutputs, then
	// calls the caller's own. Nil means no-op.
	OnRemove func(stages.File) `yaml:"-"`
}

// defaultSettle is WatchOptions.Settle's default: long enough to bridge the
// pauses of a copy from a camera card or a network share, short enough that
// a photo saved into the folder shows up resized almost at once.
const defaultSettle = time.Second

// watchTree emits every image already under roots (catch-up: exactly like Scan,
// with Rel relative to its root), then every image that is created, renamed
// in, or modified, once it has settled, until ctx is done; then it returns
// ctx.Err(). If emit returns an error, Watch returns that error.
//
// Every root must be a folder: if one is missing or is a file, watchTree
// returns at once an error wrapping ErrNoFolder for each, having watched
// nothing. A root that goes later (deleted, moved away, or its disk
// unmounted, noticed within rootCheckEvery) is emitted as an error wrapping
// ErrNoFolder and no longer watched, its images not taken as removed; when
// no root is left, watchTree returns an error.
//
// Watches are added to every folder first and the folders are walked after,
// so nothing created during start-up is missed; folders created or moved in
// later are watched, and what they already hold is emitted, as soon as they
// appear. A catch-up file modified less than Settle ago is treated as still
// being written and waits like a new one. Per-folder problems (permission
// denied) are reported through emit(stages.File{Path: dir}, err) and the watch goes
// on; so does it when the system's watch limits are reached, after one
// warning on opts.Logger saying which limit to raise. If the kernel's event
// queue overflows, changes were lost: Watch logs a warning and rescans every
// root, emitting everything again (the pipeline skips up-to-date outputs).
//
// Watch calls emit and opts.OnRemove from its own goroutine only, one call at
// a time. A blocked emit is back-pressure: meanwhile events wait in fsnotify
// and the kernel's queue (should that overflow, the rescan finds what was
// missed), and nothing deadlocks. Watch starts one helper goroutine (it
// collects fsnotify's errors so fsnotify never blocks holding its lock) and
// uses one timer (the next settle deadline) and one ticker (the roots'
// check); all are stopped, and the fsnotify watcher closed, before it
// returns.
//
// Memory: one watch and a few hundred bytes per folder, one entry per emitted
// image (to skip duplicates and report removals), one per file waiting to
// settle.
func watchTree(ctx context.Context, roots []string, opts WatchOptions, emit Emit) error {
	return watchWith(ctx, roots, opts, emit, newFSNotifier)
}

// watchWith is watchTree with the notifier that newNotifier returns: tests
// give a fake one, or wrap the system's.
func watchWith(ctx context.Context, roots []string, opts WatchOptions, emit Emit, newNotifier func() (notifier, error)) error {
	if opts.Settle <= 0 {
		opts.Settle = defaultSettle
	}
	for _, p := range opts.Ignore {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("watch: ignore pattern %q: %w", p, err)
		}
	}
	roots, rootInfo, err := openRoots(roots)
	if err != nil {
		return err
	}
	w := &watcher{
		opts:     opts,
		emit:     emit,
		log:      opts.Logger,
		onRemove: opts.OnRemove,
		settle:   opts.Settle,
		roots:    roots,
		rootInfo: rootInfo,
		pending:  newSettler(opts.Settle),
		dirs:     map[string]*watchedDir{},
		realDirs: map[string]string{},
		known:    map[string]map[string]stages.File{},
		reported: map[string]bool{},
		warned:   map[string]bool{},
		errq:     errQueue{ready: make(chan struct{}, 1)},
		rule:     stages.InputRule{Hidden: opts.Scan.Hidden, Ignore: opts.Ignore},
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.onRemove == nil {
		w.onRemove = func(stages.File) {}
	}
	fw, err := newNotifier()
	if err != nil {
		if hint := limitHint(err); hint != "" {
			return fmt.Errorf("watch: %w; to raise the limit%s", err, hint)
		}
		return fmt.Errorf("watch: %w", err)
	}
	w.fw = fw
	// fsnotify's reader can send on Errors while holding the lock that
	// Add and Remove take; draining Errors on another goroutine means the
	// event loop can never deadlock against it.
	errsDone := make(chan struct{})
	go func() {
		defer close(errsDone)
		for err := range fw.Errors() {
			w.errq.put(err)
		}
	}()
	defer func() {
		fw.Close() // ends fsnotify's reader, which closes Errors
		<-errsDone
	}()
	return w.run(ctx)
}

// watcher is the state of one Watch call, owned by its goroutine (except
// errq).
type watcher struct {
	opts     WatchOptions
	emit     Emit
	log      *slog.Logger
	onRemove func(stages.File)
	settle   time.Duration          // how recent a catch-up file may be and still be being written
	roots    []string               // as given, cleaned, in order
	rootInfo map[string]fs.FileInfo // the roots still watched, as found at start
	fw       notifier
	exclude  []string // absolute and resolved forms of opts.Scan.Exclude
	rule     stages.InputRule

	dirs     map[string]*watchedDir            // watched folders by (cleaned) path
	realDirs map[string]string                 // resolved path → watched path, against loops and stale names
	known    map[string]map[string]stages.File // emitted images: folder path → base name → stages.File
	pending  *settler                          // files waiting to settle
	reported map[string]bool                   // paths whose error was emitted, so it is emitted once
	warned   map[string]bool                   // limit warnings already logged
	rescan   map[string]bool                   // during a rescan: paths emitted again
	errq     errQueue
}

// run is the event loop: catch-up, then events, errors and deadlines until
// ctx is done or emit fails.
func (w *watcher) run(ctx context.Context) error {
	if err := w.catchUp(ctx); err != nil {
		return err
	}
	events := w.fw.Events()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	roots := time.NewTicker(rootCheckEvery)
	defer roots.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var due <-chan time.Time
		if next, ok := w.pending.next(); ok {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return errors.New("watch: fsnotify stopped")
			}
			if err := w.event(ctx, ev); err != nil {
				return err
			}
		case <-w.errq.ready:
			if err := w.errors(ctx); err != nil {
				return err
			}
		case <-roots.C:
			if err := w.checkRoots(); err != nil {
				return err
			}
		case <-due:
			// Take the events already delivered first: a write queued
			// behind a create must cut the create's short settle.
		drain:
			for range 1024 {
				select {
				case ev, ok := <-events:
					if !ok {
						return errors.New("watch: fsnotify stopped")
					}
					if err := w.event(ctx, ev); err != nil {
						return err
					}
				default:
					break drain
				}
			}
			if err := w.fire(ctx); err != nil {
				return err
			}
		}
	}
}

// catchUp adds watches to every folder under the roots, then emits what
// they hold with Scan. It runs at start and after an event overflow.
func (w *watcher) catchUp(ctx context.Context) error {
	w.loadExcludes()
	seen := map[string]bool{}
	var scanRoots []string
	for _, root := range w.roots {
		if _, ok := w.rootInfo[root]; !ok {
			continue // gone earlier
		}
		if !w.rootThere(root) {
			if err := w.rootGone(root); err != nil {
				return err
			}
			continue
		}
		scanRoots = append(scanRoots, root)
		if err := w.addTree(ctx, root, "", false, seen); err != nil {
			return err
		}
	}
	opts := w.opts.Scan
	opts.Exclude = w.exclude
	return scan(ctx, scanRoots, opts, w.rule, func(f stages.File, err error) error {
		if err != nil {
			return w.reportErr(f, err)
		}
		if time.Since(f.ModTime) < w.settle { // maybe still being written
			w.pending.changed(time.Now(), f.Path, f.Rel, fileState{f.Size, f.ModTime})
			return nil
		}
		if w.rescan != nil {
			w.rescan[f.Path] = true
		}
		return w.send(f)
	})
}

// event handles one fsnotify event.
func (w *watcher) event(ctx context.Context, ev fsnotify.Event) error {
	name := filepath.Clean(ev.Name)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if _, ok := w.rootInfo[name]; ok {
			return w.rootGone(name)
		}
		if _, ok := w.dirs[name]; ok {
			w.forgetDir(name, true)
		} else if f, ok := w.knownFile(name); ok {
			w.pending.went(time.Now(), name, f.Rel)
		} else if rel, ok := w.pending.waiting(name); ok {
			w.pending.went(time.Now(), name, rel)
		}
	}
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Chmod) {
		return nil
	}
	dir, ok := w.dirs[filepath.Dir(name)]
	if !ok || name == filepath.Dir(name) {
		return nil // from a folder no longer watched
	}
	base := filepath.Base(name)
	if w.rule.Skip(base, true) {
		return nil
	}
	rel := path.Join(dir.rel, base)
	if ev.Has(fsnotify.Create) {
		info, err := os.Lstat(name)
		if err != nil {
			return nil // gone again; if it was waiting, its deadline sees to it
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if info, err = os.Stat(name); err != nil {
				return nil
			}
			if info.IsDir() && !w.opts.Scan.FollowSymlinks {
				return nil
			}
		}
		if info.IsDir() {
			return w.addTree(ctx, name, rel, true, map[string]bool{})
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		w.pending.appeared(time.Now(), name, rel, stateOf(info))
		return nil
	}
	// Write, or Chmod (touch, cp -p setting the time) on a file we wait for.
	if _, ok := w.pending.waiting(name); !ok && !ev.Has(fsnotify.Write) {
		return nil
	}
	info, err := os.Stat(name)
	if err != nil {
		return nil
	}
	if info.Mode().IsRegular() {
		w.pending.changed(time.Now(), name, rel, stateOf(info))
	}
	return nil
}

// errors handles what fsnotify reported on its Errors channel.
func (w *watcher) errors(ctx context.Context) error {
	errs, overflow := w.errq.take()
	for _, err := range errs {
		w.log.Warn("watch: fsnotify reported an error", "err", err)
	}
	if !overflow {
		return nil
	}
	w.log.Warn("watch: too many changes at once, some were missed (raise fs.inotify.max_queued_events); rescanning all folders",
		"err", fsnotify.ErrEventOverflow)
	w.rescan = map[string]bool{}
	defer func() { w.rescan = nil }()
	if err := w.catchUp(ctx); err != nil {
		return err
	}
	// Images not found again may have been removed unheard of: check them.
	for dir, files := range w.known {
		for name, f := range files {
			p := filepath.Join(dir, name)
			if _, ok := w.pending.waiting(p); !ok && !w.rescan[p] {
				w.pending.went(time.Now(), p, f.Rel)
			}
		}
	}
	return nil
}

// fire handles the files whose deadline has passed: emits those that
// settled, lets those that changed without an event wait again, and reports
// the images that are gone.
func (w *watcher) fire(ctx context.Context) error {
	now := time.Now()
	for {
		p, rel, ok := w.pending.due(now)
		if !ok {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := os.Stat(p)
		switch {
		case err == nil && info.Mode().IsRegular():
			switch w.pending.check(now, p, stateOf(info)) {
			case waitAgain:
				continue
			case settled:
				if err := w.settled(p, rel, info); err != nil {
					return err
				}
			}
		case errors.Is(err, fs.ErrNotExist):
			w.pending.check(now, p, absent)
			if f, ok := w.knownFile(p); ok {
				w.forget(p)
				w.onRemove(f)
			}
		case err != nil:
			w.pending.drop(p)
			if err := w.report(stages.File{Path: p, Rel: rel}, err); err != nil {
				return err
			}
		default: // a folder or a device now: not an image
			w.pending.drop(p)
		}
	}
}

// settled emits the file at p, which has not changed for its whole wait, if
// it is an input and not emitted as it is already.
func (w *watcher) settled(p, rel string, info fs.FileInfo) error {
	if f, ok := w.knownFile(p); ok && f.Size == info.Size() && f.ModTime.Equal(info.ModTime()) {
		return nil // emitted as it is already
	}
	if w.rule.Skip(filepath.Base(p), false) {
		return nil // not an image, or a download still in progress (.part)
	}
	// Link: the watch follows links to files, as it always has.
	f := stages.File{Path: p, Rel: rel, Size: info.Size(), ModTime: info.ModTime(), Link: true}
	head, err := readHeadFile(p, true)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // and its Remove event is on its way
		}
		return w.report(f, err)
	}
	var ok bool
	if f.Format, ok = stages.Accept(p, head); !ok {
		return nil // no extension, and not an image
	}
	return w.send(f)
}

// stateOf is the fileState of a file that is there.
func stateOf(info fs.FileInfo) fileState {
	return fileState{size: info.Size(), mod: info.ModTime()}
}

// send emits an image and remembers it.
func (w *watcher) send(f stages.File) error {
	if err := w.emit(f, nil); err != nil {
		return err
	}
	dir, name := filepath.Split(f.Path)
	dir = filepath.Clean(dir)
	if w.known[dir] == nil {
		w.known[dir] = map[string]stages.File{}
	}
	f.Open = nil
	w.known[dir][name] = f
	delete(w.reported, f.Path)
	return nil
}

func (w *watcher) knownFile(p string) (stages.File, bool) {
	f, ok := w.known[filepath.Dir(p)][filepath.Base(p)]
	return f, ok
}

func (w *watcher) forget(p string) {
	dir := filepath.Dir(p)
	delete(w.known[dir], filepath.Base(p))
	if len(w.known[dir]) == 0 {
		delete(w.known, dir)
	}
}
