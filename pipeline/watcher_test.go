package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/stages"
	"go.uber.org/goleak"
)

func TestWatchCatchUp(t *testing.T) {
	jpg, png := watchTestdata(t, "canon_100x68.jpg"), watchTestdata(t, "1x1.png")
	root := t.TempDir()
	watchWriteOld(t, filepath.Join(root, "a.jpg"), jpg)
	watchWriteOld(t, filepath.Join(root, "sub", "deeper", "b.png"), png)
	watchWrite(t, filepath.Join(root, "sub", "recent.png"), png) // may be half copied: waits Settle
	watchWriteOld(t, filepath.Join(root, "sub", "notes.txt"), []byte("not a photo"))
	watchWriteOld(t, filepath.Join(root, ".hidden.jpg"), jpg)

	w := startWatch(t, root, WatchOptions{}, nil)
	w.waitEmitted("a.jpg", "sub/deeper/b.png", "sub/recent.png")
	w.sync()
	w.wantOnce("a.jpg", "sub/deeper/b.png", "sub/recent.png")
	if got := w.rec.rels(); len(got) != 3 {
		t.Errorf("emitted %q, want only a.jpg, sub/deeper/b.png and sub/recent.png", got)
	}
	f, _ := w.rec.last("sub/deeper/b.png")
	// Format "": the catch-up scan does not open a file named like an
	// image (decode sniffs it).
	if want := filepath.Join(root, "sub", "deeper", "b.png"); f.Path != want || f.Format != "" || f.Size != int64(len(png)) {
		t.Errorf("got %+v, want Path %s, Format \"\", Size %d", f, want, len(png))
	}
	if errs := w.rec.errors(); len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
}

func TestWatchRenameIn(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	root := t.TempDir()
	watchWriteOld(t, filepath.Join(root, "ready.jpg"), jpg)
	// A long Settle: emits well before it show renames take the short path.
	settle := 10 * time.Second
	w := startWatch(t, root, WatchOptions{Settle: settle}, nil)
	w.waitEmitted("ready.jpg") // catch-up is over: the watches are in place

	for _, c := range []struct{ tmp, final string }{
		{"x.jpg.tmp", "x.jpg"},
		{".y.jpg.part", "y.jpg"},
		{"z.jpg.crdownload", "z.jpg"},
	} {
		start := time.Now()
		tmp := filepath.Join(root, c.tmp)
		watchWriteInPlace(t, tmp, jpg)
		if err := os.Rename(tmp, filepath.Join(root, c.final)); err != nil {
			t.Fatal(err)
		}
		w.waitEmitted(c.final)
		if d := time.Since(start); d >= settle {
			t.Errorf("%s emitted after %v, want well before Settle (%v)", c.final, d, settle)
		}
	}
	w.wantOnce("x.jpg", "y.jpg", "z.jpg")
	w.wantNone("*.tmp", ".*", "*.part", "*.crdownload")
}

func TestWatchManyFiles(t *testing.T) {
	jpg, png := watchTestdata(t, "canon_100x68.jpg"), watchTestdata(t, "1x1.png")
	root := t.TempDir()
	w := startWatch(t, root, WatchOptions{Settle: watchSettleInPlace}, nil)
	w.sync()

	var rels []string
	for i := range 200 { // a burst of copies
		rel, data := fmt.Sprintf("img%03d.jpg", i), jpg
		if i%2 == 1 {
			rel, data = fmt.Sprintf("img%03d.png", i), png
		}
		watchWriteInPlace(t, filepath.Join(root, rel), data)
		rels = append(rels, rel)
	}
	w.waitEmitted(rels...)
	w.sync()
	w.wantOnce(rels...)
}

func TestWatchNewFolders(t *testing.T) {
	jpg, png := watchTestdata(t, "canon_100x68.jpg"), watchTestdata(t, "1x1.png")
	t.Run("mkdir -p", func(t *testing.T) {
		root := t.TempDir()
		w := startWatch(t, root, WatchOptions{Settle: watchSettleInPlace}, nil)
		w.sync()
		if err := os.MkdirAll(filepath.Join(root, "a", "b", "c"), 0o755); err != nil {
			t.Fatal(err)
		}
		watchWriteInPlace(t, filepath.Join(root, "a", "b", "c", "1.jpg"), jpg)
		watchWriteInPlace(t, filepath.Join(root, "a", "b", "2.png"), png)
		watchWriteInPlace(t, filepath.Join(root, "a", "3.jpg"), jpg)
		w.waitEmitted("a/b/c/1.jpg", "a/b/2.png", "a/3.jpg")
		// All at once, files included, as MkdirAll plus WriteFile do.
		watchWriteInPlace(t, filepath.Join(root, "d", "e", "f", "4.jpg"), jpg)
		w.waitEmitted("d/e/f/4.jpg")
		w.sync()
		w.wantOnce("a/b/c/1.jpg", "a/b/2.png", "a/3.jpg", "d/e/f/4.jpg")
	})
	t.Run("tree moved in, then moved within", func(t *testing.T) {
		tmp := t.TempDir()
		root := filepath.Join(tmp, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		w := startWatch(t, root, WatchOptions{}, nil)
		w.sync()

		outside := filepath.Join(tmp, "elsewhere", "t1")
		watchWrite(t, filepath.Join(outside, "y.png"), png)
		watchWrite(t, filepath.Join(outside, "s", "x.jpg"), jpg)
		watchWrite(t, filepath.Join(outside, "s", "u", "v.jpg"), jpg)
		if err := os.Rename(outside, filepath.Join(root, "t1")); err != nil {
			t.Fatal(err)
		}
		w.waitEmitted("t1/y.png", "t1/s/x.jpg", "t1/s/u/v.jpg")
		// The folders that came in are watched.
		watchWrite(t, filepath.Join(root, "t1", "s", "u", "new.png"), png)
		w.waitEmitted("t1/s/u/new.png")

		// Moved within the root: watched under the new name, and the old
		// names are removed.
		if err := os.Rename(filepath.Join(root, "t1"), filepath.Join(root, "t2")); err != nil {
			t.Fatal(err)
		}
		w.waitEmitted("t2/y.png", "t2/s/x.jpg", "t2/s/u/v.jpg", "t2/s/u/new.png")
		watchWrite(t, filepath.Join(root, "t2", "s", "u", "after.png"), png)
		w.waitEmitted("t2/s/u/after.png")
		if f, _ := w.rec.last("t2/s/u/after.png"); f.Path != filepath.Join(root, "t2", "s", "u", "after.png") {
			t.Errorf("Path %s, want it below t2", f.Path)
		}
		for _, rel := range []string{"t1/y.png", "t1/s/x.jpg", "t1/s/u/v.jpg", "t1/s/u/new.png"} {
			w.waitFor("OnRemove of "+rel, func() bool { return w.rec.removedCount(rel) > 0 })
		}
		w.sync()
		w.wantOnce("t1/y.png", "t1/s/x.jpg", "t1/s/u/v.jpg", "t1/s/u/new.png",
			"t2/y.png", "t2/s/x.jpg", "t2/s/u/v.jpg", "t2/s/u/new.png", "t2/s/u/after.png")
		if errs := w.rec.errors(); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	t.Run("folder deleted", func(t *testing.T) {
		root := t.TempDir()
		watchWrite(t, filepath.Join(root, "gone", "sub", "a.jpg"), jpg)
		w := startWatch(t, root, WatchOptions{}, nil)
		w.sync()
		if err := os.RemoveAll(filepath.Join(root, "gone")); err != nil {
			t.Fatal(err)
		}
		// A new folder of the same name is watched afresh.
		watchWrite(t, filepath.Join(root, "gone", "sub", "b.jpg"), jpg)
		w.waitEmitted("gone/sub/b.jpg")
		w.sync()
		if errs := w.rec.errors(); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
		if s := w.log.String(); s != "" {
			t.Errorf("log: %s", s)
		}
	})
}

func TestWatchExclude(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	watchWrite(t, filepath.Join(root, "out", "old.png"), png)
	// "later" does not exist yet, and is named through a symlink.
	if err := os.Symlink(root, filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	opts := WatchOptions{Scan: ScanOptions{Exclude: []string{
		filepath.Join(root, "out"),
		filepath.Join(tmp, "link", "later"),
	}}}
	w := startWatch(t, root, opts, nil)
	w.sync()

	watchWrite(t, filepath.Join(root, "out", "a.png"), png)
	watchWrite(t, filepath.Join(root, "out", "sub", "b.png"), png)
	watchWrite(t, filepath.Join(root, "later", "c.png"), png)
	watchWrite(t, filepath.Join(root, "later", "sub", "d.png"), png)
	watchWrite(t, filepath.Join(root, "in.png"), png)
	w.waitEmitted("in.png")
	w.sync()
	w.wantNone("out/", "later/")
}

func TestWatchTempNames(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	names := []string{"a.jpg.part", "b.jpg.crdownload", "c.tmp", "C.JPG.TMP", "d.jpg~", ".e.jpg.swp", "f.jpg.swp",
		"._g.jpg", ".hidden.jpg", "h-draft.jpg", "drafts-x/i.jpg", ".dotdir/j.jpg"}
	root := t.TempDir()
	for _, n := range names {
		watchWrite(t, filepath.Join(root, "before", n), jpg)
	}
	w := startWatch(t, root, WatchOptions{Ignore: []string{"*-draft.jpg", "drafts-*"}}, nil)
	w.sync()
	for _, n := range names {
		watchWrite(t, filepath.Join(root, "after", n), jpg)
	}
	watchWrite(t, filepath.Join(root, "after", "ok.jpg"), jpg)
	w.waitEmitted("after/ok.jpg")
	w.sync()
	if got := w.rec.rels(); !slices.Equal(got, []string{"after/ok.jpg"}) {
		t.Errorf("emitted %q, want only after/ok.jpg", got)
	}
}

func TestWatchHidden(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	root := t.TempDir()
	w := startWatch(t, root, WatchOptions{Scan: ScanOptions{Hidden: true}}, nil)
	w.sync()
	watchWrite(t, filepath.Join(root, ".hidden.jpg"), jpg)
	watchWrite(t, filepath.Join(root, ".dir", "x.jpg"), jpg)
	watchWrite(t, filepath.Join(root, "._x.jpg"), jpg) // AppleDouble: never a photo
	w.waitEmitted(".hidden.jpg", ".dir/x.jpg")
	w.sync()
	w.wantNone("._*")
}

func TestWatchNonImage(t *testing.T) {
	jpg, png := watchTestdata(t, "canon_100x68.jpg"), watchTestdata(t, "1x1.png")
	root := t.TempDir()
	w := startWatch(t, root, WatchOptions{}, nil)
	w.sync()
	watchWrite(t, filepath.Join(root, "notes.txt"), []byte("shopping list"))
	watchWrite(t, filepath.Join(root, "data.bin"), bytes.Repeat([]byte{0}, 100))
	watchWrite(t, filepath.Join(root, "scan0001"), png)                    // no extension: sniffed
	watchWrite(t, filepath.Join(root, "broken.jpg"), []byte("not a jpeg")) // named like one: decode reports it
	watchWrite(t, filepath.Join(root, "old.jpg.bak"), jpg)                 // a photo renamed away: left alone
	watchWrite(t, filepath.Join(root, "photo.jpg"), jpg)
	w.waitEmitted("scan0001", "broken.jpg", "photo.jpg")
	w.sync()
	w.wantNone("notes.txt", "data.bin", "old.jpg.bak")
	if f, _ := w.rec.last("scan0001"); f.Format != "png" {
		t.Errorf("scan0001: Format %q, want png", f.Format)
	}
	if f, _ := w.rec.last("broken.jpg"); f.Format != "" {
		t.Errorf("broken.jpg: Format %q, want \"\"", f.Format)
	}
}

func TestWatchModified(t *testing.T) {
	jpg := watchTestdata(t, "canon_100x68.jpg")
	root := t.TempDir()
	w := startWatch(t, root, WatchOptions{Settle: watchSettleInPlace}, nil)
	w.sync()
	p := filepath.Join(root, "a.jpg")
	watchWriteInPlace(t, p, jpg)
	w.waitEmitted("a.jpg")
	w.sync()
	w.wantOnce("a.jpg")

	watchWriteInPlace(t, p, append(slices.Clone(jpg), 0, 0, 0)) // rewritten in place
	w.waitFor("second emit of a.jpg", func() bool { return w.rec.count("a.jpg") == 2 })
	if f, _ := w.rec.last("a.jpg"); f.Size != int64(len(jpg)+3) {
		t.Errorf("second emit: Size %d, want %d", f.Size, len(jpg)+3)
	}

	// Replaced by rename, as atomic writers do.
	watchWriteInPlace(t, filepath.Join(root, "a.jpg.tmp"), jpg)
	if err := os.Rename(filepath.Join(root, "a.jpg.tmp"), p); err != nil {
		t.Fatal(err)
	}
	w.waitFor("third emit of a.jpg", func() bool { return w.rec.count("a.jpg") == 3 })
	w.sync()
	if n := w.rec.count("a.jpg"); n != 3 {
		t.Errorf("a.jpg emitted %d times, want 3\n%s", n, w.rec)
	}
	if n := w.rec.removedCount("a.jpg"); n != 0 {
		t.Errorf("OnRemove(a.jpg) called %d times, want 0", n)
	}
}

func TestWatchRemove(t *testing.T) {
	jpg, png := watchTestdata(t, "canon_100x68.jpg"), watchTestdata(t, "1x1.png")
	tmp := t.TempDir()
	root, away := filepath.Join(tmp, "root"), filepath.Join(tmp, "away")
	watchWrite(t, filepath.Join(root, "a.jpg"), jpg)
	watchWrite(t, filepath.Join(root, "dir", "c.jpg"), jpg)
	watchWrite(t, filepath.Join(root, "dir", "d.png"), png)
	watchWrite(t, filepath.Join(root, "e.jpg"), jpg)
	watchWrite(t, filepath.Join(root, "rmdir", "f.jpg"), jpg)
	watchWrite(t, filepath.Join(away, "keep.txt"), nil)
	w := startWatch(t, root, WatchOptions{}, nil)
	watchWrite(t, filepath.Join(root, "b.png"), png)
	watchWrite(t, filepath.Join(root, "notes.txt"), []byte("not a photo"))
	w.waitEmitted("a.jpg", "b.png", "dir/c.jpg", "dir/d.png", "e.jpg", "rmdir/f.jpg")
	w.sync()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(filepath.Join(root, "a.jpg")))                               // deleted
	must(os.Rename(filepath.Join(root, "b.png"), filepath.Join(away, "b.png"))) // renamed away
	must(os.Rename(filepath.Join(root, "dir"), filepath.Join(away, "dir")))     // folder renamed away
	must(os.RemoveAll(filepath.Join(root, "rmdir")))                            // folder deleted
	must(os.Remove(filepath.Join(root, "notes.txt")))                           // never an image
	// An editor's save: the old file renamed to a backup, a new one written.
	must(os.Rename(filepath.Join(root, "e.jpg"), filepath.Join(root, "e.jpg~")))
	watchWrite(t, filepath.Join(root, "e.jpg"), append(slices.Clone(jpg), 0))

	gone := []string{"a.jpg", "b.png", "dir/c.jpg", "dir/d.png", "rmdir/f.jpg"}
	for _, rel := range gone {
		w.waitFor("OnRemove of "+rel, func() bool { return w.rec.removedCount(rel) > 0 })
	}
	w.waitFor("second emit of e.jpg", func() bool { return w.rec.count("e.jpg") == 2 })
	w.sync()
	w.sync() // a removal is confirmed a Settle after the file went: let any stray one come
	for _, rel := range gone {
		if n := w.rec.removedCount(rel); n != 1 {
			t.Errorf("OnRemove(%s) called %d times, want 1", rel, n)
		}
	}
	for _, rel := range []string{"e.jpg", "notes.txt"} {
		if n := w.rec.removedCount(rel); n != 0 {
			t.Errorf("OnRemove(%s) called %d times, want 0", rel, n)
		}
	}
	if f, _ := w.rec.last("e.jpg"); f.Size != int64(len(jpg)+1) {
		t.Errorf("e.jpg emitted with Size %d, want %d", f.Size, len(jpg)+1)
	}
}

func TestWatchCancel(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	t.Run("idle", func(t *testing.T) {
		root := t.TempDir()
		w := startWatch(t, root, WatchOptions{}, nil)
		w.sync()
		start := time.Now()
		if err := w.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Watch took %v to return", d)
		}
	})
	// emit blocks as the pipeline's does when it is full, until the run ends.
	blocking := func(ctx context.Context, entered chan<- string) func(Emit) Emit {
		return func(Emit) Emit {
			return func(f stages.File, err error) error {
				select {
				case entered <- f.Rel:
				default:
				}
				<-ctx.Done()
				return ctx.Err()
			}
		}
	}
	t.Run("emit blocked in catch-up", func(t *testing.T) {
		root := t.TempDir()
		for i := range 5 {
			watchWriteOld(t, filepath.Join(root, fmt.Sprintf("%d.png", i)), png)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		entered := make(chan string, 1)
		w := startWatch(t, root, WatchOptions{}, blocking(ctx, entered))
		select {
		case <-entered:
		case <-time.After(watchWaitLimit):
			t.Fatal("emit never called")
		}
		cancel()
		if err := w.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	})
	t.Run("emit blocked with events queued", func(t *testing.T) {
		root := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		entered := make(chan string, 1)
		w := startWatch(t, root, WatchOptions{}, blocking(ctx, entered))
		watchWrite(t, filepath.Join(root, "first.png"), png)
		select {
		case <-entered:
		case <-time.After(watchWaitLimit):
			t.Fatal("emit never called")
		}
		// The event loop is stuck in emit: fsnotify's reader backs up.
		for i := range 300 {
			watchWrite(t, filepath.Join(root, "more", fmt.Sprintf("%d.png", i)), png)
		}
		start := time.Now()
		cancel()
		if err := w.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Watch took %v to return", d)
		}
	})
}

func TestWatchEmitError(t *testing.T) {
	root := t.TempDir()
	watchWrite(t, filepath.Join(root, "a.png"), watchTestdata(t, "1x1.png"))
	stop := errors.New("pipeline stopped")
	leaks := goleak.IgnoreCurrent()
	done := make(chan error, 1)
	go func() {
		done <- watchTree(context.Background(), []string{root}, WatchOptions{Settle: watchSettle},
			func(stages.File, error) error { return stop })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Errorf("Watch returned %v, want %v", err, stop)
		}
	case <-time.After(watchWaitLimit):
		t.Fatal("Watch did not return after emit failed")
	}
	goleak.VerifyNone(t, leaks)
}

func TestWatchBadIgnorePattern(t *testing.T) {
	err := watchTree(context.Background(), []string{t.TempDir()}, WatchOptions{Ignore: []string{"[x"}},
		func(stages.File, error) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"[x"`) {
		t.Errorf("got %v, want an error naming the pattern", err)
	}
}

// A root that is missing or is a file stops the watch before it starts:
// a typo in a service's command line must not watch nothing forever.
func TestWatchNoFolder(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "missing")
	good := filepath.Join(tmp, "good")
	watchWriteOld(t, filepath.Join(good, "a.png"), png)
	file := filepath.Join(tmp, "single.png")
	watchWriteOld(t, file, png)
	const enoent = ": no folder to watch: no such file or directory"
	for _, c := range []struct {
		name  string
		roots []string
		want  []string // the error's lines
	}{
		{"missing", []string{missing}, []string{"watch " + missing + enoent}},
		{"a file", []string{file}, []string{"watch " + file + ": no folder to watch: it is a file"}},
		{"one of several", []string{good, missing + "/", file}, []string{
			"watch " + missing + enoent,
			"watch " + file + ": no folder to watch: it is a file",
		}},
		{"none", nil, []string{"watch: no folder to watch: none given"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			rec := &watchRecorder{}
			err := watchTree(context.Background(), c.roots, WatchOptions{Settle: watchSettle}, rec.emit)
			if !errors.Is(err, ErrNoFolder) {
				t.Fatalf("got %v, want ErrNoFolder", err)
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if c.name == "missing" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%v: want it to match fs.ErrNotExist too", err)
			}
			var pe *Error
			if c.roots != nil && (!errors.As(err, &pe) || pe.Stage != "watch") {
				t.Errorf("%v: want an *Error of stage watch", err)
			}
			if rec.count("a.png") != 0 || len(rec.errors()) != 0 {
				t.Errorf("emitted before refusing to start:\n%s", rec)
			}
			goleak.VerifyNone(t, leaks)
		})
	}
}

func TestWatchPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	png := watchTestdata(t, "1x1.png")
	root := t.TempDir()
	locked := filepath.Join(root, "locked")
	watchWrite(t, filepath.Join(locked, "a.png"), png)
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	w := startWatch(t, root, WatchOptions{}, nil)
	w.sync()
	errs := w.rec.errors()
	if len(errs) != 1 || !errors.Is(errs[0], os.ErrPermission) || !strings.HasPrefix(errs[0].Error(), "watch "+locked+": ") {
		t.Errorf("errors %v, want one: watch %s: permission denied", errs, locked)
	}
}

// The rescan itself is tested in TestWatchLoopOverflow; this is the one real
// overflow: the kernel's queue fills while emit blocks, and the watch hears
// of it and finds what it missed.
func TestWatchOverflow(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("no inotify:", err)
	}
	queue, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || queue > 1_000_000 {
		t.Skipf("fs.inotify.max_queued_events = %q: too many events to overflow it", b)
	}
	png := watchTestdata(t, "1x1.png")
	root := t.TempDir()
	watchWriteOld(t, filepath.Join(root, "a.png"), png)

	// emit blocks on the first catch-up file until released, so events
	// pile up in the kernel until its queue overflows.
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	w := startWatch(t, root, WatchOptions{}, func(emit Emit) Emit {
		return func(f stages.File, err error) error {
			once.Do(func() {
				close(entered)
				<-release
			})
			return emit(f, err)
		}
	})
	<-entered
	// Events in a folder watched already (a new one would not be yet): a
	// byte written to each of two files in turn, so that inotify cannot
	// merge an event into the one before it, and fsnotify reads at most
	// 4096 events ahead of the queue. A write costs a microsecond, where
	// creating a file costs a hundred; .txt files are left alone.
	var flood [2]*os.File
	for i := range flood {
		if flood[i], err = os.Create(filepath.Join(root, "flood"+strconv.Itoa(i)+".txt")); err != nil {
			t.Fatal(err)
		}
		defer flood[i].Close()
	}
	for i := range queue + 4096 + 1000 {
		if _, err := flood[i%2].Write([]byte{0}); err != nil {
			t.Fatal(err)
		}
	}
	watchWrite(t, filepath.Join(root, "late.png"), png) // its events are lost
	close(release)
	w.waitFor("overflow warning", func() bool { return strings.Contains(w.log.String(), "rescanning") })
	w.waitFor("rescan", func() bool { return w.rec.count("a.png") == 2 })
	w.waitEmitted("late.png")
}

func TestWatchLimit(t *testing.T) {
	png := watchTestdata(t, "1x1.png")
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	watchWriteOld(t, filepath.Join(root, "limited-1", "a.png"), png)
	watchWriteOld(t, filepath.Join(root, "limited-2", "b.png"), png)
	watchWriteOld(t, filepath.Join(root, "ok", "c.png"), png)
	// Folders named limited-* cannot be watched, as when
	// fs.inotify.max_user_watches is reached.
	w := startWatchWith(t, root, WatchOptions{}, nil, func() (notifier, error) {
		n, err := newFSNotifier()
		return limitedNotifier{n}, err
	})
	w.waitEmitted("limited-1/a.png", "limited-2/b.png", "ok/c.png")

	// A folder moved in that cannot be watched: what it holds is emitted.
	watchWriteOld(t, filepath.Join(tmp, "limited-3", "d.png"), png)
	if err := os.Rename(filepath.Join(tmp, "limited-3"), filepath.Join(root, "limited-3")); err != nil {
		t.Fatal(err)
	}
	w.waitEmitted("limited-3/d.png")
	// The others are still watched.
	watchWrite(t, filepath.Join(root, "ok", "e.png"), png)
	w.waitEmitted("ok/e.png")
	w.sync()

	log := w.log.String()
	if n := strings.Count(log, "level=WARN"); n != 1 || !strings.Contains(log, "sudo sysctl fs.inotify.max_user_watches=524288") {
		t.Errorf("want one warning naming max_user_watches and how to raise it, got %d:\n%s", n, log)
	}
	if errs := w.rec.errors(); len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
}

func TestWatchLimitHint(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{syscall.ENOSPC, "sysctl fs.inotify.max_user_watches=524288"},
		{fmt.Errorf("add: %w", syscall.ENOSPC), "max_user_watches"},
		{syscall.EMFILE, "sysctl fs.inotify.max_user_instances="},
		{errors.New("couldn't initialize inotify: too many open files"), "max_user_instances"},
		{syscall.EACCES, ""},
	} {
		got := limitHint(c.err)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("limitHint(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}
