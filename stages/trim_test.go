package stages

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"
)

// --trim removes a flat border, so outputs are sized and cropped from the
// photo inside it; a photo without a border is left whole.
func TestTrim(t *testing.T) {
	// A border of JPEG-noisy off-white and one of black, on both formats.
	offWhite := func(x, y int) color.Color { v := uint8(245 + (x*7+y*3)%5); return color.RGBA{v, v, v - 2, 255} }
	black := func(x, y int) color.Color { return color.RGBA{0, 0, 0, 255} }
	tests := []struct {
		name    string
		photo   string
		w, h    int
		subject image.Rectangle
		bg      func(x, y int) color.Color
		jpeg    bool
		slack   int // pixels the trimmed box may be off (JPEG ringing, shrink-on-load)
	}{
		{"off-white png", "camera_Nikon_P6000_GPS.jpg", 1000, 800, image.Rect(120, 200, 760, 680), offWhite, false, 0},
		{"black jpeg", "camera_Nikon_P6000_GPS.jpg", 1000, 800, image.Rect(300, 40, 940, 520), black, true, 16}, // colour rings through a 16 px 4:2:0 block
		{"portrait in a wide jpeg, shrunk on load", "friends_by_Aitzol_Berasategi.jpg", 3000, 2000, image.Rect(1000, 100, 1600, 1000), offWhite, true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := subjectOnCanvas(t, tt.photo, tt.w, tt.h, tt.subject, tt.bg, tt.jpeg)
			fit := Output{Width: 320, Height: 320, Trim: true}
			if tt.jpeg {
				// Shrink-on-load, planned from the whole image, must leave
				// the trimmed box at least as many pixels as its output.
				d, err := decodeFile(t, path, decodeOpts{Outputs: []Output{fit}})
				if err != nil {
					t.Fatal(err)
				}
				have := float64(d.Image.Bounds().Dx()) / float64(tt.w) * float64(tt.subject.Dx())
				if need := float64(320*tt.subject.Dx()) / float64(max(tt.subject.Dx(), tt.subject.Dy())); have < need {
					t.Errorf("decoded %v: the trimmed box has %.0f pixels across for an output %.0f wide", d.Image.Bounds().Size(), have, need)
				}
			}
			fill := Output{Width: 200, Height: 200, Fit: "fill", Trim: true}
			pad := Output{Width: 200, Height: 200, Fit: "pad", Trim: true, Format: "png"}
			ts := targetsAfterResize(t, path, fit, fill, pad)
			sw, sh := tt.subject.Dx(), tt.subject.Dy()
			near := func(a, b int) bool { return a-b <= tt.slack && b-a <= tt.slack }
			// fit: the whole subject, its aspect ratio.
			c := ts[0].Crop
			if !near(c.Min.X, tt.subject.Min.X) || !near(c.Min.Y, tt.subject.Min.Y) || !near(c.Max.X, tt.subject.Max.X) || !near(c.Max.Y, tt.subject.Max.Y) {
				t.Errorf("fit: crop %v, want the subject %v", c, tt.subject)
			}
			if wantW, wantH := 320*sw/max(sw, sh), 320*sh/max(sw, sh); !nearInt(ts[0].Width, wantW, 2) || !nearInt(ts[0].Height, wantH, 2) {
				t.Errorf("fit: %dx%d, want about %dx%d (the subject's aspect)", ts[0].Width, ts[0].Height, wantW, wantH)
			}
			// fill: a square inside the subject.
			if !ts[1].Crop.In(tt.subject.Inset(-tt.slack)) || ts[1].Width != 200 || ts[1].Height != 200 {
				t.Errorf("fill: crop %v, %dx%d; want a 200x200 from inside %v", ts[1].Crop, ts[1].Width, ts[1].Height, tt.subject)
			}
			// pad: the subject fitted in the box, touching two sides.
			if p := ts[2].Place; p.Dx() != 200 && p.Dy() != 200 || ts[2].Width != 200 || ts[2].Height != 200 {
				t.Errorf("pad: place %v in %dx%d, want the subject touching the 200x200 box", p, ts[2].Width, ts[2].Height)
			}
		})
	}
	t.Run("no border", func(t *testing.T) {
		path := filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg")
		ts := targetsAfterResize(t, path, Output{Width: 800, Trim: true})
		if ts[0].Crop != image.Rect(0, 0, 2560, 1600) || ts[0].Width != 800 || ts[0].Height != 500 {
			t.Errorf("crop %v, %dx%d; want the whole 2560x1600 photo at 800x500", ts[0].Crop, ts[0].Width, ts[0].Height)
		}
	})
}

func nearInt(a, b, slack int) bool { return a-b <= slack && b-a <= slack }
