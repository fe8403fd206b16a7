package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"

	iwebp "github.com/imgpipe/imgpipe/internal/webp"
)

// Animated WebP (RFC 9649): a VP8X chunk with the animation flag and the
// canvas size, an ANIM chunk (background colour, loop count), then one
// ANMF chunk a frame: its offset (even), size, duration, blending and
// disposal, and its image as a still WebP's chunks (ALPH and VP8, or
// VP8L). Each frame is decoded by golang.org/x/image/webp (through
// decodeWebP, which also fixes lossy WebP's colours) from a still file
// made of its chunks, then composed onto the canvas as libwebp's
// WebPAnimDecoder does: the canvas starts transparent (the background
// colour is a hint libwebp ignores too), a frame is alpha-blended onto it
// or replaces its rectangle, and disposal to background clears the
// rectangle to transparent after the frame is shown.

// webpFrame is one ANMF chunk.
type webpFrame struct {
	rect     image.Rectangle
	duration int  // milliseconds
	blend    bool // alpha-blend onto the canvas, else replace the rectangle
	dispose  bool // clear the rectangle after showing the frame
	data     []byte
}

// webpAnim is an animated WebP's container, parsed.
type webpAnim struct {
	w, h       int
	loop       int // 0 forever, else times played
	background color.NRGBA
	frames     []webpFrame
}

var errWebPAnim = errors.New("webp: malformed animation")

// parseWebPAnim reads an animated WebP's chunks without decoding a frame.
// With first, it stops after the first frame.
func parseWebPAnim(data []byte, first bool) (*webpAnim, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errWebPAnim
	}
	if n := int64(binary.LittleEndian.Uint32(data[4:])) + 8; n < int64(len(data)) {
		data = data[:n] // what follows the RIFF chunk is not part of it
	}
	a := &webpAnim{}
	seenVP8X, seenANIM := false, false
	for rest := data[12:]; len(rest) >= 8; {
		size := int(binary.LittleEndian.Uint32(rest[4:]))
		if size > len(rest)-8 || size < 0 {
			return nil, fmt.Errorf("%w: a %q chunk runs past the end of the file", errWebPAnim, rest[:4])
		}
		fourCC, body := string(rest[:4]), rest[8:8+size]
		rest = rest[min(8+size+size&1, len(rest)):]
		switch fourCC {
		case "VP8X":
			if len(body) < 10 || seenVP8X {
				return nil, fmt.Errorf("%w: bad VP8X chunk", errWebPAnim)
			}
			seenVP8X = true
			if body[0]&0x02 == 0 {
				return nil, fmt.Errorf("%w: not animated", errWebPAnim)
			}
			a.w, a.h = 1+int(get24(body[4:])), 1+int(get24(body[7:]))
		case "ANIM":
			if len(body) < 6 || !seenVP8X {
				return nil, fmt.Errorf("%w: bad ANIM chunk", errWebPAnim)
			}
			seenANIM = true
			a.background = color.NRGBA{B: body[0], G: body[1], R: body[2], A: body[3]}
			a.loop = int(binary.LittleEndian.Uint16(body[4:]))
		case "ANMF":
			if len(body) < 16 || !seenANIM {
				return nil, fmt.Errorf("%w: bad ANMF chunk", errWebPAnim)
			}
			x, y := 2*int(get24(body[0:])), 2*int(get24(body[3:]))
			w, h := 1+int(get24(body[6:])), 1+int(get24(body[9:]))
			f := webpFrame{rect: image.Rect(x, y, x+w, y+h), duration: int(get24(body[12:])),
				blend: body[15]&0x02 == 0, dispose: body[15]&0x01 != 0, data: body[16:]}
			if f.rect.Max.X > a.w || f.rect.Max.Y > a.h {
				return nil, fmt.Errorf("%w: frame %d (%v) is outside the %dx%d canvas", errWebPAnim, len(a.frames), f.rect, a.w, a.h)
			}
			a.frames = append(a.frames, f)
			if first {
				return a, nil
			}
		}
	}
	if !seenANIM {
		return nil, fmt.Errorf("%w: no ANIM chunk", errWebPAnim)
	}
	if len(a.frames) == 0 {
		return nil, fmt.Errorf("%w: no frames", errWebPAnim)
	}
	return a, nil
}

func get24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

// decode decodes one frame's image from its chunks: it makes the still
// WebP file they would be (a VP8X container when there is an ALPH chunk)
// and decodes that.
func (f *webpFrame) decode() (image.Image, error) {
	var alph, img []byte
	fourCC := ""
	for rest := f.data; len(rest) >= 8; {
		size := int(binary.LittleEndian.Uint32(rest[4:]))
		if size > len(rest)-8 || size < 0 {
			return nil, fmt.Errorf("%w: a frame's chunk runs past its end", errWebPAnim)
		}
		c, body := string(rest[:4]), rest[8:8+size]
		rest = rest[min(8+size+size&1, len(rest)):]
		switch c {
		case "ALPH":
			if fourCC == "" {
				alph = body
			}
		case "VP8 ", "VP8L":
			if fourCC == "" {
				fourCC, img = c, body
			}
		}
	}
	if fourCC == "" {
		return nil, fmt.Errorf("%w: a frame has no image", errWebPAnim)
	}
	b := iwebp.Still(f.rect.Dx(), f.rect.Dy(), fourCC, img, alph)
	m, err := decodeWebP(bytes.NewReader(b), 1)
	if err != nil {
		return nil, err
	}
	if m.Bounds().Size() != f.rect.Size() {
		return nil, fmt.Errorf("%w: a frame's image is %v, its ANMF chunk says %v", errWebPAnim, m.Bounds().Size(), f.rect.Size())
	}
	return m, nil
}

// compose decodes a's frames and composes them, calling shot with the
// canvas after each frame is drawn (the canvas is reused: shot copies
// what it keeps). It stops after n frames.
func (a *webpAnim) compose(n int, shot func(i int, canvas *image.RGBA)) error {
	canvas := image.NewRGBA(image.Rect(0, 0, a.w, a.h))
	for i := range min(n, len(a.frames)) {
		f := &a.frames[i]
		m, err := f.decode()
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		op := draw.Src
		if f.blend {
			op = draw.Over
		}
		draw.Draw(canvas, f.rect, m, m.Bounds().Min, op)
		shot(i, canvas)
		if f.dispose {
			draw.Draw(canvas, f.rect, image.Transparent, image.Point{}, draw.Src)
		}
	}
	return nil
}

// decodeWebPAnimConfig reads the canvas size.
func decodeWebPAnimConfig(r io.Reader) (image.Config, error) {
	var head [30]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return image.Config{}, err
	}
	if string(head[12:16]) != "VP8X" || head[20]&0x02 == 0 {
		return image.Config{}, errWebPAnim
	}
	return image.Config{ColorModel: color.RGBAModel, Width: 1 + int(get24(head[24:])), Height: 1 + int(get24(head[27:]))}, nil
}

// decodeWebPAnim decodes the first frame, on the canvas.
func decodeWebPAnim(r io.Reader, _ int) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	a, err := parseWebPAnim(data, true)
	if err != nil {
		return nil, err
	}
	var first *image.RGBA
	err = a.compose(1, func(_ int, c *image.RGBA) { first = c })
	return first, err
}

// webpAnimFrames counts the frames and the pixels of their rectangles,
// decoding none.
func webpAnimFrames(data []byte) (int, int64, error) {
	a, err := parseWebPAnim(data, false)
	if err != nil {
		return 0, 0, err
	}
	var px int64
	for _, f := range a.frames {
		px += int64(f.rect.Dx()) * int64(f.rect.Dy())
	}
	return len(a.frames), px, nil
}

// decodeWebPAnimFrames decodes and composes every frame.
func decodeWebPAnimFrames(data []byte) (*Animation, error) {
	a, err := parseWebPAnim(data, false)
	if err != nil {
		return nil, err
	}
	out := &Animation{Background: a.background, LoopCount: a.loop - 1} // image/gif's count: 0 forever, -1 once
	if a.loop == 0 {
		out.LoopCount = 0
	}
	err = a.compose(len(a.frames), func(i int, c *image.RGBA) {
		shot := image.NewRGBA(c.Rect)
		copy(shot.Pix, c.Pix)
		out.Frames = append(out.Frames, shot)
		out.Durations = append(out.Durations, a.frames[i].duration)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// encodeWebPFrames writes frames as an animated WebP with internal/webp.
func encodeWebPFrames(w io.Writer, frames []image.Image, a *Animation, o EncodeOptions) error {
	loop := 0 // image/gif's count to WebP's: times played
	if a.LoopCount != 0 {
		loop = max(a.LoopCount+1, 1)
	}
	return iwebp.EncodeAll(w, &iwebp.Animation{Frames: frames, Durations: a.Durations[:len(frames)],
		LoopCount: loop, Background: a.Background}, &iwebp.Options{Quality: o.Quality, Lossless: o.Lossless})
}
