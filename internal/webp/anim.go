package webp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
)

// Animation is an animation to write with EncodeAll: whole frames, each
// the canvas as a viewer shows it at that moment.
type Animation struct {
	// Frames all have the canvas's size.
	Frames []image.Image
	// Durations are each frame's time on screen, in milliseconds (at most
	// 16777215).
	Durations []int
	// LoopCount is how many times the animation plays: 0 forever.
	LoopCount int
	// Background is the ANIM chunk's background colour, a hint viewers
	// may use (libwebp's decoder does not: it starts from transparent).
	Background color.NRGBA
}

// maxDuration is the largest frame duration ANMF holds (24 bits).
const maxDuration = 1<<24 - 1

// EncodeAll writes a as an animated WebP: VP8X with the animation flag, an
// ANIM chunk (background colour, loop count) and one ANMF chunk a frame,
// each coded as Encode codes a still image (lossy with ALPH for
// transparency, or lossless, as o says).
//
// Only what changes is written: each frame after the first is cropped to
// the rectangle in which it differs from the one before (its corner moved
// to even coordinates, as ANMF offsets are), and written without
// blending and without disposal, so it replaces that rectangle and leaves
// the rest of the canvas as it was. A frame identical to the one before
// adds its duration to that one instead. Encoding holds one frame's
// coder state at a time, as Encode does, plus the encoded frames.
func EncodeAll(w io.Writer, a *Animation, o *Options) error {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.Quality == 0 {
		opt.Quality = 75
	}
	opt.Quality = min(max(opt.Quality, 1), 100)
	if len(a.Frames) == 0 {
		return errors.New("webp: animation without frames")
	}
	if len(a.Durations) != len(a.Frames) {
		return fmt.Errorf("webp: %d durations for %d frames", len(a.Durations), len(a.Frames))
	}
	canvas := a.Frames[0].Bounds()
	if canvas.Dx() <= 0 || canvas.Dy() <= 0 || canvas.Dx() > maxSize || canvas.Dy() > maxSize {
		return errors.New("webp: image size out of range for WebP (1 to 16383 pixels a side)")
	}
	c := container{w: canvas.Dx(), h: canvas.Dy(), icc: opt.ICC, exif: opt.EXIF}
	c.anim = make([]byte, 6)
	bg := a.Background
	c.anim[0], c.anim[1], c.anim[2], c.anim[3] = bg.B, bg.G, bg.R, bg.A
	loop := min(max(a.LoopCount, 0), 0xffff)
	c.anim[4], c.anim[5] = byte(loop), byte(loop>>8)

	type frame struct {
		rect     image.Rectangle // on the canvas
		img      image.Image
		duration int
	}
	var frames []frame
	for i, img := range a.Frames {
		b := img.Bounds()
		if b.Size() != canvas.Size() {
			return fmt.Errorf("webp: frame %d is %dx%d, the canvas %dx%d", i, b.Dx(), b.Dy(), canvas.Dx(), canvas.Dy())
		}
		d := min(max(a.Durations[i], 0), maxDuration)
		r := image.Rect(0, 0, b.Dx(), b.Dy())
		if i > 0 {
			r = changed(a.Frames[i-1], img)
			if r.Empty() {
				last := &frames[len(frames)-1]
				last.duration = min(last.duration+d, maxDuration)
				continue
			}
			r.Min.X &^= 1
			r.Min.Y &^= 1
		}
		frames = append(frames, frame{rect: r, img: img, duration: d})
	}
	for _, f := range frames {
		var fc container
		sub := crop(f.img, f.rect)
		if err := fc.encodeImage(sub, &opt); err != nil {
			return err
		}
		c.alpha = c.alpha || fc.alpha
		var body bytes.Buffer
		var h [16]byte
		put24(h[0:], f.rect.Min.X/2)
		put24(h[3:], f.rect.Min.Y/2)
		put24(h[6:], f.rect.Dx()-1)
		put24(h[9:], f.rect.Dy()-1)
		put24(h[12:], f.duration)
		h[15] = 0x02 // blending: do not blend; disposal: none
		body.Write(h[:])
		if fc.alph != nil {
			chunk(&body, "ALPH", fc.alph)
		}
		chunk(&body, fc.fourCC, fc.image)
		c.frames = append(c.frames, body.Bytes())
	}
	_, err := w.Write(c.bytes())
	return err
}

// changed returns the smallest rectangle (from (0,0), as the canvas) out
// of which b's pixels equal a's; empty when the images are equal.
func changed(a, b image.Image) image.Rectangle {
	ab, bb := a.Bounds(), b.Bounds()
	r := image.Rectangle{}
	for y := 0; y < bb.Dy(); y++ {
		for x := 0; x < bb.Dx(); x++ {
			if samePixel(a, b, ab.Min.X+x, ab.Min.Y+y, bb.Min.X+x, bb.Min.Y+y) {
				continue
			}
			r = r.Union(image.Rect(x, y, x+1, y+1))
		}
	}
	return r
}

// samePixel compares a's pixel at (ax, ay) with b's at (bx, by), fast for
// the RGBA and NRGBA images the resizer makes.
func samePixel(a, b image.Image, ax, ay, bx, by int) bool {
	switch a := a.(type) {
	case *image.RGBA:
		if b, ok := b.(*image.RGBA); ok {
			i, j := a.PixOffset(ax, ay), b.PixOffset(bx, by)
			return string(a.Pix[i:i+4]) == string(b.Pix[j:j+4])
		}
	case *image.NRGBA:
		if b, ok := b.(*image.NRGBA); ok {
			i, j := a.PixOffset(ax, ay), b.PixOffset(bx, by)
			return string(a.Pix[i:i+4]) == string(b.Pix[j:j+4]) || a.Pix[i+3] == 0 && b.Pix[j+3] == 0
		}
	}
	r1, g1, b1, a1 := a.At(ax, ay).RGBA()
	r2, g2, b2, a2 := b.At(bx, by).RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// crop returns r of img (r relative to img's corner) as an image of its
// own, starting at (0, 0).
func crop(img image.Image, r image.Rectangle) image.Image {
	b := img.Bounds()
	if r == image.Rect(0, 0, b.Dx(), b.Dy()) && b.Min == (image.Point{}) {
		return img
	}
	dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min.Add(r.Min), draw.Src)
	return dst
}
