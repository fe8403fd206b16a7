package stages

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// cost runs f and returns how long it took and how many bytes it
// allocated (TotalAlloc: every allocation, freed or not).
func cost(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// sparse writes head into a new file named name in a temporary folder and
// extends it to size bytes without writing them (a sparse file: no disk).
func sparse(t *testing.T, name string, head []byte, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	return p
}

// A huge file is refused from its first bytes and its size, in bounded
// time and memory, whatever it claims to be (issue #18.1, #12.5): before,
// a sparse 1 TB PNG was read whole into a 1 TB buffer (out of memory).
func TestDecodeHugeFilesRefusedCheaply(t *testing.T) {
	png, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "alpha.png"))
	if err != nil {
		t.Fatal(err)
	}
	jpg, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		head []byte
		size int64
		want error
	}{
		{"b.png", png, 1 << 40, ErrTooLarge},
		{"c.jpg", jpg[:4096], 3 << 30, ErrTooLarge},
		{"zeros.jpg", nil, 1 << 40, ErrNotImage},
		{"zeros.png", nil, 5 << 30, ErrNotImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sparse(t, tc.name, tc.head, tc.size)
			var err error
			took, alloc := cost(func() { _, err = decodeFile(t, p, decodeOpts{}) })
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if took > 50*time.Millisecond || alloc > 20<<20 {
				t.Errorf("refusing a %d GiB file took %v and allocated %d bytes; want < 50ms, < 20 MB", tc.size>>30, took, alloc)
			}
		})
	}
}

func pngHead(w, h uint32) []byte  { head, _, _ := bigHeader("png", w, h, 0); return head }
func jpegHead(w, h uint32) []byte { head, _, _ := bigHeader("jpeg", w, h, 0); return head }

// endless is a reader that never ends: prefix, then zeros.
type endless struct{ prefix []byte }

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.prefix)
	e.prefix = e.prefix[n:]
	clear(p[n:])
	return len(p), nil
}

// An endless input (a /dev/zero behind a File.Open) is refused by its
// first bytes, or read no further than its size or max_file_size.
func TestDecodeEndlessInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix []byte
		size   int64 // File.Size
		limit  int64 // MaxFileSize
		want   error
	}{
		{"zeros", nil, 0, 0, ErrNotImage},
		{"jpeg then zeros, size known", []byte("\xff\xd8\xff\xe0"), 100 << 10, 0, ErrTooLarge},
		{"jpeg then zeros, max_file_size", []byte("\xff\xd8\xff\xe0"), 0, 1 << 20, ErrTooLarge},
		// Over max_pixels from the header in its first 64 KiB: before, the
		// stream was read to max_file_size (816 MB) before the header.
		{"png header over max_pixels", pngHead(20000, 20000), 0, 0, ErrTooLarge},
		{"jpeg header over max_pixels", jpegHead(20000, 20000), 0, 0, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := File{Path: "zero.jpg", Rel: "zero.jpg", Size: tc.size, Open: func() (io.ReadCloser, error) {
				return io.NopCloser(&endless{prefix: tc.prefix}), nil
			}}
			var err error
			took, alloc := cost(func() {
				_, err = decodeOpts{MaxFileSize: tc.limit}.stage()(context.Background(), f)
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if took > time.Second || alloc > 20<<20 {
				t.Errorf("took %v and allocated %d bytes", took, alloc)
			}
		})
	}
}

// An input read whole through File.Open honours cancellation.
func TestDecodeEndlessInputCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := File{Path: "zero.jpg", Rel: "zero.jpg", Open: func() (io.ReadCloser, error) {
		cancel()
		return io.NopCloser(&endless{prefix: []byte("\xff\xd8\xff\xe0")}), nil
	}}
	if _, err := (decodeOpts{}).stage()(ctx, f); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// An input swapped for a symbolic link after the scan saw it (to
// /dev/zero: endless) is refused when opened, unless the scan accepted a
// link there; then what it points to must still be a regular file.
func TestDecodeSwappedForSymlink(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.jpg")
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Skip(err)
	}
	for _, link := range []bool{false, true} {
		var err error
		took, alloc := cost(func() {
			_, err = decodeOpts{}.stage()(context.Background(), File{Path: p, Rel: "a.jpg", Size: 1000, Link: link})
		})
		if err == nil || took > 50*time.Millisecond || alloc > 1<<20 {
			t.Errorf("link accepted %v: error %v after %v, %d bytes allocated; want an error at once", link, err, took, alloc)
		}
	}
	// A link the scan accepted, to a regular file, is followed.
	jpg, err := filepath.Abs(filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "b.jpg")
	if err := os.Symlink(jpg, q); err != nil {
		t.Fatal(err)
	}
	if _, err := (decodeOpts{}).stage()(context.Background(), File{Path: q, Rel: "b.jpg", Link: true}); err != nil {
		t.Errorf("accepted link to a photo: %v", err)
	}
	if _, err := (decodeOpts{}).stage()(context.Background(), File{Path: q, Rel: "b.jpg"}); err == nil {
		t.Errorf("link the scan did not accept: followed")
	}
}

// A file that grows between open and read is refused, not read further.
func TestDecodeGrowingFile(t *testing.T) {
	jpg, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "g.jpg")
	if err := os.WriteFile(p, jpg, 0o644); err != nil {
		t.Fatal(err)
	}
	stage := Decode(DecodeOptions{}, func(f File, format string, w, h int) ([]Target, error) {
		fd, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer fd.Close()
		_, err = fd.Write(bytes.Repeat([]byte{0}, 1000)) // the writer goes on after the header was read
		return planSame(f, format, w, h)
	}, nil)
	if _, err := stage(context.Background(), File{Path: p, Rel: "g.jpg"}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("error %v, want the growth refused", err)
	}
}
