package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder swapped for a symbolic link to a folder outside the tree between
// its parent's listing and the descent into it is not followed without
// FollowSymlinks (issue #18.10: 6 of 40 racing runs emitted the outside
// files). afterList makes the race happen every time.
func TestScanFolderSwappedForLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	jpg := []byte("\xff\xd8\xff\xe0 not really")
	write(t, filepath.Join(root, "a", "in.jpg"), jpg)
	write(t, filepath.Join(root, "b", "in.jpg"), jpg)
	write(t, filepath.Join(outside, "secret.jpg"), jpg)
	defer func(f func(string)) { afterList = f }(afterList)
	afterList = func(dir string) {
		if dir != root {
			return
		}
		a := filepath.Join(root, "a")
		if err := os.Rename(a, filepath.Join(t.TempDir(), "a")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, a); err != nil {
			t.Fatal(err)
		}
	}
	got, failed := scanAll(t, []string{root}, ScanOptions{})
	for _, rel := range got {
		if strings.Contains(rel, "secret") {
			t.Errorf("emitted %s from outside the tree (all: %v)", rel, got)
		}
	}
	if len(got) != 1 || got[0] != "b/in.jpg" || len(failed) != 0 {
		t.Errorf("emitted %v, failed %v; want b/in.jpg only", got, failed)
	}

	// With FollowSymlinks the link is followed, as links are.
	os.Remove(filepath.Join(root, "a"))
	os.Mkdir(filepath.Join(root, "a"), 0o755)
	got, _ = scanAll(t, []string{root}, ScanOptions{FollowSymlinks: true})
	if !contains(got, "a/secret.jpg") {
		t.Errorf("FollowSymlinks: emitted %v, want a/secret.jpg", got)
	}
}
