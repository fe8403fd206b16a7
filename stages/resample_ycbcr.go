package stages

import (
	"image"
)

// resampleYCbCr scales the part r of a YCbCr image to w x h without
// leaving YCbCr: the luma plane at full resolution and the chroma planes at
// their own, subsampled, resolution. For a 4:2:0 photo that is 1.5 bytes a
// pixel of work instead of 4, and no colour conversion on either side: the
// JPEG encoder takes YCbCr as it is. The output is 4:4:4 for a 4:4:4 source
// and 4:2:0 otherwise; the encoder writes those planes as they are when
// they match its quality's subsampling (4:2:0 below 90, 4:4:4 from 90),
// and converts them otherwise.
func resampleYCbCr(src *image.YCbCr, r image.Rectangle, w, h int, f filter) *image.YCbCr {
	p := planYCbCr(src.SubsampleRatio, r.Sub(src.Rect.Min), w, h, f)
	resamplePlane(p.dst.Y, p.dst.YStride, w, h, src.Y, src.YStride, p.ry, p.yx, p.yy)
	resamplePlane(p.dst.Cb, p.dst.CStride, p.cw, p.ch, src.Cb, src.CStride, p.rc, p.cx, p.cy)
	resamplePlane(p.dst.Cr, p.dst.CStride, p.cw, p.ch, src.Cr, src.CStride, p.rc, p.cx, p.cy)
	return p.dst
}

// yccPlan is how resampleYCbCr scales each plane: the output, the parts
// of the luma and chroma planes read, and the taps.
type yccPlan struct {
	dst            *image.YCbCr
	ry, rc         image.Rectangle // in plane coordinates
	yx, yy, cx, cy taps
	cw, ch         int // the output's chroma planes
}

// planYCbCr plans the resampling of the part ry (in plane coordinates) of
// YCbCr planes subsampled as ratio to w x h.
func planYCbCr(ratio image.YCbCrSubsampleRatio, ry image.Rectangle, w, h int, f filter) yccPlan {
	out := image.YCbCrSubsampleRatio420
	if ratio == image.YCbCrSubsampleRatio444 {
		out = image.YCbCrSubsampleRatio444
	}
	p := yccPlan{dst: image.NewYCbCr(image.Rect(0, 0, w, h), out), ry: ry,
		yx: weights(ry.Dx(), w, f), yy: weights(ry.Dy(), h, f)}
	// Chroma: each output chroma sample covers dx x dy output pixels; find
	// where that block lies in the source chroma plane, whose samples each
	// cover sx x sy source pixels.
	sx, sy := subsample(ratio)
	dx, dy := subsample(out)
	p.rc = image.Rect(ry.Min.X/sx, ry.Min.Y/sy, ceilDiv(ry.Max.X, sx), ceilDiv(ry.Max.Y, sy))
	p.cw, p.ch = ceilDiv(w, dx), ceilDiv(h, dy)
	scaleX := float64(dx) * float64(ry.Dx()) / float64(w) / float64(sx)
	scaleY := float64(dy) * float64(ry.Dy()) / float64(h) / float64(sy)
	offX := float64(ry.Min.X)/float64(sx) - float64(p.rc.Min.X)
	offY := float64(ry.Min.Y)/float64(sy) - float64(p.rc.Min.Y)
	p.cx = weightsAt(p.rc.Dx(), p.cw, scaleX, offX, f)
	p.cy = weightsAt(p.rc.Dy(), p.ch, scaleY, offY, f)
	return p
}

// subsample returns the horizontal and vertical chroma subsampling factors.
func subsample(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// resamplePlane scales the part r of one 8-bit plane into a w x h plane
// along taps xw and yw, in fixed point. Columns first: each output row is
// accumulated from whole source rows (a streaming loop), then narrowed
// along its taps (a gathering loop, the costlier kind, so it runs on the
// fewer, output, rows). Output rows go in pairs, so that the gathering
// loop loads each tap's weight once for two rows.
func resamplePlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride int, r image.Rectangle, xw, yw taps) {
	sw := r.Dx()
	acc := make([]int32, sw)
	mid := [2][]uint8{make([]uint8, sw), make([]uint8, sw)}
	for y := 0; y < h; y += 2 {
		rows := min(2, h-y)
		for k := range rows {
			columns(mid[k], acc, src, srcStride, r, yw.start[y+k], yw.fixed[y+k])
		}
		if rows == 1 {
			narrow(dst[y*dstStride:][:w], mid[0], xw)
			continue
		}
		out0, out1 := dst[y*dstStride:][:w], dst[(y+1)*dstStride:][:w]
		m0, m1 := mid[0], mid[1]
		for i, ws := range xw.fixed {
			s0, s1 := m0[xw.start[i]:], m1[xw.start[i]:]
			s0, s1 = s0[:len(ws)], s1[:len(ws)]
			var a0, a1 int32
			j := 0
			for ; j+4 <= len(ws); j += 4 {
				w4, p4, q4 := ws[j:j+4:j+4], s0[j:j+4:j+4], s1[j:j+4:j+4]
				a0 += w4[0]*int32(p4[0]) + w4[1]*int32(p4[1]) + w4[2]*int32(p4[2]) + w4[3]*int32(p4[3])
				a1 += w4[0]*int32(q4[0]) + w4[1]*int32(q4[1]) + w4[2]*int32(q4[2]) + w4[3]*int32(q4[3])
			}
			for ; j < len(ws); j++ {
				a0 += ws[j] * int32(s0[j])
				a1 += ws[j] * int32(s1[j])
			}
			out0[i], out1[i] = clamp8(a0), clamp8(a1)
		}
	}
}

// columns sums the source rows from start along ws into acc, and stores
// the result, rounded to 8 bits, in mid.
func columns(mid []uint8, acc []int32, src []uint8, srcStride int, r image.Rectangle, start int, ws []int32) {
	sw := r.Dx()
	row := func(k int) []uint8 {
		off := (r.Min.Y+start+k)*srcStride + r.Min.X
		return src[off : off+sw]
	}
	k := 0
	if len(ws) >= 2 { // two source rows per sweep: half the loads and stores of acc
		w0, w1, r0, r1 := ws[0], ws[1], row(0), row(1)
		r0, r1 = r0[:len(acc)], r1[:len(acc)]
		for i := range acc {
			acc[i] = w0*int32(r0[i]) + w1*int32(r1[i])
		}
		k = 2
	} else {
		clear(acc)
	}
	for ; k+2 <= len(ws); k += 2 {
		w0, w1, r0, r1 := ws[k], ws[k+1], row(k), row(k+1)
		r0, r1 = r0[:len(acc)], r1[:len(acc)]
		for i := range acc {
			acc[i] += w0*int32(r0[i]) + w1*int32(r1[i])
		}
	}
	if k < len(ws) {
		w0, r0 := ws[k], row(k)
		r0 = r0[:len(acc)]
		for i := range acc {
			acc[i] += w0 * int32(r0[i])
		}
	}
	mid = mid[:len(acc)]
	for i, v := range acc {
		mid[i] = clamp8(v)
	}
}

// narrow resamples one row along the taps xw.
func narrow(out, mid []uint8, xw taps) {
	for i, ws := range xw.fixed {
		s := mid[xw.start[i]:]
		s = s[:len(ws)]
		var a int32
		j := 0
		for ; j+4 <= len(ws); j += 4 {
			w4, s4 := ws[j:j+4:j+4], s[j:j+4:j+4]
			a += w4[0]*int32(s4[0]) + w4[1]*int32(s4[1]) + w4[2]*int32(s4[2]) + w4[3]*int32(s4[3])
		}
		for ; j < len(ws); j++ {
			a += ws[j] * int32(s[j])
		}
		out[i] = clamp8(a)
	}
}
