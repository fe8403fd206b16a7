package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirWriteFlushCommit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sync  Sync
		files int
	}{
		{"now", Now, 1},
		{"later-one", Later, 1},
		{"later-batch", Later, 5}, // syncfs on Linux
		{"never", Never, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			d, err := OpenDir(root, "a/b")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var temps []*Temp
			for i := range tc.files {
				tmp, err := d.WriteTemp(string(rune('p'+i))+".jpg", []byte{byte(i), 1, 2}, tc.sync)
				if err != nil {
					t.Fatal(err)
				}
				temps = append(temps, tmp)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "a/b")); len(entries) != tc.files {
				t.Fatalf("%d entries before commit, want %d temporary files", len(entries), tc.files)
			}
			if err := Flush(temps); err != nil {
				t.Fatal(err)
			}
			for i, tmp := range temps {
				if err := tmp.Commit(); err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(filepath.Join(dir, "a/b", string(rune('p'+i))+".jpg"))
				if err != nil || len(data) != 3 || data[0] != byte(i) {
					t.Errorf("file %d: %v %v", i, data, err)
				}
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "a/b"))
			for _, e := range entries {
				if IsTemp(e.Name()) {
					t.Errorf("temporary file left: %s", e.Name())
				}
			}
		})
	}
}

func TestDirAbortAndNames(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	d, err := OpenDir(root, ".")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tmp, err := d.WriteTemp("x.jpg", []byte("x"), Later)
	if err != nil {
		t.Fatal(err)
	}
	tmp.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left after Abort: %v", entries)
	}
	for _, bad := range []string{"a/x.jpg", "../x.jpg", ".."} {
		if _, err := d.WriteTemp(bad, nil, Never); err == nil {
			t.Errorf("%q: accepted as a base name", bad)
		}
	}
	// A symlink out of root is not a folder to write into.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skip(err)
	}
	if d, err := OpenDir(root, "link"); err == nil {
		d.Close()
		t.Error("opened a folder outside root through a symlink")
	}
}
