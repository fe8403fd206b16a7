package meta

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateTestdata rebuilds testdata/ from the corpus. It only runs with
// IMGPIPE_GEN_TESTDATA=1 and IMGPIPE_CORPUS=$PWD/../shared/corpus (from the repository root).
//
// Big corpus files are shrunk without touching their metadata: the "mini"
// JPEGs keep every APPn/COM segment of the original byte for byte, followed
// by an image/jpeg encoding of the original pixels box-downscaled by an
// integer factor (so orientation tests still work on them); the mini PNG
// keeps the original's ancillary chunks before IDAT around an image/png
// encoding of the downscaled pixels. "header" files are the original bytes
// up to the end of the SOS header plus EOI (not decodable; Read-only).
func TestGenerateTestdata(t *testing.T) {
	corpus := os.Getenv("IMGPIPE_CORPUS")
	if os.Getenv("IMGPIPE_GEN_TESTDATA") != "1" || corpus == "" {
		t.Skip("set IMGPIPE_GEN_TESTDATA=1 and IMGPIPE_CORPUS to regenerate testdata")
	}
	in := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(corpus, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copies := map[string]string{
		"edge/tiny/camera_Canon_40D_100x68.jpg": "canon40d_100x68.jpg",
		"formats/jpeg/go_video-001.cmyk.jpeg":   "go_video-001.cmyk.jpeg",
		"formats/pngsuite/exif2c08.png":         "pngsuite_exif2c08.png",
		"formats/tiff/Crémieux11.tiff":          "cremieux11_icc.tiff",
		"edge/tiny/1x1.webp":                    "1x1.webp",
		"edge/exif_weird/image01551.jpg":        "exif_weird_image01551.jpg",
		"bad/truncated_header_only.jpg":         "truncated_header_only.jpg",
	}
	for src, dst := range copies {
		out(dst, in(src))
	}
	var minis []string
	for _, s := range []string{"Landscape", "Portrait"} {
		for o := 0; o <= 8; o++ {
			minis = append(minis, "orientation/"+s+"_"+string(rune('0'+o))+".jpg")
		}
	}
	minis = append(minis,
		"orientation/Landscape_8_exif_little_endian.jpg",
		"orientation/Landscape_orientation_9_invalid.jpg",
		"orientation/camera_Canon_SX60_orient6.jpg",
		"formats/jpeg/icc_display_p3_iPhone11.jpg",
		"formats/jpeg/icc_adobe_rgb_FallenLeaf.jpg",
		"formats/jpeg/icc_prophoto_FallenLeaf.jpg",
		"edge/exif_weird/45-gps_ifd.jpg",
	)
	for _, p := range minis {
		b := in(p)
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(p, err)
		}
		var enc bytes.Buffer
		if err := jpeg.Encode(&enc, boxDown(img, 40), &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		mini := append([]byte{0xFF, 0xD8}, jpegAppSegments(t, b)...)
		mini = append(mini, enc.Bytes()[2:]...)
		out("mini_"+strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))+".jpg", mini)
	}
	// Header-only YCCK file (Adobe transform 2).
	b := in("formats/jpeg/cmyk_ycck_FallenLeaf.jpg")
	out("header_cmyk_ycck_FallenLeaf.jpg", append(jpegThroughSOS(t, b), 0xFF, 0xD9))

	// Mini 16-bit PNG with the original iCCP and other ancillary chunks.
	b = in("formats/png/libjpeg-turbo_monkey16.png")
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := png.Encode(&enc, boxDown(img, 40)); err != nil {
		t.Fatal(err)
	}
	e := enc.Bytes()
	ihdrEnd := 8 + 12 + int(binary.BigEndian.Uint32(e[8:]))
	var mini []byte
	mini = append(mini, e[:ihdrEnd]...)
	mini = append(mini, pngAncillaryBeforeIDAT(t, b)...)
	mini = append(mini, e[ihdrEnd:]...)
	out("mini_libjpeg-turbo_monkey16.png", mini)
}

// boxDown shrinks img by the integer factor that brings its longer side to
// about maxSide pixels (preferring one that divides both sides), averaging f×f blocks (remainder rows/columns are
// dropped). The result is NRGBA64 to keep 16-bit sources 16-bit.
func boxDown(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	f := max(b.Dx(), b.Dy()) / maxSide
	if f < 1 {
		f = 1
	}
	// Prefer a factor that divides both sides, so that flipped and rotated
	// versions of a picture are downscaled over the same blocks.
	for g := f; g <= 2*f; g++ {
		if b.Dx()%g == 0 && b.Dy()%g == 0 {
			f = g
			break
		}
	}
	w, h := b.Dx()/f, b.Dy()/f
	dst := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, bb, a uint64
			for j := 0; j < f; j++ {
				for i := 0; i < f; i++ {
					c := color.NRGBA64Model.Convert(img.At(b.Min.X+x*f+i, b.Min.Y+y*f+j)).(color.NRGBA64)
					r, g, bb, a = r+uint64(c.R), g+uint64(c.G), bb+uint64(c.B), a+uint64(c.A)
				}
			}
			n := uint64(f * f)
			dst.SetNRGBA64(x, y, color.NRGBA64{uint16(r / n), uint16(g / n), uint16(bb / n), uint16(a / n)})
		}
	}
	return dst
}

// jpegAppSegments returns the APPn and COM segments of a JPEG header.
func jpegAppSegments(t *testing.T, b []byte) []byte {
	var out []byte
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xFF {
		m := b[pos+1]
		if m == mSOS {
			break
		}
		n := int(b[pos+2])<<8 | int(b[pos+3])
		if (m >= 0xE0 && m <= 0xEF) || m == 0xFE {
			out = append(out, b[pos:pos+2+n]...)
		}
		pos += 2 + n
	}
	return out
}

// jpegThroughSOS returns b up to the end of the SOS segment header.
func jpegThroughSOS(t *testing.T, b []byte) []byte {
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xFF {
		m := b[pos+1]
		n := int(b[pos+2])<<8 | int(b[pos+3])
		pos += 2 + n
		if m == mSOS {
			return b[:pos]
		}
	}
	t.Fatal("no SOS")
	return nil
}

// pngAncillaryBeforeIDAT returns the chunks between IHDR and the first IDAT
// except the critical ones (PLTE) and those tied to the pixel format
// (sBIT, tRNS, bKGD).
func pngAncillaryBeforeIDAT(t *testing.T, b []byte) []byte {
	var out []byte
	pos := 8
	for pos+12 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		typ := string(b[pos+4 : pos+8])
		if typ == "IDAT" {
			break
		}
		switch typ {
		case "IHDR", "PLTE", "sBIT", "tRNS", "bKGD":
		default:
			out = append(out, b[pos:pos+12+n]...)
		}
		pos += 12 + n
	}
	return out
}
