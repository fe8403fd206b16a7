package meta

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// TestApplySynthetic checks all eight orientations exactly on a 3x2 image
// whose bounds do not start at (0,0). The expected grids are written out by
// hand from the EXIF definitions (row 0 / column 0 of the stored image
// become the listed visual side):
//
//	stored: a b c
//	        d e f
func TestApplySynthetic(t *testing.T) {
	px := map[byte]color.NRGBA{}
	for i, c := range "abcdef" {
		px[byte(c)] = color.NRGBA{uint8(10 + 40*i), uint8(250 - 30*i), uint8(7 * i), uint8(255 - i)}
	}
	src := image.NewNRGBA(image.Rect(10, 20, 13, 22))
	for i, c := range "abcdef" {
		src.SetNRGBA(10+i%3, 20+i/3, px[byte(c)])
	}
	want := map[int][]string{
		2: {"cba", "fed"},
		3: {"fed", "cba"},
		4: {"def", "abc"},
		5: {"ad", "be", "cf"},
		6: {"da", "eb", "fc"},
		7: {"fc", "eb", "da"},
		8: {"cf", "be", "ad"},
	}
	for o := 2; o <= 8; o++ {
		got, ok := Apply(src, o).(*image.NRGBA)
		if !ok {
			t.Fatalf("o=%d: result is not *image.NRGBA", o)
		}
		rows := want[o]
		if got.Rect != image.Rect(0, 0, len(rows[0]), len(rows)) {
			t.Fatalf("o=%d: bounds %v", o, got.Rect)
		}
		for y, row := range rows {
			for x := range row {
				if c := got.NRGBAAt(x, y); c != px[row[x]] {
					t.Errorf("o=%d: pixel (%d,%d) = %v, want %c %v", o, x, y, c, row[x], px[row[x]])
				}
			}
		}
	}
	for _, o := range []int{-1, 0, 1, 9, 100} {
		if Apply(src, o) != image.Image(src) {
			t.Errorf("o=%d: image not returned unchanged", o)
		}
	}
	if src.NRGBAAt(10, 20) != px['a'] {
		t.Error("source modified")
	}
}

// TestApplyMatchesImaging cross-checks Apply against imaging's transforms
// (with the mapping given in the package brief) for several source types
// with odd sizes and offset bounds.
func TestApplyMatchesImaging(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	base := image.NewNRGBA(image.Rect(0, 0, 17, 11))
	rng.Read(base.Pix)
	for i := 3; i < len(base.Pix); i += 4 {
		base.Pix[i] = 255 // opaque, so every type round-trips
	}
	sub := func(m draw.Image) image.Image {
		draw.Draw(m, m.Bounds(), base, image.Point{}, draw.Src)
		return m.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(3, 2, 16, 11))
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 17, 11), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(rng.Intn(256))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(rng.Intn(256)), uint8(rng.Intn(256))
	}
	srcs := map[string]image.Image{
		"NRGBA": sub(image.NewNRGBA(base.Rect)),
		"RGBA":  sub(image.NewRGBA(base.Rect)),
		"Gray":  sub(image.NewGray(base.Rect)),
		"YCbCr": ycc.SubImage(image.Rect(3, 2, 16, 11)),
	}
	ref := map[int]func(image.Image) *image.NRGBA{
		2: imaging.FlipH, 3: imaging.Rotate180, 4: imaging.FlipV, 5: imaging.Transpose,
		6: imaging.Rotate270, 7: imaging.Transverse, 8: imaging.Rotate90,
	}
	for name, img := range srcs {
		for o := 2; o <= 8; o++ {
			got := Apply(img, o).(*image.NRGBA)
			want := ref[o](img)
			if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%s o=%d: differs from imaging (bounds %v vs %v)", name, o, got.Rect, want.Rect)
			}
		}
	}
}

// uprightCheck decodes stored (an image with EXIF orientation), applies its
// orientation and compares with the upright reference. It also checks
// (if discriminate) that the comparison discriminates: every other
// transform must give a clearly larger difference.
func uprightCheck(t *testing.T, name string, stored, ref []byte, wantO int, threshold float64, discriminate bool) {
	t.Helper()
	info, err := Read(bytes.NewReader(stored), "jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if info.Orientation != wantO {
		t.Errorf("%s: orientation %d, want %d", name, info.Orientation, wantO)
	}
	img, err := jpeg.Decode(bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	refImg, err := jpeg.Decode(bytes.NewReader(ref))
	if err != nil {
		t.Fatal(err)
	}
	up := Apply(img, info.Orientation)
	d := meanAbsDiff(up, refImg)
	t.Logf("%s: orientation %d, upright %v, mean abs diff %.2f", name, info.Orientation, up.Bounds().Size(), d)
	if d > threshold {
		t.Errorf("%s: mean abs diff %.2f > %.2f", name, d, threshold)
	}
	if discriminate && info.Orientation >= 2 {
		// Every other transform must be clearly worse.
		for o := 1; o <= 8; o++ {
			if o == info.Orientation {
				continue
			}
			if wrong := meanAbsDiff(Apply(img, o), refImg); wrong < 2*threshold {
				t.Errorf("%s: wrong orientation %d also matches (diff %.2f)", name, o, wrong)
			}
		}
	}
}

// TestApplyMini runs the orientation set on the downscaled testdata copies
// of the corpus Landscape/Portrait files (metadata intact).
func TestApplyMini(t *testing.T) {
	for _, s := range []string{"Landscape", "Portrait"} {
		ref := readTestdata(t, "mini_"+s+"_1.jpg")
		for o := 0; o <= 8; o++ {
			name := fmt.Sprintf("mini_%s_%d.jpg", s, o)
			uprightCheck(t, name, readTestdata(t, name), ref, o, 8, true)
		}
	}
	ref := readTestdata(t, "mini_Landscape_1.jpg")
	uprightCheck(t, "little endian", readTestdata(t, "mini_Landscape_8_exif_little_endian.jpg"), ref, 8, 8, true)
	uprightCheck(t, "invalid 9", readTestdata(t, "mini_Landscape_orientation_9_invalid.jpg"), ref, 0, 8, true)
}

// TestApplyCorpus runs the full-size orientation set; it needs
// IMGPIPE_CORPUS=$PWD/../shared/corpus (from the repository root).
func TestApplyCorpus(t *testing.T) {
	corpus := os.Getenv("IMGPIPE_CORPUS")
	if corpus == "" {
		t.Skip("set IMGPIPE_CORPUS to run against the corpus")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(corpus, "orientation", p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, s := range []string{"Landscape", "Portrait"} {
		ref := read(s + "_1.jpg")
		for o := 0; o <= 8; o++ {
			name := fmt.Sprintf("%s_%d.jpg", s, o)
			uprightCheck(t, name, read(name), ref, o, 6, false)
		}
	}
	ref := read("Landscape_1.jpg")
	uprightCheck(t, "Landscape_8_exif_little_endian.jpg", read("Landscape_8_exif_little_endian.jpg"), ref, 8, 6, false)
	uprightCheck(t, "Landscape_orientation_9_invalid.jpg", read("Landscape_orientation_9_invalid.jpg"), ref, 0, 6, false)

	// Real camera file: orientation 6, upright 1536x2048.
	b := read("camera_Canon_SX60_orient6.jpg")
	info, _ := Read(bytes.NewReader(b), "jpeg")
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if sz := Apply(img, info.Orientation).Bounds().Size(); info.Orientation != 6 || sz != image.Pt(1536, 2048) {
		t.Errorf("Canon SX60: orientation %d, upright size %v", info.Orientation, sz)
	}
}

// Reverses agrees with what Apply does: the stored image's last column
// and last row, marked, end up first or last in the upright image as it
// says.
func TestReverses(t *testing.T) {
	const w, h = 4, 3
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.NRGBA
			if x == w-1 {
				c.R = 255 // the last column
			}
			if y == h-1 {
				c.G = 255 // the last row
			}
			src.SetNRGBA(x, y, c)
		}
	}
	for o := 1; o <= 8; o++ {
		up := Apply(src, o)
		b := up.Bounds()
		// The stored axis that becomes the upright x axis, and its mark.
		markX, markY := func(c color.NRGBA) bool { return c.R == 255 }, func(c color.NRGBA) bool { return c.G == 255 }
		if o >= 5 {
			markX, markY = markY, markX
		}
		at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(up.At(x, y)).(color.NRGBA) }
		across, down := Reverses(o)
		if markX(at(b.Min.X, b.Min.Y+1)) != across || markX(at(b.Max.X-1, b.Min.Y+1)) == across {
			t.Errorf("o=%d: Reverses says across %v, Apply disagrees", o, across)
		}
		if markY(at(b.Min.X+1, b.Min.Y)) != down || markY(at(b.Min.X+1, b.Max.Y-1)) == down {
			t.Errorf("o=%d: Reverses says down %v, Apply disagrees", o, down)
		}
	}
}
