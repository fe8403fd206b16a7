package format

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/draw"
	"io"

	"golang.org/x/image/tiff"
)

// encodeTIFF writes img as TIFF (Deflate, horizontal predictor). An opaque
// image in true colour is written as 8-bit RGB, three samples a pixel:
// x/image/tiff writes every such image as RGBA with an alpha channel (a
// paletted TIFF, resized, came out with transparency it never had).
// Paletted, grey, 16-bit and translucent images go to x/image/tiff as
// before.
func encodeTIFF(w io.Writer, img image.Image, _ EncodeOptions) error {
	switch img.(type) {
	case *image.Paletted, *image.Gray, *image.Gray16, *image.RGBA64, *image.NRGBA64:
	default:
		if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
			return encodeRGBTIFF(w, img)
		}
	}
	return tiff.Encode(w, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
}

// encodeRGBTIFF writes an opaque image as a little-endian baseline TIFF
// with one Deflate strip of 8-bit RGB, horizontally differenced, laid out
// as x/image/tiff lays out its files.
func encodeRGBTIFF(w io.Writer, img image.Image) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(image.Rect(0, 0, width, height))
		draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
		b = rgba.Bounds()
	}
	var strip bytes.Buffer
	zw := zlib.NewWriter(&strip)
	row := make([]byte, 3*width)
	for y := 0; y < height; y++ {
		off := rgba.PixOffset(b.Min.X, b.Min.Y+y)
		src := rgba.Pix[off : off+4*width]
		for x := 0; x < width; x++ {
			copy(row[3*x:3*x+3], src[4*x:4*x+3])
		}
		for i := len(row) - 1; i >= 3; i-- { // horizontal predictor: differences
			row[i] -= row[i-3]
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}

	const (
		tShort, tLong, tRational = 3, 4, 5
		headerLen                = 8
	)
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32 // or offset
	}
	stripOff := uint32(headerLen)
	extra := stripOff + uint32(strip.Len()) // bits-per-sample, then resolutions
	bps := extra
	xres := bps + 6
	yres := xres + 8
	ifdOff := yres + 8
	entries := []entry{
		{256, tLong, 1, uint32(width)},
		{257, tLong, 1, uint32(height)},
		{258, tShort, 3, bps},                // BitsPerSample 8,8,8
		{259, tShort, 1, 8},                  // Compression: Deflate
		{262, tShort, 1, 2},                  // PhotometricInterpretation: RGB
		{273, tLong, 1, stripOff},            // StripOffsets
		{277, tShort, 1, 3},                  // SamplesPerPixel
		{278, tLong, 1, uint32(height)},      // RowsPerStrip
		{279, tLong, 1, uint32(strip.Len())}, // StripByteCounts
		{282, tRational, 1, xres},            // XResolution 72
		{283, tRational, 1, yres},            // YResolution 72
		{296, tShort, 1, 2},                  // ResolutionUnit: inch
		{317, tShort, 1, 2},                  // Predictor: horizontal
	}
	le := binary.LittleEndian
	var out bytes.Buffer
	out.Grow(int(ifdOff) + 2 + 12*len(entries) + 4)
	out.WriteString("II*\x00")
	binary.Write(&out, le, ifdOff)
	out.Write(strip.Bytes())
	binary.Write(&out, le, [3]uint16{8, 8, 8})
	binary.Write(&out, le, [4]uint32{72, 1, 72, 1})
	binary.Write(&out, le, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&out, le, e.tag)
		binary.Write(&out, le, e.typ)
		binary.Write(&out, le, e.count)
		if e.typ == tShort && e.count == 1 {
			binary.Write(&out, le, [2]uint16{uint16(e.value), 0})
		} else {
			binary.Write(&out, le, e.value)
		}
	}
	binary.Write(&out, le, uint32(0)) // no next IFD
	_, err := w.Write(out.Bytes())
	return err
}
