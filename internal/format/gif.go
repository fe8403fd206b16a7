package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"
)

// Animation is an animation decoded into whole frames: each frame is the
// canvas as a viewer shows it at that moment, so frames can be resized
// independently without seams.
type Animation struct {
	Frames    []*image.RGBA
	Durations []int // milliseconds, per frame
	LoopCount int   // as in image/gif: 0 loops forever, -1 plays once, n plays n+1 times
	Palette   color.Palette
	// Background is the colour an animated WebP names in its ANIM chunk
	// (a hint: frames are composed from transparent, as libwebp does).
	Background color.NRGBA
	// Truncated, when not empty, says that the file was cut short and
	// which frames were kept.
	Truncated string
}

// gifBlocks walks the blocks of a GIF without decoding them and returns the
// number of frames and the pixels of all frame rectangles together, so an
// animation that would allocate too much is refused before decoding, and
// the offset just past the last frame whose data is complete (0 if none
// is), where a file cut short can be ended.
func gifBlocks(data []byte) (frames int, pixels int64, end int64, err error) {
	r := bytes.NewReader(data)
	var hdr [13]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, 0, err
	}
	if hdr[10]&0x80 != 0 {
		r.Seek(3<<(hdr[10]&7+1), io.SeekCurrent)
	}
	skipSubBlocks := func() error {
		for {
			n, err := r.ReadByte()
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			if _, err := r.Seek(int64(n), io.SeekCurrent); err != nil {
				return err
			}
		}
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return frames, pixels, end, nil // truncated: the decoder will say so
		}
		switch b {
		case 0x21: // extension
			if _, err := r.ReadByte(); err != nil {
				return frames, pixels, end, nil
			}
			if skipSubBlocks() != nil {
				return frames, pixels, end, nil
			}
		case 0x2c: // image descriptor
			var d [9]byte
			if _, err := io.ReadFull(r, d[:]); err != nil {
				return frames, pixels, end, nil
			}
			w, h := binary.LittleEndian.Uint16(d[4:]), binary.LittleEndian.Uint16(d[6:])
			frames++
			pixels += int64(w) * int64(h)
			if d[8]&0x80 != 0 {
				r.Seek(3<<(d[8]&7+1), io.SeekCurrent)
			}
			if _, err := r.ReadByte(); err != nil { // LZW minimum code size
				return frames, pixels, end, nil
			}
			if skipSubBlocks() != nil {
				return frames, pixels, end, nil
			}
			end = r.Size() - int64(r.Len())
		case 0x3b: // trailer
			return frames, pixels, end, nil
		default:
			return frames, pixels, end, errors.New("gif: unknown block")
		}
	}
}

// decodeGIFFrames decodes every frame of a GIF and composes them onto the
// canvas, applying each frame's disposal. A GIF cut short (a download or
// copy that stopped) keeps the frames that arrived whole, and says so in
// Truncated.
func decodeGIFFrames(data []byte) (*Animation, error) {
	g, err := gif.DecodeAll(bytes.NewReader(data))
	truncated := false
	if err != nil {
		// Retry with the complete frames only, followed by a trailer.
		_, _, end, _ := gifBlocks(data)
		if end == 0 {
			return nil, err
		}
		g2, err2 := gif.DecodeAll(bytes.NewReader(append(data[:end:end], 0x3b)))
		if err2 != nil || len(g2.Image) == 0 {
			return nil, err
		}
		g, truncated = g2, true
	}
	canvasRect := image.Rect(0, 0, g.Config.Width, g.Config.Height)
	canvas := image.NewRGBA(canvasRect)
	a := &Animation{LoopCount: g.LoopCount, Palette: unionPalette(g)}
	for _, d := range g.Delay {
		a.Durations = append(a.Durations, 10*d)
	}
	if truncated {
		a.Truncated = fmt.Sprintf("the GIF is cut short (%v): kept its %d complete frames", err, len(g.Image))
	}
	for i, frame := range g.Image {
		var saved *image.RGBA
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		if disposal == gif.DisposalPrevious {
			saved = image.NewRGBA(canvasRect)
			copy(saved.Pix, canvas.Pix)
		}
		draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Over)
		shot := image.NewRGBA(canvasRect)
		copy(shot.Pix, canvas.Pix)
		a.Frames = append(a.Frames, shot)
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, frame.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	if len(a.Frames) == 0 {
		return nil, errors.New("gif: no frames")
	}
	for len(a.Durations) < len(a.Frames) {
		a.Durations = append(a.Durations, 0)
	}
	return a, nil
}

// unionPalette gathers the colours of every frame's palette, or returns nil
// (meaning a generic palette) when they are more than a GIF can hold.
func unionPalette(g *gif.GIF) color.Palette {
	seen := map[color.RGBA]bool{}
	var pal color.Palette
	for _, frame := range g.Image {
		for _, c := range frame.Palette {
			rgba := color.RGBAModel.Convert(c).(color.RGBA)
			if !seen[rgba] {
				seen[rgba] = true
				pal = append(pal, rgba)
			}
		}
	}
	if len(pal) > 256 {
		return nil
	}
	return pal
}

// encodeGIFFrames writes frames as an animated GIF: whole frames, each
// replacing the last (background disposal), mapped onto the source's
// palette with dithering.
func encodeGIFFrames(w io.Writer, frames []image.Image, a *Animation, _ EncodeOptions) error {
	pal := a.Palette
	if len(pal) == 0 || len(pal) > 256 {
		pal = nil
	}
	out := &gif.GIF{LoopCount: a.LoopCount}
	for i, f := range frames {
		p := Paletted(f, pal)
		out.Image = append(out.Image, p)
		out.Delay = append(out.Delay, (a.Durations[i]+5)/10)
		out.Disposal = append(out.Disposal, gif.DisposalBackground)
	}
	return gif.EncodeAll(w, out)
}

// Paletted maps img onto pal (with a transparent entry added if img has
// transparency and pal has none), dithering with Floyd-Steinberg. A nil
// pal means the web-safe Plan 9 palette, as image/gif uses.
func Paletted(img image.Image, pal color.Palette) *image.Paletted {
	if pal == nil {
		pal = palette.Plan9
	}
	if o, ok := img.(interface{ Opaque() bool }); !(ok && o.Opaque()) && !hasTransparent(pal) {
		if len(pal) == 256 {
			pal = append(color.Palette{}, pal[:255]...)
		} else {
			pal = append(color.Palette{}, pal...)
		}
		pal = append(pal, color.RGBA{})
	}
	b := img.Bounds()
	p := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
	draw.FloydSteinberg.Draw(p, p.Bounds(), img, b.Min)
	return p
}

func hasTransparent(pal color.Palette) bool {
	for _, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 {
			return true
		}
	}
	return false
}

// gifFrames counts a GIF's frames and the pixels of all their rectangles,
// without decoding them.
func gifFrames(data []byte) (int, int64, error) {
	n, px, _, err := gifBlocks(data)
	return n, px, err
}
