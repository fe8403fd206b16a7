package stages

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/imgpipe/imgpipe/internal/format"
)

// --fit pad gives exactly the box, the photo fitted inside and placed by
// the anchor, the rest the background: transparent in formats with alpha
// unless a background is given, the background colour in the others.
func TestPad(t *testing.T) {
	const photo = "camera_Nikon_P6000_GPS.jpg" // 640x480: 300x225 inside 300x300, 400x300 inside 400x400 tall boxes
	tests := []struct {
		name       string
		o          Output
		place      [4]int // x0, y0, x1, y1 of the photo in the output
		background [4]int // r, g, b, a of the border; a < 0: the format's default
	}{
		{"center png", Output{Format: "png"}, [4]int{0, 37, 300, 262}, [4]int{0, 0, 0, 0}},
		{"top png", Output{Format: "png", Anchor: "top"}, [4]int{0, 0, 300, 225}, [4]int{0, 0, 0, 0}},
		{"bottom jpeg", Output{Format: "jpeg", Anchor: "bottom"}, [4]int{0, 75, 300, 300}, [4]int{255, 255, 255, 255}},
		{"bottom-right gif", Output{Format: "gif", Anchor: "bottom-right"}, [4]int{0, 75, 300, 300}, [4]int{0, 0, 0, 0}},
		{"center bmp", Output{Format: "bmp"}, [4]int{0, 37, 300, 262}, [4]int{255, 255, 255, 255}},
		{"explicit red png", Output{Format: "png", Background: "#ff0000"}, [4]int{0, 37, 300, 262}, [4]int{255, 0, 0, 255}},
		{"explicit black jpeg", Output{Format: "jpeg", Background: "black", Anchor: "top"}, [4]int{0, 0, 300, 225}, [4]int{0, 0, 0, 255}},
		{"tall box left", Output{Format: "png", Width: 200, Height: 400, Anchor: "left"}, [4]int{0, 125, 200, 275}, [4]int{0, 0, 0, 0}},
		{"tall box bottom", Output{Format: "png", Width: 200, Height: 400, Anchor: "bottom"}, [4]int{0, 250, 200, 400}, [4]int{0, 0, 0, 0}},
		{"wide box left", Output{Format: "png", Width: 600, Height: 300, Anchor: "left"}, [4]int{0, 0, 400, 300}, [4]int{0, 0, 0, 0}},
		{"wide box right", Output{Format: "tiff", Width: 600, Height: 300, Anchor: "right"}, [4]int{200, 0, 600, 300}, [4]int{0, 0, 0, 0}},
		{"no enlarge: photo kept at its size", Output{Format: "png", Width: 1000, Height: 1000}, [4]int{180, 260, 820, 740}, [4]int{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Fit = "pad"
			if o.Width == 0 {
				o.Width, o.Height = 300, 300
			}
			e := runStages(t, filepath.Join("photos", photo), decodeOpts{Outputs: []Output{o}})
			img, err := format.ByName(o.Format).Decode(bytes.NewReader(e.Files[0]), 1)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != o.Width || b.Dy() != o.Height {
				t.Fatalf("output is %dx%d, want exactly the box, %dx%d", b.Dx(), b.Dy(), o.Width, o.Height)
			}
			p := tt.place
			rgba := func(x, y int) [4]int {
				r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				return [4]int{int(r >> 8), int(g >> 8), int(bl >> 8), int(a >> 8)}
			}
			near := func(got, want [4]int) bool {
				for i := range got {
					if d := got[i] - want[i]; d > 8 || d < -8 {
						return false
					}
				}
				return true
			}
			// Just inside each corner of the photo: photo pixels, opaque.
			for _, pt := range [][2]int{{p[0] + 2, p[1] + 2}, {p[2] - 3, p[1] + 2}, {p[0] + 2, p[3] - 3}, {p[2] - 3, p[3] - 3}} {
				if c := rgba(pt[0], pt[1]); c[3] != 255 || near(c, tt.background) {
					t.Errorf("photo pixel %v is %v: want the photo there, opaque", pt, c)
				}
			}
			// Everywhere outside the photo (and the pixels next to it that
			// JPEG's 8x8 blocks ring into), along the middle lines and the
			// edges: background.
			m := 2
			if o.Format == "jpeg" {
				m = 8
			}
			for x := range o.Width {
				for _, y := range []int{o.Height / 2, 1, o.Height - 2} {
					if inside := x >= p[0]-m && x < p[2]+m && y >= p[1]-m && y < p[3]+m; !inside {
						if c := rgba(x, y); !near(c, tt.background) {
							t.Fatalf("border pixel (%d,%d) is %v, want %v", x, y, c, tt.background)
						}
					}
				}
			}
			for y := range o.Height {
				x := o.Width / 2
				if inside := y >= p[1]-m && y < p[3]+m; !inside {
					if c := rgba(x, y); !near(c, tt.background) {
						t.Fatalf("border pixel (%d,%d) is %v, want %v", x, y, c, tt.background)
					}
				}
			}
		})
	}
}
