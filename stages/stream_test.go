package stages

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"golang.org/x/image/tiff"
)

// streamAll makes every image in a format read in bands stream, whatever
// its size, until the test ends.
func streamAll(t *testing.T, above int64) {
	old := streamAbove
	streamAbove = above
	t.Cleanup(func() { streamAbove = old })
}

// exactStreams turns off, until the test ends, what makes a streamed
// resize differ from the whole image's on purpose: the box pre-shrink of
// images read in rows and the wider shrink-on-load headroom of JPEGs read
// in bands (TestStreamedShrinkQuality tests them).
func exactStreams(t *testing.T) {
	gap, headroom := shrinkGap, streamHeadroom
	shrinkGap, streamHeadroom = 0, solHeadroom
	t.Cleanup(func() { shrinkGap, streamHeadroom = gap, headroom })
}

// psnrRGBA is the PSNR in dB of b against a over R, G, B and A (+Inf: identical).
func psnrRGBA(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes %v and %v", a.Bounds(), b.Bounds())
	}
	ra, rb := image.NewRGBA(a.Bounds()), image.NewRGBA(b.Bounds())
	draw.Draw(ra, ra.Rect, a, a.Bounds().Min, draw.Src)
	draw.Draw(rb, rb.Rect, b, b.Bounds().Min, draw.Src)
	var se float64
	for i := range ra.Pix {
		d := float64(ra.Pix[i]) - float64(rb.Pix[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(len(ra.Pix))))
}

// bigInputs writes a real photo (640x480) as PNG, Deflate TIFF and
// translucent PNG into a folder, for the streamed path to read.
func bigInputs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Rect, src, image.Point{}, draw.Src)
	nrgba := image.NewNRGBA(src.Bounds())
	draw.Draw(nrgba, nrgba.Rect, src, image.Point{}, draw.Src)
	for i := 3; i < len(nrgba.Pix); i += 4 {
		nrgba.Pix[i] = uint8(i / 4 % 640 * 255 / 639)
	}
	dir := t.TempDir()
	var paths []string
	write := func(name string, enc func(*bytes.Buffer) error) {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	write("photo.png", func(b *bytes.Buffer) error { return png.Encode(b, rgba) })
	write("photo.tif", func(b *bytes.Buffer) error {
		return tiff.Encode(b, rgba, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	})
	write("alpha.png", func(b *bytes.Buffer) error { return png.Encode(b, nrgba) })
	paths = append(paths, filepath.Join("..", "internal", "band", "testdata", "rgb-tiled-lzw.tif"),
		filepath.Join("..", "testdata", "formats", "8bpp.bmp"),
		filepath.Join("..", "internal", "band", "testdata", "gray-deflate.tif"))
	return append(paths, filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"))
}

// smallJPEGs are JPEGs of every kind internal/jpeg decodes in bands:
// baseline 4:2:0, 4:4:4, 4:1:1, progressive 4:2:2 and 4:4:0, greyscale,
// with restart markers, RGB and CMYK (Adobe), all about 150x100.
func smallJPEGs() []string {
	var paths []string
	for _, n := range []string{"video-001.jpeg", "video-001.q50.444.jpeg", "video-001.q50.411.jpeg",
		"video-001.q50.422.progressive.jpeg", "video-001.q50.440.progressive.jpeg", "video-005.gray.q50.jpeg",
		"video-005.gray.q50.progressive.jpeg", "video-001.restart2.jpeg", "video-001.rgb.jpeg", "video-001.cmyk.jpeg"} {
		paths = append(paths, filepath.Join("..", "internal", "jpeg", "testdata", n))
	}
	return paths
}

// An image decoded in bands and resized as its rows arrive comes out with
// exactly the pixels of a whole decode and resize, for every kind of
// output the streamed path takes: fit, fill (a crop), pad, sharpened,
// several at once, another filter.
func TestStreamedMatchesWholeDecode(t *testing.T) {
	exactStreams(t)
	outputs := []Output{
		{Width: 200, Height: 200},
		{Width: 50, Height: 50, Fit: "fill", Anchor: "top-left", Format: "png"},
		{Width: 120, Height: 40, Fit: "pad", Filter: "mitchell"},
		{Width: 33, Sharpen: 1, Filter: "box"},
		{Width: 90, Height: 80, Fit: "stretch", Filter: "nearest"},
	}
	for _, p := range bigInputs(t) {
		t.Run(filepath.Base(p), func(t *testing.T) { checkStreamed(t, p, outputs) })
	}
	// JPEGs, decoded in MCU rows at the shrink-on-load scale: into YCbCr
	// planes for JPEG outputs, RGBA rows for the others.
	outputs = []Output{
		{Width: 60},
		{Width: 30, Height: 30, Fit: "fill", Anchor: "bottom-right", Format: "png"},
		{Width: 70, Height: 20, Fit: "pad", Filter: "mitchell"},
		{Width: 17, Sharpen: 1, Filter: "box", Format: "webp"},
		{Width: 90, Height: 40, Fit: "stretch", Format: "png"},
		{Width: 100, Height: 60, Fit: "stretch", Quality: 95},
	}
	for _, p := range smallJPEGs() {
		t.Run(filepath.Base(p), func(t *testing.T) { checkStreamed(t, p, outputs) })
	}
}

// checkStreamed decodes and resizes p whole and streamed, and compares.
func checkStreamed(t *testing.T, p string, outputs []Output) {
	run := func(above int64) (*Resized, int64) {
		streamAll(t, above)
		var charged int64
		d, err := decodeFile(t, p, decodeOpts{Outputs: outputs, Reserve: func(_ context.Context, n int64) (func(), error) {
			charged += n
			return func() {}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if (d.resized != nil) != (above == 0) {
			t.Fatalf("streamed %v with streamAbove %d", d.resized != nil, above)
		}
		r, err := Resize()(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		return r, charged
	}
	whole, wholeCharge := run(math.MaxInt64)
	streamed, streamCharge := run(0)

	for i := range outputs {
		if db := psnrRGBA(t, whole.Images[i], streamed.Images[i]); !math.IsInf(db, 1) {
			t.Errorf("output %d: %.1f dB from the whole decode's, want identical", i, db)
		}
	}
	// Encoded, the files are the same bytes too (grey kept grey...),
	// but where the whole path hands on the source itself, unscaled
	// (a paletted BMP of the output's size stays paletted).
	same := make([]bool, len(outputs))
	for i := range outputs {
		same[i] = reflect.TypeOf(whole.Images[i]) == reflect.TypeOf(streamed.Images[i])
	}
	wholeFiles, err := Encode()(context.Background(), whole)
	if err != nil {
		t.Fatal(err)
	}
	streamedFiles, err := Encode()(context.Background(), streamed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range outputs {
		if same[i] && !bytes.Equal(wholeFiles.Files[i], streamedFiles.Files[i]) {
			t.Errorf("output %d: encoded files differ", i)
		}
	}
	if streamed.Gray != whole.Gray {
		t.Errorf("Gray %v, whole decode %v", streamed.Gray, whole.Gray)
	}
	if big := whole.Width*whole.Height >= 640*480; big && streamCharge >= wholeCharge {
		t.Errorf("streamed charged %d bytes, whole %d: want less", streamCharge, wholeCharge)
	}
}

// Resized as their rows arrive, big images take cheaper roads than a
// whole decode and resize: a box pre-shrink to twice the output for the
// formats read in rows, a decode at 1/2 rather than 1/4 or 1/8 for a JPEG.
// Against the exact resize of the full decode (FullDecode), each output
// is above 40 dB where the whole path is that exact resize (PNG, TIFF),
// and where the whole path is not (a JPEG shrunk on load), no more than
// 1 dB below it.
func TestStreamedShrinkQuality(t *testing.T) {
	outputs := []Output{
		{Width: 150, Height: 150},
		{Width: 200, Height: 200}, // a JPEG decoded at 1/4 streamed, 1/8 whole
		{Width: 60, Height: 60, Fit: "fill", Anchor: "top-left"},
		{Width: 100, Filter: "mitchell"},
		{Width: 41, Height: 90, Fit: "stretch", Filter: "catmullrom"},
	}
	resize := func(p string, above int64, full bool) *Resized {
		streamAll(t, above)
		d, err := decodeFile(t, p, decodeOpts{Outputs: outputs, FullDecode: full})
		if err != nil {
			t.Fatal(err)
		}
		if (d.resized != nil) != (above == 0) {
			t.Fatalf("streamed %v with streamAbove %d", d.resized != nil, above)
		}
		r, err := Resize()(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	inputs := bigInputs(t)
	inputs = append(inputs[:3:3], inputs[len(inputs)-1]) // the photo as PNG, TIFF, translucent PNG; a JPEG
	for _, p := range inputs {
		t.Run(filepath.Base(p), func(t *testing.T) {
			ref := resize(p, math.MaxInt64, true)
			whole := resize(p, math.MaxInt64, false)
			streamed := resize(p, 0, false)
			for i := range outputs {
				w, s := psnrRGBA(t, ref.Images[i], whole.Images[i]), psnrRGBA(t, ref.Images[i], streamed.Images[i])
				t.Logf("output %d: whole %.1f dB, streamed %.1f dB", i, w, s)
				if floor := w - 1; math.IsInf(w, 1) && s < 40 || !math.IsInf(w, 1) && s < floor {
					t.Errorf("output %d: streamed %.1f dB from the exact resize, the whole path %.1f", i, s, w)
				}
			}
		})
	}
}

// The box pre-shrink averages whole boxes exactly and the narrower last
// ones across and down: a source of vertical stripes one box wide, black
// and white, comes out of the pre-shrink as an even grey, and so from the
// filter too; a source's last column, alone in its box, keeps its colour.
func TestShrinkSinkBoxes(t *testing.T) {
	const w, h, k = 61, 40, 3 // 20 boxes of 3 across and one of 1; 6 of 6 down and one of 4
	sink := newRowSink(image.Rect(0, 0, w, h), 10, 3, filters["lanczos"]).(*shrinkSink)
	if sink.kx != k || sink.ky != 6 {
		t.Fatalf("boxes of %dx%d, want %dx6", sink.kx, sink.ky, k)
	}
	row := make([]uint8, 4*w)
	for x := range w {
		v := uint8(255)
		if x/k%2 == 1 {
			v = 0
		}
		row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 255
	}
	var boxRows [][]uint8
	for y := range h {
		sink.push(y, row)
		if sink.rows == 0 {
			boxRows = append(boxRows, append([]uint8(nil), sink.row...))
		}
	}
	if len(boxRows) != 7 || !sink.done() {
		t.Fatalf("%d box rows, done %v", len(boxRows), sink.done())
	}
	for _, br := range boxRows {
		if br[0] != 255 || br[4] != 0 || br[4*20] != 255 {
			t.Fatalf("box row starts %v, ends %v", br[:8], br[4*20:])
		}
	}
}

// Outputs that need the whole image (trim, a smart anchor, a placeholder,
// linear light), a rotated photo or a variant internal/band does not read
// (interlaced PNG) are decoded whole, as before; so is any image under
// streamAbove pixels.
func TestStreamedOnlyWhereItCan(t *testing.T) {
	photo := bigInputs(t)[0]
	for _, tc := range []struct {
		name   string
		path   string
		out    Output
		above  int64
		stream bool
	}{
		{"fit", photo, Output{Width: 100}, 0, true},
		{"small", photo, Output{Width: 100}, 640 * 480, false},
		{"trim", photo, Output{Width: 100, Trim: true}, 0, false},
		{"attention", photo, Output{Width: 100, Height: 100, Fit: "fill", Anchor: "attention"}, 0, false},
		{"placeholder", photo, Output{Width: 100, Placeholder: "blurhash"}, 0, false},
		{"linear", photo, Output{Width: 100, Linear: true}, 0, false},
		{"interlaced", filepath.Join("..", "internal", "band", "testdata", "rgb-interlaced.png"), Output{Width: 10}, 0, false},
		{"jpeg", filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), Output{Width: 100}, 0, true},
		// An output of the size decoded (1/2 here, 320x240) is a copy of
		// the decoded image, not a resample: decoded whole.
		{"jpeg unscaled", filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), Output{Width: 320}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streamAll(t, tc.above)
			d, err := decodeFile(t, tc.path, decodeOpts{Outputs: []Output{tc.out}})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.resized != nil; got != tc.stream {
				t.Errorf("streamed %v, want %v", got, tc.stream)
			}
			if _, err := Resize()(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A streamed file cut short fails as corrupt; a cancel while its bands
// are read returns the context's error, with the memory given back.
func TestStreamedTruncatedAndCancelled(t *testing.T) {
	streamAll(t, 0)
	for _, p := range bigInputs(t)[:2] {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cut := len(data) * 3 / 4
		if filepath.Ext(p) == ".tif" {
			cut = len(data) / 4 // past the IFD, which x/image/tiff writes first... or last
		}
		t.Run("truncated/"+filepath.Base(p), func(t *testing.T) { truncatedIsCorrupt(t, p, data[:cut]) })
		t.Run("cancelled/"+filepath.Base(p), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			held := 0
			stage := decodeOpts{Outputs: []Output{{Width: 100}}, Reserve: func(context.Context, int64) (func(), error) {
				held++
				cancel() // the run is cancelled as the bands start
				return func() { held-- }, nil
			}}.stage()
			d, err := stage(ctx, File{Path: p, Rel: filepath.Base(p)})
			if !errors.Is(err, context.Canceled) || d != nil {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if held != 0 {
				t.Errorf("%d reservations held after the cancel", held)
			}
		})
	}
}

// An image read in bands allocates its window and outputs, not its
// pixels: a 3000x2000 PNG (24 MB as RGBA) resized to 300 px wide
// allocates under 4 MiB, where the whole decode allocates its 24 MB.
func TestStreamedAllocatesLittle(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	for y := 0; y < 2000; y++ {
		for x := 0; x < 3000; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x), uint8(y), uint8(x^y), 255
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "big.png")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		above    int64
		min, max uint64
	}{{0, 0, 4 << 20}, {math.MaxInt64, 24_000_000, math.MaxUint64}} {
		streamAll(t, tc.above)
		var err error
		_, alloc := cost(func() { _, err = decodeFile(t, p, decodeOpts{Outputs: []Output{{Width: 300}}}) })
		if err != nil {
			t.Fatal(err)
		}
		if alloc < tc.min || alloc > tc.max {
			t.Errorf("streamAbove %d: allocated %d bytes, want %d to %d", tc.above, alloc, tc.min, tc.max)
		}
	}
}

// A JPEG read in bands, baseline or progressive, cut short fails as
// corrupt; a cancel after half its bytes have been read (in the middle of
// its bands, or of a progressive file's scans) returns the context's
// error, with the memory given back.
func TestStreamedJPEGTruncatedAndCancelled(t *testing.T) {
	streamAll(t, 0)
	for _, p := range []string{filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"),
		filepath.Join("..", "internal", "jpeg", "testdata", "progressive_plasma_BytheWater_thumb.jpg")} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("truncated/"+filepath.Base(p), func(t *testing.T) { truncatedIsCorrupt(t, p, data[:len(data)*3/4]) })
		t.Run("cancelled/"+filepath.Base(p), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var read atomic.Int64
			held := 0
			file := File{Path: p, Rel: filepath.Base(p), Open: func() (io.ReadCloser, error) {
				f, err := os.Open(p)
				return cancelAfter{countingFile{f, &read}, int64(len(data) / 2), cancel}, err
			}}
			stage := decodeOpts{Outputs: []Output{{Width: 100}}, Reserve: func(context.Context, int64) (func(), error) {
				held++
				return func() { held-- }, nil
			}}.stage()
			d, err := stage(ctx, file)
			if !errors.Is(err, context.Canceled) || d != nil {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if held != 0 {
				t.Errorf("%d reservations held after the cancel", held)
			}
		})
	}
}

// cancelAfter is a file that cancels its run once more than n bytes have
// been read from it.
type cancelAfter struct {
	countingFile
	n      int64
	cancel func()
}

func (c cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	k, err := c.countingFile.ReadAt(p, off)
	if c.read.Load() > c.n {
		c.cancel()
	}
	return k, err
}

// truncatedIsCorrupt decodes short, the start of file p, streamed, and
// wants ErrCorrupt.
func truncatedIsCorrupt(t *testing.T, p string, short []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(p))
	if err := os.WriteFile(path, short, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeFile(t, path, decodeOpts{Outputs: []Output{{Width: 100}}}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("error %v, want ErrCorrupt", err)
	}
}
