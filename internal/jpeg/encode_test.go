package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// segments returns the payloads of the segments with the given marker in
// a JPEG's header (up to the first SOS).
func segments(t testing.TB, data []byte, marker byte) [][]byte {
	t.Helper()
	var out [][]byte
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m := data[p+1]
		n := int(data[p+2])<<8 | int(data[p+3])
		if m == marker {
			out = append(out, data[p+4:p+2+n])
		}
		if m == mSOS {
			break
		}
		p += 2 + n
	}
	return out
}

// The quantisation tables are libjpeg's and image/jpeg's at every quality.
func TestEncodeQuantTables(t *testing.T) {
	img := photo(t)
	for _, q := range []int{1, 10, 25, 50, 75, 85, 89, 100} {
		var ours, std bytes.Buffer
		if err := Encode(&ours, img, &EncodeOptions{Quality: q}); err != nil {
			t.Fatal(err)
		}
		if err := stdjpeg.Encode(&std, img, &stdjpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		a, b := segments(t, ours.Bytes(), mDQT), segments(t, std.Bytes(), mDQT)
		if !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
			t.Errorf("quality %d: DQT %x, image/jpeg %x", q, a, b)
		}
	}
}

// photo is a real photo decoded at 1/4 scale (YCbCr 4:2:0, 640x400).
func photo(t testing.TB) *image.YCbCr {
	t.Helper()
	img, err := Decode(bytes.NewReader(readFile(t, "testdata/plasma_FallenLeaf_2560x1600.jpg")), &Options{Scale: 4})
	if err != nil {
		t.Fatal(err)
	}
	return img.(*image.YCbCr)
}

func psnrRGB(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range [3]float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*3*float64(ab.Dx()*ab.Dy())/se)
}

// synthetic returns a w x h image of the given kind with smooth gradients
// and some noise, so that every DCT frequency is used.
func synthetic(kind string, w, h int, seed uint64) image.Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := image.Rect(0, 0, w, h)
	px := func(x, y int) (uint8, uint8, uint8) {
		n := uint8(rng.IntN(24))
		return uint8(x*255/max(w, 1)) ^ n, uint8(y*255/max(h, 1)) + n, uint8((x+y)*7) + n
	}
	switch kind {
	case "gray":
		m := image.NewGray(r)
		for y := range h {
			for x := range w {
				v, _, _ := px(x, y)
				m.SetGray(x, y, color.Gray{v})
			}
		}
		return m
	case "rgba", "nrgba":
		m := image.NewRGBA(r)
		for y := range h {
			for x := range w {
				a, b, c := px(x, y)
				m.SetRGBA(x, y, color.RGBA{a, b, c, 255})
			}
		}
		if kind == "nrgba" {
			n := image.NewNRGBA(r)
			copy(n.Pix, m.Pix)
			return n
		}
		return m
	}
	ratio := map[string]image.YCbCrSubsampleRatio{"420": image.YCbCrSubsampleRatio420, "444": image.YCbCrSubsampleRatio444,
		"422": image.YCbCrSubsampleRatio422, "440": image.YCbCrSubsampleRatio440}[kind]
	m := image.NewYCbCr(r, ratio)
	for y := range h {
		for x := range w {
			a, b, c := px(x, y)
			yy, cb, cr := color.RGBToYCbCr(a, b, c)
			m.Y[m.YOffset(x, y)] = yy
			m.Cb[m.COffset(x, y)] = cb
			m.Cr[m.COffset(x, y)] = cr
		}
	}
	return m
}

// Every kind of input and awkward sizes: the output decodes (with
// image/jpeg and with Decode) to the right size and colour model, and is
// about as close to the input as image/jpeg's own output, at about its size
// or smaller.
func TestEncodeRoundTrip(t *testing.T) {
	type input struct {
		name string
		img  image.Image
	}
	inputs := []input{{"photo", photo(t)}}
	for _, kind := range []string{"420", "444", "422", "440", "gray", "rgba", "nrgba"} {
		for _, sz := range []image.Point{{1, 1}, {3, 3}, {17, 9}, {64, 48}, {101, 67}} {
			inputs = append(inputs, input{fmt.Sprintf("%s_%dx%d", kind, sz.X, sz.Y), synthetic(kind, sz.X, sz.Y, uint64(sz.X))})
		}
	}
	// A sub-image that does not start at the origin.
	inputs = append(inputs, input{"420_subimage", photo(t).SubImage(image.Rect(32, 16, 300, 201))})
	for _, in := range inputs {
		for _, q := range []int{50, 85, 95} {
			t.Run(fmt.Sprintf("%s/q%d", in.name, q), func(t *testing.T) {
				var ours, std bytes.Buffer
				if err := Encode(&ours, in.img, &EncodeOptions{Quality: q}); err != nil {
					t.Fatal(err)
				}
				if err := stdjpeg.Encode(&std, in.img, &stdjpeg.Options{Quality: q}); err != nil {
					t.Fatal(err)
				}
				got, err := stdjpeg.Decode(bytes.NewReader(ours.Bytes()))
				if err != nil {
					t.Fatalf("image/jpeg cannot decode the output: %v", err)
				}
				if _, err := Decode(bytes.NewReader(ours.Bytes()), nil); err != nil {
					t.Fatalf("Decode cannot decode the output: %v", err)
				}
				if got.Bounds().Size() != in.img.Bounds().Size() {
					t.Fatalf("size %v, want %v", got.Bounds().Size(), in.img.Bounds().Size())
				}
				_, isGray := in.img.(*image.Gray)
				if _, gotGray := got.(*image.Gray); gotGray != isGray {
					t.Errorf("decoded as %T from %T", got, in.img)
				}
				if ycc, ok := got.(*image.YCbCr); ok {
					want := image.YCbCrSubsampleRatio420
					if q >= fullChromaQuality {
						want = image.YCbCrSubsampleRatio444
					}
					if ycc.SubsampleRatio != want {
						t.Errorf("chroma %v, want %v", ycc.SubsampleRatio, want)
					}
				}
				ref, err := stdjpeg.Decode(bytes.NewReader(std.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				p, pref := psnrRGB(in.img, got), psnrRGB(in.img, ref)
				if p < pref-0.5 {
					t.Errorf("PSNR %.2f dB, image/jpeg's output %.2f", p, pref)
				}
				// Same quantisation and subsampling, better Huffman tables: smaller.
				if in.name == "photo" && q < fullChromaQuality && ours.Len() > std.Len() {
					t.Errorf("%d bytes, image/jpeg %d", ours.Len(), std.Len())
				}
				t.Logf("%.2f dB %d bytes; image/jpeg %.2f dB %d bytes", p, ours.Len(), pref, std.Len())
			})
		}
	}
}

// Progressive output decodes (with image/jpeg and with Decode) to exactly
// the pixels of the baseline output: the same coefficients, sent in
// several scans.
func TestEncodeProgressive(t *testing.T) {
	inputs := map[string]image.Image{"photo": photo(t), "subimage": photo(t).SubImage(image.Rect(32, 16, 300, 201))}
	for _, kind := range []string{"420", "444", "422", "gray", "rgba"} {
		for _, sz := range []image.Point{{1, 1}, {17, 9}, {101, 67}} {
			inputs[fmt.Sprintf("%s_%dx%d", kind, sz.X, sz.Y)] = synthetic(kind, sz.X, sz.Y, uint64(sz.Y))
		}
	}
	for name, img := range inputs {
		for _, q := range []int{50, 85, 95} {
			var base, prog bytes.Buffer
			if err := Encode(&base, img, &EncodeOptions{Quality: q}); err != nil {
				t.Fatal(err)
			}
			if err := Encode(&prog, img, &EncodeOptions{Quality: q, Progressive: true}); err != nil {
				t.Fatal(err)
			}
			if len(segments(t, prog.Bytes(), mSOF2)) != 1 {
				t.Errorf("%s q%d: no SOF2 marker", name, q)
			}
			want, err := stdjpeg.Decode(bytes.NewReader(base.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := stdjpeg.Decode(bytes.NewReader(prog.Bytes()))
			if err != nil {
				t.Fatalf("%s q%d: image/jpeg cannot decode the progressive output: %v", name, q, err)
			}
			if p := psnrRGB(want, got); !math.IsInf(p, 1) {
				t.Errorf("%s q%d: progressive decodes %.2f dB from baseline, want identical", name, q, p)
			}
			ours, err := Decode(bytes.NewReader(prog.Bytes()), nil)
			if err != nil {
				t.Fatalf("%s q%d: Decode cannot decode the progressive output: %v", name, q, err)
			}
			if p := psnrRGB(want, ours); p < 50 {
				t.Errorf("%s q%d: Decode of the progressive output is %.2f dB from image/jpeg's of the baseline", name, q, p)
			}
			if name == "photo" {
				t.Logf("q%d: progressive %d bytes, baseline %d", q, prog.Len(), base.Len())
			}
		}
	}
}

// Images too large to keep their coefficients between the passes run the
// DCT twice instead: the output is the same.
func TestEncodeWithoutStore(t *testing.T) {
	limit := storeLimit
	defer func() { storeLimit = limit }()
	for _, img := range []image.Image{photo(t), synthetic("gray", 101, 67, 1), synthetic("444", 64, 48, 2)} {
		for _, o := range []*EncodeOptions{nil, {Progressive: true}} {
			var stored, again bytes.Buffer
			storeLimit = limit
			if err := Encode(&stored, img, o); err != nil {
				t.Fatal(err)
			}
			storeLimit = 0
			if err := Encode(&again, img, o); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored.Bytes(), again.Bytes()) {
				t.Errorf("%T, %+v: outputs differ with and without the store", img, o)
			}
		}
	}
}

// The code lengths stay within 16 bits and the codes are prefix-free for
// any frequencies, including the skewed ones that make K.2 produce longer
// codes first.
func TestHuffmanBuild(t *testing.T) {
	fib := [257]int64{}
	a, b := int64(1), int64(1)
	for i := range 40 {
		fib[i] = a
		a, b = b, a+b
	}
	single := [257]int64{}
	single[0x00] = 1000
	rng := rand.New(rand.NewPCG(7, 7))
	random := [257]int64{}
	for i := range 256 {
		if rng.IntN(3) > 0 {
			random[i] = int64(rng.IntN(100000))
		}
	}
	// The deepest tree K.1 can make from frequencies of a real table:
	// Fibonacci ones up to 62 symbols (1.06e13 in all), 32 bits deep.
	fib62 := [257]int64{}
	a, b = 1, 1
	for i := range 62 {
		fib62[i] = a
		a, b = b, a+b
	}
	if cs := codeSizes(&fib62); slices.Max(cs[:]) != 32 {
		t.Errorf("62 Fibonacci frequencies: K.1's longest code is %d bits, want 32", slices.Max(cs[:]))
	}
	for name, freq := range map[string][257]int64{"fibonacci": fib, "fibonacci62": fib62, "single": single, "random": random} {
		var h huffEnc
		h.build(&freq)
		n := 0
		for l := 1; l <= 16; l++ {
			n += int(h.counts[l])
		}
		if n != len(h.vals) {
			t.Errorf("%s: %d codes for %d symbols", name, n, len(h.vals))
		}
		for s := range 256 {
			if freq[s] > 0 && (h.size[s] == 0 || h.size[s] > 16) {
				t.Errorf("%s: symbol %d has a %d-bit code", name, s, h.size[s])
			}
		}
		// Prefix-free: no code is a prefix of another, and none is all ones.
		for _, s1 := range h.vals {
			if h.code[s1] == 1<<h.size[s1]-1 {
				t.Errorf("%s: symbol %d's code is all ones", name, s1)
			}
			for _, s2 := range h.vals {
				if s1 == s2 || h.size[s1] > h.size[s2] {
					continue
				}
				if h.code[s2]>>(h.size[s2]-h.size[s1]) == h.code[s1] {
					t.Errorf("%s: code of %d is a prefix of %d's", name, s1, s2)
				}
			}
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add(uint8(17), uint8(9), uint8(85), uint8(0), uint64(1), false)
	f.Add(uint8(1), uint8(1), uint8(100), uint8(4), uint64(2), true)
	f.Fuzz(func(t *testing.T, w, h, q, kind uint8, seed uint64, progressive bool) {
		if w == 0 || h == 0 {
			return
		}
		kinds := []string{"420", "444", "422", "440", "gray", "rgba", "nrgba"}
		img := synthetic(kinds[int(kind)%len(kinds)], int(w), int(h), seed)
		var buf bytes.Buffer
		if err := Encode(&buf, img, &EncodeOptions{Quality: int(q)%100 + 1, Progressive: progressive}); err != nil {
			t.Fatal(err)
		}
		got, err := stdjpeg.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("image/jpeg cannot decode the output: %v", err)
		}
		if got.Bounds().Size() != img.Bounds().Size() {
			t.Fatalf("size %v, want %v", got.Bounds().Size(), img.Bounds().Size())
		}
	})
}

// BenchmarkEncode writes an 800x500 4:2:0 photo (what the resize stage
// hands the encoder) at quality 85, against image/jpeg.
func BenchmarkEncode(b *testing.B) {
	src, err := Decode(bytes.NewReader(readFile(b, "testdata/plasma_FallenLeaf_2560x1600.jpg")), &Options{Scale: 2})
	if err != nil {
		b.Fatal(err)
	}
	img := src.(*image.YCbCr).SubImage(image.Rect(0, 0, 800, 500))
	for _, c := range []struct {
		name string
		enc  func(*bytes.Buffer) error
	}{
		{"ours", func(w *bytes.Buffer) error { return Encode(w, img, &EncodeOptions{Quality: 85}) }},
		{"ours-progressive", func(w *bytes.Buffer) error {
			return Encode(w, img, &EncodeOptions{Quality: 85, Progressive: true})
		}},
		{"image-jpeg", func(w *bytes.Buffer) error { return stdjpeg.Encode(w, img, &stdjpeg.Options{Quality: 85}) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := c.enc(&buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
			b.ReportMetric(0.4*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}

// TestHuffmanBuildMatchesK2 checks build's heap against K.2's procedure
// as written (figure K.1: for each merge, search every symbol in use for
// the least frequent, the larger symbol on a tie) on random frequencies
// with many ties and skewed ones: the same code lengths for every
// symbol, hence the same tables and files.
func TestHuffmanBuildMatchesK2(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	for trial := range 2000 {
		var freq [257]int64
		used := 1 + rng.IntN(256)
		for range used {
			s := rng.IntN(256)
			switch trial % 4 {
			case 0:
				freq[s] = int64(1 + rng.IntN(4)) // many ties
			case 1:
				freq[s] = int64(1) << rng.IntN(40) // skewed: codes past 16 bits
			default:
				freq[s] = int64(1 + rng.IntN(100000))
			}
		}
		if got, want := codeSizes(&freq), k2CodeSizes(&freq); got != want {
			t.Fatalf("trial %d: code sizes differ from K.1's", trial)
		}
	}
}

// k2CodeSizes is figure K.1 as written: the code size of each symbol.
func k2CodeSizes(freq *[257]int64) [257]int {
	var f [257]int64
	copy(f[:], freq[:])
	f[256] = 1
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	for {
		v1, v2 := -1, -1
		for i := range f {
			if f[i] > 0 && (v1 < 0 || f[i] <= f[v1]) {
				v1 = i
			}
		}
		for i := range f {
			if f[i] > 0 && i != v1 && (v2 < 0 || f[i] <= f[v2]) {
				v2 = i
			}
		}
		if v2 < 0 {
			return codesize
		}
		f[v1] += f[v2]
		f[v2] = 0
		for codesize[v1]++; others[v1] >= 0; codesize[v1]++ {
			v1 = others[v1]
		}
		others[v1] = v2
		for codesize[v2]++; others[v2] >= 0; codesize[v2]++ {
			v2 = others[v2]
		}
	}
}

// BenchmarkEncodeThumbnail writes a 200x150 4:2:0 thumbnail at quality
// 85, where the fixed cost of a file (tables, headers) shows: the encode
// of issue #17's batches of small photos.
func BenchmarkEncodeThumbnail(b *testing.B) {
	src, err := Decode(bytes.NewReader(readFile(b, "testdata/plasma_FallenLeaf_2560x1600.jpg")), &Options{Scale: 8})
	if err != nil {
		b.Fatal(err)
	}
	img := src.(*image.YCbCr).SubImage(image.Rect(0, 0, 200, 150))
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, img, &EncodeOptions{Quality: 85}); err != nil {
			b.Fatal(err)
		}
	}
}
