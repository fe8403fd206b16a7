package stages

import (
	"image"
	"math"
	"strings"
	"testing"
)

func TestGeometry(t *testing.T) {
	tests := []struct {
		name      string
		o         Output
		w, h      int
		outW      int
		outH      int
		crop      image.Rectangle
		cropWhole bool
	}{
		{"keep size", Output{}, 400, 300, 400, 300, image.Rectangle{}, true},
		{"width only", Output{Width: 200}, 400, 300, 200, 150, image.Rectangle{}, true},
		{"height only", Output{Height: 100}, 400, 300, 133, 100, image.Rectangle{}, true},
		{"fit box landscape", Output{Width: 100, Height: 100}, 400, 300, 100, 75, image.Rectangle{}, true},
		{"fit box portrait", Output{Width: 100, Height: 100}, 300, 400, 75, 100, image.Rectangle{}, true},
		{"odd height rounds", Output{Width: 800}, 2560, 3837, 800, 1199, image.Rectangle{}, true},
		{"no enlarge", Output{Width: 800}, 160, 100, 160, 100, image.Rectangle{}, true},
		{"enlarge", Output{Width: 320, Enlarge: true}, 160, 100, 320, 200, image.Rectangle{}, true},
		{"extreme line keeps 1px", Output{Width: 100}, 30000, 1, 100, 1, image.Rectangle{}, true},
		{"fill center", Output{Width: 100, Height: 100, Fit: "fill"}, 400, 300, 100, 100, image.Rect(50, 0, 350, 300), false},
		{"fill top", Output{Width: 100, Height: 100, Fit: "fill", Anchor: "top"}, 300, 400, 100, 100, image.Rect(0, 0, 300, 300), false},
		{"fill bottom-right", Output{Width: 100, Height: 100, Fit: "fill", Anchor: "bottom-right"}, 300, 400, 100, 100, image.Rect(0, 100, 300, 400), false},
		{"fill small source no enlarge", Output{Width: 400, Height: 400, Fit: "fill"}, 300, 200, 300, 200, image.Rect(0, 0, 300, 200), false},
		{"fill one side free is fit", Output{Width: 100, Fit: "fill"}, 400, 300, 100, 75, image.Rectangle{}, true},
		{"fill focal left clamps", Output{Width: 100, Height: 100, Fit: "fill", Focal: &[2]float64{0.1, 0.5}}, 400, 300, 100, 100, image.Rect(0, 0, 300, 300), false},
		{"fill focal right clamps", Output{Width: 100, Height: 100, Fit: "fill", Focal: &[2]float64{0.9, 0.5}}, 400, 300, 100, 100, image.Rect(100, 0, 400, 300), false},
		{"fill focal centres", Output{Width: 100, Height: 100, Fit: "fill", Focal: &[2]float64{0.6, 0.1}}, 400, 300, 100, 100, image.Rect(90, 0, 390, 300), false},
		{"fill focal beats anchor", Output{Width: 100, Height: 50, Fit: "fill", Anchor: "top", Focal: &[2]float64{0.5, 0.75}}, 400, 400, 100, 50, image.Rect(0, 200, 400, 400), false},
		{"fill smart anchor planned centred", Output{Width: 100, Height: 100, Fit: "fill", Anchor: "attention"}, 400, 300, 100, 100, image.Rect(50, 0, 350, 300), false},
		{"pad box", Output{Width: 100, Height: 100, Fit: "pad"}, 400, 300, 100, 100, image.Rectangle{}, true},
		{"pad small source keeps box", Output{Width: 500, Height: 500, Fit: "pad"}, 400, 300, 500, 500, image.Rectangle{}, true},
		{"pad one side free is fit", Output{Width: 100, Fit: "pad"}, 400, 300, 100, 75, image.Rectangle{}, true},
		{"stretch exact", Output{Width: 100, Height: 50, Fit: "stretch"}, 400, 300, 100, 50, image.Rectangle{}, true},
		{"stretch no enlarge clamps", Output{Width: 500, Height: 50, Fit: "stretch"}, 400, 300, 400, 50, image.Rectangle{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h, crop := tt.o.geometry(tt.w, tt.h)
			if w != tt.outW || h != tt.outH {
				t.Errorf("size = %dx%d, want %dx%d", w, h, tt.outW, tt.outH)
			}
			want := tt.crop
			if tt.cropWhole {
				want = image.Rect(0, 0, tt.w, tt.h)
			}
			if crop != want {
				t.Errorf("crop = %v, want %v", crop, want)
			}
		})
	}
}

// Pad places the fitted image by the anchor; the background is
// transparent only where the format has alpha and none was given.
func TestPadTarget(t *testing.T) {
	tests := []struct {
		o      Output
		src    string
		place  image.Rectangle
		bg     string
		format string
	}{
		{Output{Width: 100, Height: 100, Fit: "pad"}, "jpeg", image.Rect(0, 12, 100, 87), "white", "jpeg"},
		{Output{Width: 100, Height: 100, Fit: "pad", Anchor: "bottom"}, "png", image.Rect(0, 25, 100, 100), "transparent", "png"},
		{Output{Width: 100, Height: 100, Fit: "pad", Format: "png"}, "jpeg", image.Rect(0, 12, 100, 87), "transparent", "png"},
		{Output{Width: 100, Height: 100, Fit: "pad", Format: "png", Background: "white"}, "jpeg", image.Rect(0, 12, 100, 87), "white", "png"},
		{Output{Width: 100, Height: 100, Fit: "pad", Format: "bmp"}, "png", image.Rect(0, 12, 100, 87), "white", "bmp"},
		{Output{Width: 100, Height: 100, Fit: "fill", Format: "png"}, "png", image.Rectangle{}, "white", "png"},
	}
	for _, tt := range tests {
		t.Run(tt.o.Fit+"-"+tt.o.Anchor+"-"+tt.format+"-"+tt.o.Background, func(t *testing.T) {
			got := tt.o.Target("a."+tt.src, tt.src, 400, 300)
			if got.Place != tt.place || got.Output.Background != tt.bg || got.Format != tt.format {
				t.Errorf("place %v, background %q, format %s; want %v, %q, %s", got.Place, got.Output.Background, got.Format, tt.place, tt.bg, tt.format)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		o      Output
		rel    string
		format string
		want   string
	}{
		{Output{}, "a/IMG_1.JPG", "jpeg", "a/IMG_1.JPG"},
		{Output{}, "photo.jpeg", "jpeg", "photo.jpeg"},
		{Output{}, "scan", "jpeg", "scan.jpg"},
		{Output{}, "pic.webp", "jpeg", "pic.jpg"},
		{Output{}, "x.png", "png", "x.png"},
		{Output{}, "x.tif", "tiff", "x.tif"},
		{Output{Name: "{name}-{width}x{height}.{format}"}, "d/x.png", "jpeg", "d/x-80x60.jpeg"},
		{Output{Name: "small/{name}.{ext}"}, "d/x.png", "png", "d/small/x.png"},
		{Output{}, "archive.tar.png", "png", "archive.tar.png"},
	}
	for _, tt := range tests {
		t.Run(tt.rel+"->"+tt.want, func(t *testing.T) {
			if got := tt.o.WithDefaults().fileName(tt.rel, tt.format, 80, 60); got != tt.want {
				t.Errorf("FileName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOutputValidate(t *testing.T) {
	tests := []struct {
		o    Output
		want string // substring of the error; "" for valid
	}{
		{Output{}, ""},
		{Output{Width: -1}, "output.width"},
		{Output{Quality: 101}, "output.quality"},
		{Output{Sharpen: math.NaN()}, "output.sharpen"},
		{Output{Fit: "cover"}, "output.fit"},
		{Output{Anchor: "middle"}, "output.anchor"},
		{Output{Fit: "pad", Anchor: "entropy"}, ""},
		{Output{Focal: &[2]float64{0.5, 1}}, ""},
		{Output{Focal: &[2]float64{1.5, 0.5}}, "output.focal"},
		{Output{Focal: &[2]float64{0.5, math.NaN()}}, "output.focal"},
		{Output{Filter: "bicubic"}, "output.filter"},
		{Output{Format: "avif"}, "output.format"},
		{Output{Background: "#12345"}, "output.background"},
		{Output{Name: "static.jpg"}, "must contain {name}"},
		{Output{Name: "../{name}.jpg"}, "must not contain"},
		{Output{Name: "/abs/{name}.jpg"}, "relative"},
	}
	for _, tt := range tests {
		err := tt.o.Validate("output")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.o, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want it to mention %q", tt.o, err, tt.want)
		}
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string][4]uint8{
		"white": {255, 255, 255, 255}, "#000": {0, 0, 0, 255}, "#ff8000": {255, 128, 0, 255},
		"#11223344": {0x11, 0x22, 0x33, 0x44}, "transparent": {},
	} {
		c, err := parseColor(in)
		if err != nil || [4]uint8{c.R, c.G, c.B, c.A} != want {
			t.Errorf("parseColor(%q) = %v, %v; want %v", in, c, err, want)
		}
	}
	if _, err := parseColor("blue-ish"); err == nil {
		t.Error("parseColor accepted a bad colour")
	}
}
