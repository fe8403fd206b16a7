package webp

// Intra prediction, RFC 6386 section 12.

// Macroblock-level modes (luma 16x16 and chroma 8x8), in the spec's
// numbering; bPred is luma's "each subblock has its own mode".
const (
	predDC = iota
	predV
	predH
	predTM
	bPred
)

// Subblock modes, in the spec's numbering (intra_bmode).
const (
	bDC = iota
	bTM
	bVE
	bHE
	bLD
	bRD
	bVR
	bVL
	bHD
	bHU
	numBModes
)

// edges are the reconstructed pixels around a block that predict it: the
// row above (with, for luma, the 4 pixels above and to the right after
// it), the column to the left and the corner pixel p; 127 above the frame,
// 129 left of it. hasTop and hasLeft say whether the block is inside the
// frame on that side, which only DC prediction asks.
type edges struct {
	top             [20]uint8
	left            [16]uint8
	p               uint8
	hasTop, hasLeft bool
}

// predictBlock fills dst (n x n, row-major) with the prediction of the
// macroblock-level mode for an n x n block (16 luma, 8 chroma).
func predictBlock(mode, n int, e *edges, dst []uint8) {
	switch mode {
	case predDC:
		v := 128
		shift := 3
		if n == 16 {
			shift = 4
		}
		switch {
		case e.hasTop && e.hasLeft:
			s := 0
			for i := range n {
				s += int(e.top[i]) + int(e.left[i])
			}
			v = (s + 1<<shift) >> (shift + 1)
		case e.hasTop:
			s := 0
			for i := range n {
				s += int(e.top[i])
			}
			v = (s + 1<<(shift-1)) >> shift
		case e.hasLeft:
			s := 0
			for i := range n {
				s += int(e.left[i])
			}
			v = (s + 1<<(shift-1)) >> shift
		}
		for i := range n * n {
			dst[i] = uint8(v)
		}
	case predV:
		for y := range n {
			copy(dst[y*n:y*n+n], e.top[:n])
		}
	case predH:
		for y := range n {
			for x := range n {
				dst[y*n+x] = e.left[y]
			}
		}
	case predTM:
		for y := range n {
			d := int(e.left[y]) - int(e.p)
			for x := range n {
				dst[y*n+x] = clamp255(d + int(e.top[x]))
			}
		}
	}
}

func clamp255(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func avg3(x, y, z uint8) uint8 { return uint8((int(x) + 2*int(y) + int(z) + 2) >> 2) }
func avg2(x, y uint8) uint8    { return uint8((int(x) + int(y) + 1) >> 1) }

// predictSub fills dst (4x4) with subblock mode's prediction from the row
// above a (a[0:4] above, a[4:8] above right), the column to the left l
// and the corner p: RFC 6386 section 12.3's subblock_intra_predict.
func predictSub(mode int, a *[8]uint8, l *[4]uint8, p uint8, dst *[16]uint8) {
	// e is the edge from the bottom of the left column round to the top
	// right: l[3], l[2], l[1], l[0], p, a[0..7].
	e := [13]uint8{l[3], l[2], l[1], l[0], p, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]}
	set := func(y, x int, v uint8) { dst[4*y+x] = v }
	switch mode {
	case bDC:
		v := 4
		for i := range 4 {
			v += int(a[i]) + int(l[i])
		}
		for i := range dst {
			dst[i] = uint8(v >> 3)
		}
	case bTM:
		for y := range 4 {
			for x := range 4 {
				set(y, x, clamp255(int(l[y])+int(a[x])-int(p)))
			}
		}
	case bVE:
		for x := range 4 {
			v := avg3(e[4+x], e[5+x], e[6+x])
			for y := range 4 {
				set(y, x, v)
			}
		}
	case bHE:
		rows := [4]uint8{avg3(p, l[0], l[1]), avg3(l[0], l[1], l[2]), avg3(l[1], l[2], l[3]), avg3(l[2], l[3], l[3])}
		for y := range 4 {
			for x := range 4 {
				set(y, x, rows[y])
			}
		}
	case bLD:
		// Pixel (y, x) lies on the diagonal x+y, predicted from above.
		for y := range 4 {
			for x := range 4 {
				i := x + y
				if i == 6 {
					set(y, x, avg3(a[6], a[7], a[7]))
				} else {
					set(y, x, avg3(a[i], a[i+1], a[i+2]))
				}
			}
		}
	case bRD:
		// Pixel (y, x) lies on the diagonal x-y, centred on e[4+x-y].
		for y := range 4 {
			for x := range 4 {
				i := 4 + x - y
				set(y, x, avg3(e[i-1], e[i], e[i+1]))
			}
		}
	case bVR:
		set(3, 0, avg3(e[1], e[2], e[3]))
		set(2, 0, avg3(e[2], e[3], e[4]))
		v := avg3(e[3], e[4], e[5])
		set(3, 1, v)
		set(1, 0, v)
		v = avg2(e[4], e[5])
		set(2, 1, v)
		set(0, 0, v)
		v = avg3(e[4], e[5], e[6])
		set(3, 2, v)
		set(1, 1, v)
		v = avg2(e[5], e[6])
		set(2, 2, v)
		set(0, 1, v)
		v = avg3(e[5], e[6], e[7])
		set(3, 3, v)
		set(1, 2, v)
		v = avg2(e[6], e[7])
		set(2, 3, v)
		set(0, 2, v)
		set(1, 3, avg3(e[6], e[7], e[8]))
		set(0, 3, avg2(e[7], e[8]))
	case bVL:
		set(0, 0, avg2(a[0], a[1]))
		set(1, 0, avg3(a[0], a[1], a[2]))
		v := avg2(a[1], a[2])
		set(2, 0, v)
		set(0, 1, v)
		v = avg3(a[1], a[2], a[3])
		set(1, 1, v)
		set(3, 0, v)
		v = avg2(a[2], a[3])
		set(2, 1, v)
		set(0, 2, v)
		v = avg3(a[2], a[3], a[4])
		set(3, 1, v)
		set(1, 2, v)
		v = avg2(a[3], a[4])
		set(2, 2, v)
		set(0, 3, v)
		v = avg3(a[3], a[4], a[5])
		set(3, 2, v)
		set(1, 3, v)
		set(2, 3, avg3(a[4], a[5], a[6]))
		set(3, 3, avg3(a[5], a[6], a[7]))
	case bHD:
		set(3, 0, avg2(e[0], e[1]))
		set(3, 1, avg3(e[0], e[1], e[2]))
		v := avg2(e[1], e[2])
		set(2, 0, v)
		set(3, 2, v)
		v = avg3(e[1], e[2], e[3])
		set(2, 1, v)
		set(3, 3, v)
		v = avg2(e[2], e[3])
		set(2, 2, v)
		set(1, 0, v)
		v = avg3(e[2], e[3], e[4])
		set(2, 3, v)
		set(1, 1, v)
		v = avg2(e[3], e[4])
		set(1, 2, v)
		set(0, 0, v)
		v = avg3(e[3], e[4], e[5])
		set(1, 3, v)
		set(0, 1, v)
		set(0, 2, avg3(e[4], e[5], e[6]))
		set(0, 3, avg3(e[5], e[6], e[7]))
	case bHU:
		set(0, 0, avg2(l[0], l[1]))
		set(0, 1, avg3(l[0], l[1], l[2]))
		v := avg2(l[1], l[2])
		set(0, 2, v)
		set(1, 0, v)
		v = avg3(l[1], l[2], l[3])
		set(0, 3, v)
		set(1, 1, v)
		v = avg2(l[2], l[3])
		set(1, 2, v)
		set(2, 0, v)
		v = avg3(l[2], l[3], l[3])
		set(1, 3, v)
		set(2, 1, v)
		for _, yx := range [][2]int{{2, 2}, {2, 3}, {3, 0}, {3, 1}, {3, 2}, {3, 3}} {
			set(yx[0], yx[1], l[3])
		}
	}
}
