package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/fsnotify/fsnotify"

	"github.com/imgpipe/imgpipe/stages"
)

// inputTree lays out a folder with every kind of file the input rule
// (stages.InputRule) decides on, and returns it with the relative paths of
// the files that are inputs.
func inputTree(t *testing.T) (string, []string) {
	t.Helper()
	jpg, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	tiff, err := os.ReadFile("../testdata/formats/paletted.tiff")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	files := []struct {
		rel   string
		data  []byte
		input bool
		why   string
	}{
		{"IMG_1.JPG", jpg, true, "image, named like one"},
		{"sub/photo.jpeg", jpg, true, "in a subfolder"},
		{"scan", jpg, true, "no extension, image bytes"},
		{"broken.jpg", []byte("<html>404</html>"), true, "named like an image: reported as broken"},
		{"IMG_1.CR2", tiff, false, "RAW: TIFF bytes, named otherwise"},
		{"photo.jpg.bak", jpg, false, "a copy renamed away"},
		{"notes.txt", []byte("hello"), false, "not an image"},
		{"README", []byte("hello"), false, "no extension, not an image"},
		{"photo.jpg.part", jpg, false, "a download in progress"},
		{"x.crdownload", jpg, false, "a download in progress"},
		{"IMG_2.jpg~", jpg, false, "an editor's backup"},
		{".hidden.jpg", jpg, false, "hidden"},
		{"._IMG_1.JPG", jpg, false, "AppleDouble"},
		{".thumbs/a.jpg", jpg, false, "in a hidden folder"},
		{"cache.tmp/a.jpg", jpg, false, "in a temporary folder"},
	}
	var want []string
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if f.input {
			want = append(want, f.rel)
		}
	}
	slices.Sort(want)
	return root, want
}

// Every source that walks folders finds the same inputs in the same tree:
// the input rule is said once, in stages.InputRule.
func TestInputRuleEverySource(t *testing.T) {
	root, want := inputTree(t)
	sources := map[string]Source{
		"Dirs":  Dirs([]string{root}, ScanOptions{}),
		"Paths": Paths(root),
		"FS":    FS(os.DirFS(root), "."),
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			var got []string
			err := src(context.Background(), func(f stages.File, err error) error {
				if err != nil {
					t.Errorf("%s: %v", f.Path, err)
					return nil
				}
				got = append(got, f.Rel)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("inputs\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// A file named on the command line is an input whatever its name.
func TestInputRuleExplicitFile(t *testing.T) {
	root, _ := inputTree(t)
	for _, rel := range []string{"IMG_1.CR2", "photo.jpg.bak", "README"} {
		var got []string
		err := Paths(filepath.Join(root, rel))(context.Background(), func(f stages.File, err error) error {
			got = append(got, f.Rel)
			return err
		})
		if err != nil || !slices.Equal(got, []string{rel}) {
			t.Errorf("%s named explicitly: emitted %q, %v", rel, got, err)
		}
	}
}

// The watch follows the same rule, for what is there at start (catch-up)
// and for what lands later (moved in, folders included).
func TestInputRuleWatch(t *testing.T) {
	collect := func(l *loopRun) []string {
		got := l.rec.rels()
		slices.Sort(got)
		return slices.Compact(got)
	}
	t.Run("catch-up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			root, want := inputTree(t)
			l := &loopRun{t: t, root: root, n: newFakeNotifier(), rec: &watchRecorder{}, log: &watchLog{}}
			l.start(WatchOptions{Settle: loopSettle})
			l.after(3 * loopSettle)
			if got := collect(l); !slices.Equal(got, want) {
				t.Errorf("inputs\n%q\nwant\n%q", got, want)
			}
		})
	})
	t.Run("landing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			src, want := inputTree(t)
			l := startLoop(t, WatchOptions{Settle: loopSettle})
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(l.root, e.Name())); err != nil {
					t.Fatal(err)
				}
				l.send(fsnotify.Create, e.Name())
			}
			l.after(3 * loopSettle)
			if got := collect(l); !slices.Equal(got, want) {
				t.Errorf("inputs\n%q\nwant\n%q", got, want)
			}
		})
	})
}
