package meta

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// A profile over MaxICC is dropped and its size reported, never failing
// the read (issue #18.6: a 16 MiB profile failed the image, a 15 MiB one
// rode along in every output); a PNG profile is inflated no further than
// the cap.
func TestReadDropsHugeProfile(t *testing.T) {
	var plain bytes.Buffer
	if err := png.Encode(&plain, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size        int
		keep        bool
		wantDropped int64
	}{
		{MaxICC, true, 0},
		{MaxICC + 1, false, MaxICC + 1},
		{5 << 20, false, MaxICC + 1},
	} {
		icc := bytes.Repeat([]byte{7}, tc.size)
		file, err := EmbedPNG(plain.Bytes(), icc, nil)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Read(bytes.NewReader(file), "png")
		if err != nil {
			t.Fatal(err)
		}
		if tc.keep != (len(info.ICC) == tc.size) || info.DroppedICC != tc.wantDropped {
			t.Errorf("%d byte profile: kept %d bytes, dropped %d; want kept %v, dropped %d",
				tc.size, len(info.ICC), info.DroppedICC, tc.keep, tc.wantDropped)
		}
	}
	// Formats whose profile is stored as it is report its size.
	jpg, err := EmbedJPEG([]byte("\xff\xd8\xff\xd9"), bytes.Repeat([]byte{7}, 5<<20), nil)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := Read(bytes.NewReader(jpg), "jpeg"); info.ICC != nil || info.DroppedICC != 5<<20 {
		t.Errorf("JPEG with a 5 MiB profile: kept %d, dropped %d", len(info.ICC), info.DroppedICC)
	}
}
