package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.jpg")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(file, link); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		path   string
		follow bool
		want   error // nil: opened
	}{
		{file, false, nil},
		{link, true, nil},
		{link, false, ErrSymlink},
		{dir, true, ErrNotRegular},
	} {
		f, size, err := Open(tc.path, tc.follow)
		if tc.want == nil && (err != nil || size != 1) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Open(%s, %v): %v, want %v", filepath.Base(tc.path), tc.follow, err, tc.want)
		}
		if f != nil {
			f.Close()
		}
	}
	if runtime.GOOS != "windows" {
		if _, _, err := Open("/dev/null", true); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open(/dev/null): %v, want ErrNotRegular", err)
		}
	}
}
