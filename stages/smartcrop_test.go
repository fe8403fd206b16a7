package stages

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// subjectOnCanvas writes, as a PNG (or a JPEG, quality 90) in a temporary
// folder, a photo of ../testdata/photos resized to the size of at and
// pasted there on a w x h canvas painted by bg. It returns the file's path.
func subjectOnCanvas(t *testing.T, photo string, w, h int, at image.Rectangle, bg func(x, y int) color.Color, asJPEG bool) string {
	t.Helper()
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", photo), decodeOpts{})
	if err != nil {
		t.Fatal(err)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			canvas.Set(x, y, bg(x, y))
		}
	}
	subject := resample(d.Image, d.Image.Bounds(), at.Dx(), at.Dy(), filters["lanczos"])
	draw.Draw(canvas, at, subject, subject.Bounds().Min, draw.Src)
	name := filepath.Join(t.TempDir(), "composed.png")
	if asJPEG {
		name = filepath.Join(filepath.Dir(name), "composed.jpg")
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if asJPEG {
		err = jpeg.Encode(f, canvas, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(f, canvas)
	}
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// targetsAfterResize decodes and resizes path with outputs and returns the
// targets as the resize stage laid them out.
func targetsAfterResize(t *testing.T, path string, outputs ...Output) []Target {
	t.Helper()
	d, err := decodeFile(t, path, decodeOpts{Outputs: outputs})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resize()(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range r.Images {
		if got, want := img.Bounds().Size(), (image.Pt(r.Targets[i].Width, r.Targets[i].Height)); got != want {
			t.Errorf("output %d is %v, its target %v", i, got, want)
		}
	}
	return r.Targets
}

var (
	flatBackground = func(x, y int) color.Color { return color.RGBA{200, 205, 210, 255} }
	// A soft sky: a vertical gradient, no edges, little colour.
	skyBackground = func(x, y int) color.Color {
		v := uint8(150 + y/8)
		return color.RGBA{v - 20, v - 10, v, 255}
	}
)

// With the subject far off centre on a flat or low-detail canvas, center
// cuts it off; attention, entropy and a focal point on it keep all of it.
func TestSmartCropKeepsSubject(t *testing.T) {
	type scene struct {
		name    string
		photo   string
		w, h    int
		subject image.Rectangle
		bg      func(x, y int) color.Color
		jpeg    bool
	}
	scenes := []scene{
		{"dogs left third of a flat wide canvas", "friends_by_Aitzol_Berasategi.jpg", 1800, 600, image.Rect(40, 50, 373, 550), flatBackground, false},
		{"landscape left third of a sky", "camera_Nikon_P6000_GPS.jpg", 2400, 800, image.Rect(60, 250, 660, 700), skyBackground, true},
		{"painting right third of a flat canvas", "Painting-Colors_by__herobrine7gamer.jpg", 1800, 600, image.Rect(1300, 100, 1750, 400), flatBackground, true},
		{"people at the bottom of a tall sky", "friends_by_Aitzol_Berasategi.jpg", 600, 1800, image.Rect(100, 1250, 433, 1750), skyBackground, false},
	}
	for _, sc := range scenes {
		path := subjectOnCanvas(t, sc.photo, sc.w, sc.h, sc.subject, sc.bg, sc.jpeg)
		fx := (float64(sc.subject.Min.X) + float64(sc.subject.Dx())/2) / float64(sc.w)
		fy := (float64(sc.subject.Min.Y) + float64(sc.subject.Dy())/2) / float64(sc.h)
		box := Output{Width: 300, Height: 300, Fit: "fill"}
		outs := []Output{box, box, box, box}
		outs[0].Anchor, outs[1].Anchor, outs[2].Anchor = "center", "attention", "entropy"
		outs[3].Focal = &[2]float64{fx, fy}
		ts := targetsAfterResize(t, path, outs...)
		for i, tg := range ts {
			name := fmt.Sprintf("%s/%s", sc.name, []string{"center", "attention", "entropy", "focal"}[i])
			t.Run(name, func(t *testing.T) {
				keeps := sc.subject.In(tg.Crop)
				if i == 0 && keeps {
					t.Fatalf("center crop %v keeps the subject %v: the scene tests nothing", tg.Crop, sc.subject)
				}
				if i > 0 && !keeps {
					t.Errorf("crop %v cuts the subject %v off", tg.Crop, sc.subject)
				}
				if tg.Crop.Dx() != ts[0].Crop.Dx() || tg.Crop.Dy() != ts[0].Crop.Dy() || !tg.Crop.In(image.Rect(0, 0, sc.w, sc.h)) {
					t.Errorf("crop %v: want the size of center's, %v, inside the image", tg.Crop, ts[0].Crop.Size())
				}
			})
		}
	}
}

// On a photo that fills the frame, a smart crop stays inside it, and on a
// flat image it is the centre crop.
func TestSmartCropFlatIsCenter(t *testing.T) {
	path := subjectOnCanvas(t, "camera_Nikon_P6000_GPS.jpg", 900, 300, image.Rect(0, 0, 1, 1), flatBackground, false)
	for _, anchor := range []string{"attention", "entropy"} {
		ts := targetsAfterResize(t, path, Output{Width: 100, Height: 100, Fit: "fill", Anchor: anchor})
		if want := image.Rect(300, 0, 600, 300); ts[0].Crop.Sub(want.Min).Min.X > 3 || ts[0].Crop.Size() != want.Size() {
			t.Errorf("%s on a flat image: crop %v, want about %v", anchor, ts[0].Crop, want)
		}
	}
}

// BenchmarkSmartCrop times, over every photo of $IMGPIPE_BENCH_PHOTOS
// (default ../testdata/photos), the fill 800x800 job (decode, resize,
// encode) with each anchor, the smart crop's own work alone (the scout
// copy and the scores) and each placeholder's (the scout copy and the
// placeholder), for the figures in the README:
//
//	IMGPIPE_BENCH_PHOTOS=/tmp/bench-photos go test -run XXX -bench SmartCrop -count 6 ./stages
func BenchmarkSmartCrop(b *testing.B) {
	dir := os.Getenv("IMGPIPE_BENCH_PHOTOS")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "photos")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(paths) == 0 {
		b.Skip("no photos in", dir)
	}
	files := make([]File, len(paths))
	for i, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		files[i] = File{Path: p, Rel: filepath.Base(p), Size: info.Size(), ModTime: info.ModTime()}
	}
	ctx := context.Background()
	for _, anchor := range []string{"center", "attention", "entropy"} {
		o := Output{Width: 800, Height: 800, Fit: "fill", Anchor: anchor}
		b.Run("job/"+anchor, func(b *testing.B) {
			dec, res, enc := decodeOpts{Outputs: []Output{o}}.stage(), Resize(), Encode()
			for b.Loop() {
				for _, f := range files {
					d, err := dec(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					r, err := res(ctx, d)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := enc(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		if anchor == "center" {
			continue
		}
		b.Run("score/"+anchor, func(b *testing.B) { // the scores on ready scouts, as smartcrop would be run
			dec := decodeOpts{Outputs: []Output{o}}.stage()
			scouts := make([]*scout, len(files))
			crops := make([]Target, len(files))
			for i, f := range files {
				d, err := dec(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				scouts[i], crops[i] = newScout(d.Image, d.Width, d.Height), d.Targets[0]
			}
			for b.Loop() {
				for i, sc := range scouts {
					sc.saliency, sc.busy, sc.lum = nil, nil, nil
					sc.crop(image.Rect(0, 0, int(float64(sc.img.Rect.Dx())/sc.sx+0.5), int(float64(sc.img.Rect.Dy())/sc.sy+0.5)), crops[i].Crop.Dx(), crops[i].Crop.Dy(), anchor)
				}
			}
		})
		b.Run("alone/"+anchor, func(b *testing.B) {
			dec := decodeOpts{Outputs: []Output{o}}.stage()
			ds := make([]*Decoded, len(files))
			for i, f := range files {
				var err error
				if ds[i], err = dec(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				for _, d := range ds {
					t := d.Targets[0]
					newScout(d.Image, d.Width, d.Height).crop(image.Rect(0, 0, d.Width, d.Height), t.Crop.Dx(), t.Crop.Dy(), anchor)
				}
			}
		})
	}
	for _, kind := range []string{PlaceholderBlurHash, PlaceholderLQIP} {
		b.Run("alone/"+kind, func(b *testing.B) {
			dec := decodeOpts{Outputs: []Output{{Width: 800, Height: 800}}}.stage()
			ds := make([]*Decoded, len(files))
			for i, f := range files {
				var err error
				if ds[i], err = dec(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				for _, d := range ds {
					newScout(d.Image, d.Width, d.Height).placeholder(kind, nil)
				}
			}
		})
	}
}
