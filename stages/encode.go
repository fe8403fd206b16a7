package stages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
)

// Encoded is an input with one file's bytes per target, in target order.
type Encoded struct {
	*Decoded
	Files [][]byte
	Notes []string // what could not be carried over (a colour profile...)
}

// Encode returns the encode stage: images are flattened where the format
// has no alpha, kept grey if the source was, and encoded with the colour
// profile (and, with KeepMetadata, EXIF, XMP and IPTC) where the format
// holds them; a {hash} in a target's name is filled in.
func Encode() func(context.Context, *Resized) (*Encoded, error) {
	return func(ctx context.Context, r *Resized) (*Encoded, error) {
		out := &Encoded{Decoded: r.Decoded, Files: make([][]byte, len(r.Images))}
		out.Notes = append(out.Notes, r.Decoded.notes...)
		if a := r.Decoded.anim; a != nil && a.Truncated != "" {
			out.Notes = append(out.Notes, a.Truncated)
		}
		var ic inputColour
		for i, img := range r.Images {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t := r.Targets[i]
			var frames []image.Image
			if r.Anim != nil {
				frames = r.Anim[i]
			}
			c := ic.colourFor(t, r.Decoded)
			img, frames = c.convert(img, frames)
			data, note, err := encodeOne(img, frames, t, r.Decoded, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Name, err)
			}
			if note != "" {
				out.Notes = append(out.Notes, note)
			}
			out.Files[i] = data
			if strings.Contains(t.Name, hashPlaceholder) { // known only now: name the file
				r.Targets[i].Name = strings.ReplaceAll(t.Name, hashPlaceholder, shortHash(data))
			}
		}
		r.Images, r.Anim = nil, nil
		return out, nil
	}
}

func encodeOne(img image.Image, frames []image.Image, t Target, d *Decoded, c colour) ([]byte, string, error) {
	data, note, err := encodeAt(img, frames, t, d, c)
	if err != nil || t.Output.MaxBytes <= 0 || int64(len(data)) <= t.Output.MaxBytes || !hasQuality(t) {
		return data, note, err
	}
	return fitBytes(img, frames, t, d, c)
}

// encodeAt encodes img (or frames) for t at t.Output.Quality, with c's
// profile and palette.
func encodeAt(img image.Image, frames []image.Image, t Target, d *Decoded, c colour) ([]byte, string, error) {
	f := format.ByName(t.Format)
	if f == nil || !f.Writable() {
		return nil, "", fmt.Errorf("%w: cannot write %s", ErrUnsupportedFormat, t.Format)
	}
	if d.Gray {
		img = toGray(img)
	}
	if !f.Alpha && !opaque(img) {
		bg, _ := parseColor(t.Output.Background) // validated with the config
		img = flatten(img, bg)
	}
	// Room for a typical file from the start (q85 thumbnails take about
	// 2.7 bits a pixel): grown from nothing, the buffer was reallocated
	// about ten times per image, a tenth of the bytes allocated per
	// thumbnail.
	var buf bytes.Buffer
	if b := img.Bounds(); len(frames) <= 1 {
		buf.Grow(b.Dx()*b.Dy()/3 + 4<<10)
	}
	var err error
	o := format.EncodeOptions{Quality: t.Output.Quality, Progressive: t.Output.Progressive,
		Lossless: t.Output.Lossless, Palette: c.palette}
	if len(frames) > 1 && f.EncodeFrames != nil {
		a := d.anim
		if c.tr != nil && a != nil && a.Palette != nil { // frames in sRGB: so their palette
			cp := *a
			cp.Palette = convertPalette(a.Palette, c.tr)
			a = &cp
		}
		err = f.EncodeFrames(&buf, frames, a, o)
	} else {
		err = f.Encode(&buf, img, o)
	}
	if err != nil {
		return nil, "", err
	}
	data := buf.Bytes()
	icc, note := c.icc, ""
	exif, xmp, iptc := metadataFor(t, d.Meta)
	if space := iccSpace(icc); icc != nil && space != outputSpace(d) {
		// A CMYK profile on RGB pixels would shift every colour: drop it.
		note = fmt.Sprintf("the input's %s colour profile does not fit the %s output and was dropped; colours were converted without colour management",
			strings.TrimSpace(space), strings.TrimSpace(outputSpace(d)))
		icc = nil
	}
	if f.EmbedXMP != nil && (xmp != nil || iptc != nil) {
		// Too big for the format (a JPEG segment holds 64 KiB): the image
		// is still worth writing without them.
		if withXMP, err := f.EmbedXMP(data, xmp, iptc); err == nil {
			data = withXMP
		} else {
			note = strings.TrimPrefix(note+"; XMP and IPTC were not kept: "+err.Error(), "; ")
		}
	}
	switch {
	case f.Embed != nil:
		if icc != nil || exif != nil {
			data, err = f.Embed(data, icc, exif)
		}
	case icc != nil && note == "" && !c.srgb:
		note = fmt.Sprintf("%s cannot carry the input's colour profile: colours may shift in colour-managed viewers", t.Format)
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

// parseColor reads "#rgb", "#rrggbb", "#rrggbbaa" or one of the names
// white, black, transparent.
func parseColor(s string) (color.NRGBA, error) {
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

// Saved is an input whose outputs are written (or handed to a sink).
type Saved struct {
	*Encoded
	Paths []string // where each target was written, in target order
}

// hashPlaceholder, in a name template, stands for shortHash of the file.
const hashPlaceholder = "{hash}"

// shortHash is what {hash} in a name template becomes: the first 10 hex
// digits (40 bits) of the SHA-256 of the file's bytes (internal/plan finds
// such names again: keep its hashDigits in step).
func shortHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:5])
}
