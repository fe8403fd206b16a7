package pipeline

import (
	"context"
	"errors"
	"github.com/imgpipe/imgpipe/stages"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// scanAll runs Scan and returns the Rel of every emitted file, and the
// failures by path.
func scanAll(t *testing.T, roots []string, opts ScanOptions) ([]string, map[string]error) {
	t.Helper()
	var got []string
	failed := map[string]error{}
	err := scan(context.Background(), roots, opts, opts.rule(), func(f stages.File, err error) error {
		if err != nil {
			failed[f.Path] = err
			return nil
		}
		got = append(got, f.Rel)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return got, failed
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	jpg, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	// photo.jpg.bak and g.JPG~ are images renamed to say they are not.
	for _, p := range []string{"a.jpg", "B.JPG", "c.jpeg", "noext", "sub/deep/d.jpg", "sub/.hidden.jpg", ".dot/e.jpg", "._f.jpg", "out/old.jpg", "name with spaces ü.jpg", "photo.jpg.bak", "g.JPG~"} {
		write(t, filepath.Join(root, p), jpg)
	}
	write(t, filepath.Join(root, "notes.txt"), []byte("hello"))
	write(t, filepath.Join(root, "fake.png"), []byte("<html>")) // named like an image: reported by decode
	write(t, filepath.Join(root, "empty.gif"), nil)             // likewise
	os.Mkdir(filepath.Join(root, "folder.jpg"), 0o755)          // a folder named like an image
	write(t, filepath.Join(root, "folder.jpg", "inside.jpg"), jpg)

	got, failed := scanAll(t, []string{root}, ScanOptions{Exclude: []string{filepath.Join(root, "out")}})
	want := []string{"B.JPG", "a.jpg", "c.jpeg", "empty.gif", "fake.png", "folder.jpg/inside.jpg", "name with spaces ü.jpg", "noext", "sub/deep/d.jpg"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("scan found\n%v\nwant\n%v", got, want)
	}
	if len(failed) != 0 {
		t.Errorf("failures %v", failed)
	}

	// Hidden files on request; explicit files always, named after their base.
	got, _ = scanAll(t, []string{root}, ScanOptions{Hidden: true})
	if !contains(got, ".dot/e.jpg") || !contains(got, "sub/.hidden.jpg") || !contains(got, "out/old.jpg") {
		t.Errorf("with Hidden: %v", got)
	}
	got, _ = scanAll(t, []string{filepath.Join(root, "notes.txt"), filepath.Join(root, "sub", "deep", "d.jpg"), filepath.Join(root, "photo.jpg.bak")}, ScanOptions{})
	if strings.Join(got, "|") != "notes.txt|d.jpg|photo.jpg.bak" {
		t.Errorf("explicit files: %v", got)
	}
	// Overlapping roots do not emit a file twice.
	got, _ = scanAll(t, []string{filepath.Join(root, "sub"), filepath.Join(root, "sub", "deep")}, ScanOptions{})
	if len(got) != 1 {
		t.Errorf("overlapping roots: %v", got)
	}
}

// TestScanSniffsFormat: a file named like an image is emitted as it is,
// unopened (Format "": decode sniffs it, and reports one that is not an
// image); any other file is opened and emitted only if its bytes are an
// image's, with the format they show.
func TestScanSniffsFormat(t *testing.T) {
	png, _ := os.ReadFile("../testdata/formats/alpha.png")
	gif, _ := os.ReadFile("../testdata/formats/anim.gif")
	root := t.TempDir()
	files := map[string][]byte{
		"scan0001":     png,                   // no extension, a PNG
		"photo.data":   gif,                   // an unknown extension, a GIF
		"notes":        []byte("not a photo"), // no extension, not an image
		"fake.jpg":     []byte("not a photo"), // named like one: decode says it is not
		"mislabel.jpg": png,                   // named like a JPEG: decode sniffs PNG
	}
	for name, data := range files {
		write(t, filepath.Join(root, name), data)
	}
	var formats []string
	scan(context.Background(), []string{root}, ScanOptions{}, ScanOptions{}.rule(), func(f stages.File, err error) error {
		formats = append(formats, filepath.Base(f.Path)+"="+f.Format)
		return nil
	})
	sort.Strings(formats)
	if got, want := strings.Join(formats, " "), "fake.jpg= mislabel.jpg= scan0001=png"; got != want {
		t.Errorf("scanned %s, want %s", got, want)
	}
}

func TestScanSymlinks(t *testing.T) {
	jpg, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	root := t.TempDir()
	other := t.TempDir()
	write(t, filepath.Join(root, "real", "a.jpg"), jpg)
	write(t, filepath.Join(other, "b.jpg"), jpg)
	links := map[string]string{
		"real/loop":      "..",                              // a loop back up the tree
		"self":           ".",                               // a loop to itself
		"elsewhere":      other,                             // a folder outside
		"link.jpg":       filepath.Join(root, "real/a.jpg"), // a link to a file
		"dangling.jpg":   filepath.Join(root, "gone.jpg"),   // to nothing, named like an image
		"dangling-other": filepath.Join(root, "gone"),       // to nothing, not an image name
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Skipf("symlinks not supported here: %v", err)
		}
	}
	got, failed := scanAll(t, []string{root}, ScanOptions{})
	if strings.Join(got, "|") != "link.jpg|real/a.jpg" {
		t.Errorf("without following: %v", got)
	}
	if len(failed) != 1 || !errors.Is(failed[filepath.Join(root, "dangling.jpg")], fs.ErrNotExist) {
		t.Errorf("failures %v, want just the dangling .jpg", failed)
	}
	got, _ = scanAll(t, []string{root}, ScanOptions{FollowSymlinks: true})
	if strings.Join(got, "|") != "elsewhere/b.jpg|link.jpg|real/a.jpg" {
		t.Errorf("following (loops must end): %v", got)
	}
}

func TestScanCancel(t *testing.T) {
	root := t.TempDir()
	jpg, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	for _, p := range []string{"a.jpg", "b.jpg", "c/d.jpg"} {
		write(t, filepath.Join(root, p), jpg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := scan(ctx, []string{root}, ScanOptions{}, ScanOptions{}.rule(), func(f stages.File, err error) error {
		n++
		cancel()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("Scan after cancel: %v after %d files", err, n)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
