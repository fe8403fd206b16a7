package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"path/filepath"
	"testing"
)

// TestNewYCbCrLayout: newYCbCr makes the planes image.NewYCbCr makes, for
// every subsampling and odd sizes, zeroed even from recycled memory.
func TestNewYCbCrLayout(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, sz := range []image.Point{{1, 1}, {7, 5}, {16, 16}, {33, 17}, {640, 427}} {
			t.Run(fmt.Sprintf("%v/%dx%d", ratio, sz.X, sz.Y), func(t *testing.T) {
				want := image.NewYCbCr(image.Rect(0, 0, sz.X, sz.Y), ratio)
				for round := range 2 {
					got := newYCbCr(sz.X, sz.Y, ratio)
					if got.Rect != want.Rect || got.YStride != want.YStride || got.CStride != want.CStride ||
						len(got.Y) != len(want.Y) || len(got.Cb) != len(want.Cb) || len(got.Cr) != len(want.Cr) {
						t.Fatalf("round %d: rect %v strides %d,%d planes %d,%d,%d; want %v %d,%d %d,%d,%d", round,
							got.Rect, got.YStride, got.CStride, len(got.Y), len(got.Cb), len(got.Cr),
							want.Rect, want.YStride, want.CStride, len(want.Y), len(want.Cb), len(want.Cr))
					}
					for _, p := range [][]byte{got.Y, got.Cb, got.Cr} {
						if i := bytes.IndexFunc(p, func(r rune) bool { return r != 0 }); i >= 0 {
							t.Fatalf("round %d: a plane is not zeroed at %d", round, i)
						}
						for i := range p {
							p[i] = 0xAB // dirty it for the next round
						}
					}
					Recycle(got)
				}
			})
		}
	}
}

// TestRecycledDecode: an image decoded into the planes of an earlier one
// is the image decoded into fresh memory, for each file of a set of real
// photos of several layouts (4:2:0, 4:1:1, progressive, truncated), and
// Recycle leaves alone the images Decode did not make.
func TestRecycledDecode(t *testing.T) {
	files := []string{
		"video-001.jpeg", "video-001.q50.411.jpeg", "video-001.q50.410.progressive.jpeg",
		"video-001.progressive.truncated.jpeg", "camera_Canon_40D_100x68.jpg", "3x3_420.jpg",
	}
	decode := func(name string, scale int) (image.Image, error) {
		return Decode(bytes.NewReader(readFile(t, filepath.Join("testdata", name))), &Options{Scale: scale})
	}
	for _, scale := range []int{1, 2} {
		var fresh []image.Image
		for _, name := range files {
			img, err := decode(name, scale)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			fresh = append(fresh, img)
		}
		for i, name := range files {
			t.Run(fmt.Sprintf("%s/scale%d", name, scale), func(t *testing.T) {
				// Decode the previous file, scribble on it, give it back.
				prev, err := decode(files[(i+len(files)-1)%len(files)], scale)
				if err != nil {
					t.Fatal(err)
				}
				if m, ok := prev.(*image.YCbCr); ok {
					for _, p := range [][]byte{m.Y[:cap(m.Y)], m.Cr} {
						for j := range p {
							p[j] = 0x5A
						}
					}
				}
				Recycle(prev)
				got, err := decode(name, scale)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := fresh[i].(*image.YCbCr)
				g, _ := got.(*image.YCbCr)
				if want == nil || g == nil {
					t.Fatalf("decoded %T and %T, want *image.YCbCr", fresh[i], got)
				}
				if g.Rect != want.Rect || !bytes.Equal(g.Y, want.Y) || !bytes.Equal(g.Cb, want.Cb) || !bytes.Equal(g.Cr, want.Cr) {
					t.Error("the recycled decode differs from the fresh one")
				}
			})
		}
	}
	other := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	Recycle(other) // not newYCbCr's layout (Y's capacity ends with it): ignored
	if got := newYCbCr(8, 8, image.YCbCrSubsampleRatio420); &got.Y[0] == &other.Y[0] {
		t.Error("Recycle kept an image Decode did not make")
	}
}
