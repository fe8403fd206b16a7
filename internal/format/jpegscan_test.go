package format

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// jpegScans agrees with isProgressive on the frame, and counts scans as
// internal/jpeg does (one per SOS), through entropy-coded data, stuffed
// bytes and restart markers.
func TestJPEGScans(t *testing.T) {
	for file, want := range map[string]int{
		"../../testdata/formats/progressive.jpeg":                -1, // several
		"../../testdata/photos/camera_Nikon_P6000_GPS.jpg":       1,
		"../../testdata/edge/IMG_0001.JPG":                       1,
		"../../testdata/formats/cmyk.jpeg":                       1,
		"../../stages/testdata/attack/pj4_999.jpg":               999,
		"../../stages/testdata/attack/deadlock.jpg":              1,
		"../../testdata/orientation/Landscape_6.jpg":             1,
		"../../testdata/formats/gray.jpg":                        1,
		"../../testdata/formats/display_p3.jpg":                  1,
		"../../testdata/formats/gray_or_410.jpeg":                1,
		"../../testdata/formats/arithmetic.jpg":                  1,
		"../../testdata/photos/friends_by_Aitzol_Berasategi.jpg": 10,
	} {
		data, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil {
			t.Fatal(err)
		}
		p, n := jpegScans(bytes.NewReader(data), 10000)
		if p != isProgressive(data) {
			t.Errorf("%s: progressive %v, isProgressive %v", file, p, !p)
		}
		if want > 0 && n != want || want < 0 && n < 2 {
			t.Errorf("%s: %d scans, want %d", file, n, want)
		}
		if _, n := jpegScans(bytes.NewReader(data), 3); n > 4 {
			t.Errorf("%s: counted %d scans with limit 3", file, n)
		}
	}
}
