package stages

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"strconv"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
	"github.com/imgpipe/imgpipe/internal/meta"
)

// Encoded is an input with every target encoded: one file's bytes per
// target, in target order. The pixels have been dropped.
type Encoded struct {
	*Decoded
	Files [][]byte
	// Notes says what could not be carried over, e.g. a colour profile
	// that the output format cannot hold.
	Notes []string
}

// Encode returns the encode stage: each image is flattened onto the
// target's background if the format has no alpha, converted to grey if the
// source was grey, and encoded; the source's colour profile (and, with
// KeepMetadata, its EXIF with the orientation reset) goes into JPEG and PNG
// outputs.
//
// Memory: the encoded bytes, and a flattened copy of images with alpha.
func Encode() func(context.Context, *Resized) (*Encoded, error) {
	return func(ctx context.Context, r *Resized) (*Encoded, error) {
		out := &Encoded{Decoded: r.Decoded, Files: make([][]byte, len(r.Images))}
		if a := r.Decoded.Anim; a != nil && a.Truncated != "" {
			out.Notes = append(out.Notes, a.Truncated)
		}
		for i, img := range r.Images {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t := r.Targets[i]
			var frames []image.Image
			if r.Anim != nil {
				frames = r.Anim[i]
			}
			data, note, err := encodeOne(img, frames, t, r.Decoded)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Name, err)
			}
			if note != "" {
				out.Notes = append(out.Notes, note)
			}
			out.Files[i] = data
		}
		r.Images, r.Anim = nil, nil
		return out, nil
	}
}

func encodeOne(img image.Image, frames []image.Image, t Target, d *Decoded) ([]byte, string, error) {
	if d.Gray {
		img = toGray(img)
	}
	if !hasAlpha(t.Format) && !opaque(img) {
		bg, _ := ParseColor(t.Output.Background) // validated with the config
		img = flatten(img, bg)
	}
	var buf bytes.Buffer
	var err error
	switch t.Format {
	case "jpeg":
		err = ijpeg.Encode(&buf, img, &ijpeg.EncodeOptions{Quality: t.Output.Quality, Progressive: t.Output.Progressive})
	case "png":
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	case "gif":
		if len(frames) > 1 {
			err = encodeAnimation(&buf, frames, d.Anim)
		} else {
			err = gif.Encode(&buf, palettedOf(img, d.Palette), nil)
		}
	case "tiff":
		err = tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	case "bmp":
		err = bmp.Encode(&buf, img)
	default:
		if enc, ok := extraEncoders[t.Format]; ok {
			err = enc(&buf, img, t.Output)
			break
		}
		return nil, "", fmt.Errorf("%w: cannot write %s", ErrUnsupportedFormat, t.Format)
	}
	if err != nil {
		return nil, "", err
	}
	data := buf.Bytes()
	icc, exif, note := d.Meta.ICC, []byte(nil), ""
	if t.Output.KeepMetadata && d.Meta.EXIF != nil {
		exif = meta.ResetOrientation(d.Meta.EXIF)
	}
	if space := iccSpace(icc); icc != nil && space != outputSpace(d) {
		// A CMYK profile on RGB pixels would shift every colour: drop it.
		note = fmt.Sprintf("the input's %s colour profile does not fit the %s output and was dropped; colours were converted without colour management",
			strings.TrimSpace(space), strings.TrimSpace(outputSpace(d)))
		icc = nil
	}
	switch t.Format {
	case "jpeg":
		if icc != nil || exif != nil {
			data, err = meta.EmbedJPEG(data, icc, exif)
		}
	case "png":
		if icc != nil || exif != nil {
			data, err = meta.EmbedPNG(data, icc, exif)
		}
	default:
		if icc != nil && note == "" {
			note = fmt.Sprintf("%s cannot carry the input's colour profile: colours may shift in colour-managed viewers", t.Format)
		}
	}
	return data, note, err
}

// iccSpace returns the colour space an ICC profile describes ("RGB ",
// "GRAY", "CMYK", ...), from its header.
func iccSpace(icc []byte) string {
	if len(icc) < 20 {
		return ""
	}
	return string(icc[16:20])
}

// outputSpace is the ICC name of the colour space encodeOne writes.
func outputSpace(d *Decoded) string {
	if d.Gray {
		return "GRAY"
	}
	return "RGB "
}

// hasAlpha reports whether format can store transparency.
func hasAlpha(format string) bool {
	switch format {
	case "png", "gif", "tiff", "webp", "avif":
		return true
	}
	return false
}

func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// flatten composites img over a solid background.
func flatten(img image.Image, bg color.Color) image.Image {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

func toGray(img image.Image) image.Image {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return img
	}
	b := img.Bounds()
	var g draw.Image = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	if isDeep(img) {
		g = image.NewGray16(image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// ParseColor reads "#rgb", "#rrggbb", "#rrggbbaa" or one of the names
// white, black, transparent.
func ParseColor(s string) (color.NRGBA, error) {
	switch strings.ToLower(s) {
	case "white":
		return color.NRGBA{255, 255, 255, 255}, nil
	case "black":
		return color.NRGBA{0, 0, 0, 255}, nil
	case "transparent":
		return color.NRGBA{}, nil
	}
	h := strings.TrimPrefix(s, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) == 6 {
		h += "ff"
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if len(h) != 8 || err != nil {
		return color.NRGBA{}, fmt.Errorf("colour %q is not #rgb, #rrggbb, white or black", s)
	}
	return color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}
