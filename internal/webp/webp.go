// Package webp writes WebP images: lossy (VP8) through its own pure-Go
// encoder, lossless (VP8L) through github.com/HugoSmits86/nativewebp, with
// alpha, ICC profile and EXIF in the extended (VP8X) container. Reading is
// golang.org/x/image/webp's job.
//
// The lossy encoder codes one VP8 key frame (RFC 6386): 4:2:0 studio-range
// YCbCr, macroblock modes (16x16, 4x4 subblocks, chroma) chosen by
// rate-distortion cost, token probabilities updated from the frame's own
// statistics, the normal loop filter at a level chosen for the image. It
// holds the padded planes, their reconstruction and the quantised
// coefficients, about 8 bytes a pixel at its peak, and takes about 85-90
// ms of CPU a megapixel (BenchmarkEncode, on a loaded 2-core machine).
// The lossless encoder peaks at about 50 bytes a pixel. Alpha is stored
// losslessly in an ALPH chunk. Encode runs on the calling goroutine and
// starts none; concurrent calls are safe.
package webp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"io"
)

// Options controls Encode. The zero value (or nil) is lossy at quality 75.
type Options struct {
	// Quality is 1-100 (0 means 75), on a scale meant to give files of
	// about the size and fidelity of cwebp's -q.
	Quality int
	// Lossless writes VP8L: exact pixels, larger files. Quality is then
	// ignored.
	Lossless bool
	// ICC and EXIF, when not empty, are written as ICCP and EXIF chunks.
	ICC, EXIF []byte
}

// maxSize is the largest width or height WebP allows.
const maxSize = 16383

// Encode writes img to w as WebP.
func Encode(w io.Writer, img image.Image, o *Options) error {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.Quality == 0 {
		opt.Quality = 75
	}
	opt.Quality = min(max(opt.Quality, 1), 100)
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > maxSize || b.Dy() > maxSize {
		return errors.New("webp: image size out of range for WebP (1 to 16383 pixels a side)")
	}
	var c container
	c.w, c.h = b.Dx(), b.Dy()
	c.icc, c.exif = opt.ICC, opt.EXIF
	if err := c.encodeImage(img, &opt); err != nil {
		return err
	}
	_, err := w.Write(c.bytes())
	return err
}

// encodeImage codes img (lossy with its alpha in ALPH, or lossless, as o
// says) into c's image chunks.
func (c *container) encodeImage(img image.Image, o *Options) error {
	if o.Lossless {
		data, alpha, err := encodeVP8L(img)
		if err != nil {
			return err
		}
		c.image, c.fourCC, c.alpha = data, "VP8L", alpha
		return nil
	}
	a := alphaPlane(img)
	frame, err := encodeLossy(img, a, o.Quality)
	if err != nil {
		return err
	}
	c.image, c.fourCC = frame, "VP8 "
	if a != nil {
		b := img.Bounds()
		c.alph, c.alpha = encodeALPH(a, b.Dx(), b.Dy()), true
	}
	return nil
}

// encodeLossy returns the VP8 frame of img, whose alpha plane is alpha
// (nil when opaque), at quality q.
//
// The modes go in a first partition of at most 512 KB (a 19-bit size).
// Measured on a 640x480 photo at quality 50-100, that partition took
// 41-76 bits a macroblock with subblock modes, 8-11 with 16x16 modes only
// and 7-10 with DC prediction only, of which about 3-6 are the header's
// probability updates, spread over 1200 macroblocks. So subblock modes
// overflow from about 15-25 megapixels of detailed photo up (cwebp then
// fails), 16x16 modes from about 100, and DC only (skip flag and two
// modes, about 4 bits) fits WebP's largest image. On overflow the frame
// is encoded again with the next of these, larger and worse but written.
func encodeLossy(img image.Image, alpha []uint8, quality int) ([]byte, error) {
	b := img.Bounds()
	p := toPlanes(img)
	if alpha != nil {
		p.hideTransparent(alpha, b.Dx(), b.Dy())
	}
	qi := qualityToIndex(quality)
	var frame []byte
	var err error
	for _, modes := range []struct {
		bPred    bool
		lastMode int
	}{{true, predTM}, {false, predTM}, {false, predDC}} {
		frame, err = encodeFrame(p, qi, b.Dx(), b.Dy(), modes.bPred, modes.lastMode)
		if !errors.Is(err, errTooBig) {
			break
		}
	}
	return frame, err
}

func encodeFrame(p *yuvPlanes, qi, w, h int, bPred bool, lastMode int) ([]byte, error) {
	e := newVP8Encoder(p.mbw, p.mbh, p.y, p.u, p.v, qi)
	e.bPred, e.lastMode = bPred, lastMode
	e.analyse()
	e.filterLevel = e.chooseFilterLevel(w, h)
	return e.write(w, h)
}

// container is a WebP file's parts: a still image (fourCC, image, alph)
// or an animation (anim, frames).
type container struct {
	w, h      int
	fourCC    string // "VP8 " or "VP8L"
	image     []byte
	alpha     bool   // the image (or a frame) has transparency
	alph      []byte // ALPH chunk payload (lossy with alpha)
	icc, exif []byte
	anim      []byte   // ANIM chunk payload, for an animation
	frames    [][]byte // ANMF chunk payloads, for an animation
	xmp       []byte
}

// Still returns the still WebP file that holds a w x h image coded as
// fourCC ("VP8 " or "VP8L") with body img, and alph, an ALPH chunk's
// payload (nil for none): the file an animation frame's chunks would be
// on their own.
func Still(w, h int, fourCC string, img, alph []byte) []byte {
	c := container{w: w, h: h, fourCC: fourCC, image: img}
	if alph != nil && fourCC == "VP8 " {
		c.alph, c.alpha = alph, true
	}
	return c.bytes()
}

// bytes lays the file out: the simple format (RIFF, WEBP, one image chunk)
// when nothing else is needed, else VP8X, ICCP, ALPH and the image (or
// ANIM and the ANMF frames), EXIF, in the order the container spec (RFC
// 9649) requires, then XMP.
func (c *container) bytes() []byte {
	var body bytes.Buffer
	body.WriteString("WEBP")
	if c.alph != nil || len(c.icc) > 0 || len(c.exif) > 0 || c.anim != nil || len(c.xmp) > 0 {
		var x [10]byte
		if len(c.icc) > 0 {
			x[0] |= 0x20
		}
		if c.alpha {
			x[0] |= 0x10
		}
		if len(c.exif) > 0 {
			x[0] |= 0x08
		}
		if len(c.xmp) > 0 {
			x[0] |= 0x04
		}
		if c.anim != nil {
			x[0] |= 0x02
		}
		put24(x[4:], c.w-1)
		put24(x[7:], c.h-1)
		chunk(&body, "VP8X", x[:])
		if len(c.icc) > 0 {
			chunk(&body, "ICCP", c.icc)
		}
		if c.anim != nil {
			chunk(&body, "ANIM", c.anim)
			for _, f := range c.frames {
				chunk(&body, "ANMF", f)
			}
		} else {
			if c.alph != nil {
				chunk(&body, "ALPH", c.alph)
			}
			chunk(&body, c.fourCC, c.image)
		}
		if len(c.exif) > 0 {
			chunk(&body, "EXIF", c.exif)
		}
		if len(c.xmp) > 0 {
			chunk(&body, "XMP ", c.xmp)
		}
	} else {
		chunk(&body, c.fourCC, c.image)
	}
	out := make([]byte, 8, 8+body.Len())
	copy(out, "RIFF")
	binary.LittleEndian.PutUint32(out[4:], uint32(body.Len()))
	return append(out, body.Bytes()...)
}

func put24(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }

// chunk writes a RIFF chunk, padded to an even size.
func chunk(w *bytes.Buffer, fourCC string, data []byte) {
	var h [8]byte
	copy(h[:], fourCC)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	w.Write(h[:])
	w.Write(data)
	if len(data)&1 == 1 {
		w.WriteByte(0)
	}
}
