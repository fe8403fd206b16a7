package stages

import (
	"bytes"
	"context"
	"image"
	"runtime/debug"
	"testing"
)

// TestRecycledResize resizes real photos JPEG to JPEG one after the other,
// each time into the memory the previous one gave back, and checks every
// output against the same resize into fresh memory: recycled planes hold
// nothing of the photo before (a smaller image after a larger one, other
// aspect ratios, 4:4:4 at quality 90).
func TestRecycledResize(t *testing.T) {
	photos := []string{
		"photos/plasma_FallenLeaf_2560x1600.jpg",
		"photos/camera_Nikon_P6000_GPS.jpg",
		"formats/progressive.jpeg",
		"photos/friends_by_Aitzol_Berasategi.jpg",
		"edge/no_extension_jpeg",
	}
	sizes := []struct{ w, h, q int }{{200, 200, 85}, {96, 64, 85}, {150, 150, 92}}
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection would empty the pool
	resize := Resize()
	given, reused := map[*byte]bool{}, 0
	for _, s := range sizes {
		for _, file := range photos {
			src := testdataImage(t, ".", file)
			ycc, ok := src.(*image.YCbCr)
			if !ok {
				t.Fatalf("%s: %T, want a YCbCr image", file, src)
			}
			t.Run(file, func(t *testing.T) {
				tg := Target{Width: s.w, Height: s.h, Crop: ycc.Rect, Format: "jpeg", Output: Output{Fit: "stretch", Quality: s.q}.WithDefaults()}
				fresh := resizeOne(ycc, ycc.Bounds(), tg)
				r, err := resize(context.Background(), &Decoded{Image: cloneYCbCr(ycc), Width: ycc.Rect.Dx(), Height: ycc.Rect.Dy(), Targets: []Target{tg}})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.pooled) != 1 {
					t.Fatalf("%d images from the pool, want 1", len(r.pooled))
				}
				got, want := r.Images[0].(*image.YCbCr), fresh.(*image.YCbCr)
				if got.Rect != want.Rect || got.SubsampleRatio != want.SubsampleRatio ||
					!bytes.Equal(got.Y, want.Y) || !bytes.Equal(got.Cb, want.Cb) || !bytes.Equal(got.Cr, want.Cr) {
					t.Fatalf("%v %v: resized into recycled memory differs from a fresh resize", got.Rect, got.SubsampleRatio)
				}
				if given[&got.Y[:1][0]] {
					reused++
				}
				given[&got.Y[:1][0]] = true
				r.Recycle()
				r.Recycle() // harmless
			})
		}
	}
	if reused == 0 {
		t.Error("no resize reused recycled memory")
	}
	t.Logf("%d of %d resizes into recycled memory", reused, len(sizes)*len(photos))
}

// cloneYCbCr copies m, so that the resize stage may recycle it.
func cloneYCbCr(m *image.YCbCr) *image.YCbCr {
	c := *m
	c.Y, c.Cb, c.Cr = bytes.Clone(m.Y), bytes.Clone(m.Cb), bytes.Clone(m.Cr)
	return &c
}
