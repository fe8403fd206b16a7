package inputfile

import (
	"errors"
	"io"
	"io/fs"
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

// ReadAt reads as io.ReaderAt does: whole, or io.EOF past the end; a
// closed File refuses reads and a second Close instead of touching a
// descriptor number some other file may have by then.
func TestReadAt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jpg")
	data := []byte("0123456789")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, size, err := Open(p, false)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("Open: size %d, %v", size, err)
	}
	for _, tc := range []struct {
		off, n int
		want   string
		eof    bool
	}{
		{0, 4, "0123", false},
		{6, 4, "6789", false},
		{6, 5, "6789", true},
		{10, 1, "", true},
	} {
		buf := make([]byte, tc.n)
		n, err := f.ReadAt(buf, int64(tc.off))
		if string(buf[:n]) != tc.want || (err == io.EOF) != tc.eof || err != nil && err != io.EOF {
			t.Errorf("ReadAt(%d bytes at %d) = %q, %v; want %q, EOF %v", tc.n, tc.off, buf[:n], err, tc.want, tc.eof)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v, want fs.ErrClosed", err)
	}

	head := make([]byte, 32)
	if n, err := ReadHead(p, false, head); err != nil || string(head[:n]) != string(data) {
		t.Errorf("ReadHead: %q, %v", head[:n], err)
	}
	if _, err := ReadHead(t.TempDir(), false, head); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadHead(folder): %v, want ErrNotRegular", err)
	}
}
