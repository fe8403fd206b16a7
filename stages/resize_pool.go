package stages

import (
	"image"
	"math/bits"
	"sync"
)

// planesPool keeps the memory of resized YCbCr images (JPEG to JPEG, the
// common case) from one input to the next: on the thumbnails of issue #17
// (200x150 from 320x240) they were a quarter of the bytes allocated per
// image. Each entry is one buffer holding the three planes, with room for
// the next power of two, so that the other aspect ratios of a batch reuse
// it. Buffers over maxPooledPlanes bytes are not kept.
var planesPool sync.Pool // of *[]byte

const maxPooledPlanes = 1 << 20

// pooledYCbCr returns a w x h YCbCr image subsampled as ratio (4:4:4 or
// 4:2:0), laid out as image.NewYCbCr lays it out and zeroed as it is, in
// memory from planesPool when there is some.
func pooledYCbCr(r image.Rectangle, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	w, h := r.Dx(), r.Dy()
	if r.Min != (image.Point{}) || ratio != image.YCbCrSubsampleRatio420 && ratio != image.YCbCrSubsampleRatio444 {
		return image.NewYCbCr(r, ratio)
	}
	cw, ch := w, h
	if ratio == image.YCbCrSubsampleRatio420 {
		cw, ch = (w+1)/2, (h+1)/2
	}
	i0 := w * h
	i1 := i0 + cw*ch
	i2 := i1 + cw*ch
	if i2 > maxPooledPlanes {
		return image.NewYCbCr(r, ratio)
	}
	var b []byte
	if p, _ := planesPool.Get().(*[]byte); p != nil && cap(*p) >= i2 {
		b = (*p)[:i2]
		clear(b) // as fresh memory: no earlier photo shows through
	} else {
		b = make([]byte, i2, 1<<bits.Len(uint(i2-1)))
	}
	return &image.YCbCr{
		Y: b[:i0], Cb: b[i0:i1:i1], Cr: b[i1:i2:i2],
		SubsampleRatio: ratio, YStride: w, CStride: cw, Rect: r,
	}
}

// Recycle gives the memory of the images Resize made for r back, for
// the next input's: call it once nothing reads them any more, and never
// when a reference to one may have been kept. The engine calls it after
// encode, unless a custom step ran (which may keep an image). Calling it
// again does nothing.
func (r *Resized) Recycle() {
	for _, m := range r.pooled {
		b := m.Y[:cap(m.Y)]
		if cap(b) <= maxPooledPlanes {
			planesPool.Put(&b)
		}
	}
	r.pooled = nil
}
