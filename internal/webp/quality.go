package webp

// qualityToIndex maps Quality 1-100 to VP8's quantiser index 0-127.
//
// The anchors make our files about the size of cwebp -m 4's at the same
// -q: on five images (four photos scaled to 800 wide, gray.jpg) the index
// giving cwebp's size at q 30, 50, 65, 80, 90 and 95 was 52-58, 36-40,
// 30-34, 18-22, 8-10 and 2-4; on three of them, at q 1, 10 and 20,
// 88-100, 66-76 and 60-62. Indices above 95, smaller and worse than
// anything cwebp -q writes, are not used.
func qualityToIndex(q int) int {
	anchors := [...][2]int{{1, 95}, {10, 71}, {20, 61}, {30, 54}, {50, 39}, {65, 31}, {80, 20}, {90, 9}, {95, 4}, {100, 0}}
	for i := 1; i < len(anchors); i++ {
		a, b := anchors[i-1], anchors[i]
		if q <= b[0] {
			return a[1] + (q-a[0])*(b[1]-a[1])/(b[0]-a[0])
		}
	}
	return 0
}

// chooseFilterLevel returns the loop filter level (0-63) that brings the
// decoded w x h image closest to the source, in squared error over the
// three planes, among none, qi/4, qi/2 and qi. The filter changes only
// what the decoder shows, never what either side predicts from, so it
// costs nothing beyond the header; trying levels costs a filter pass each
// (together about 15% of the encode, before the sampling below) and a copy
// of the reconstruction.
//
// On five images at quantiser indices 9, 20 and 39, the best fixed level
// was qi/2 to qi on four (0.1-1.2 dB over no filter) and qi/4 to qi/3 on
// the most detailed photo (camera_Nikon_P6000), where qi/2 lost 0.05 dB.
//
// From filterSampleRows macroblock rows up, the levels are compared on
// every other row of macroblocks only (each filtered as if the row above
// were not), which halves the search's cost, about a tenth of the WebP
// job's CPU.
func (e *vp8Encoder) chooseFilterLevel(w, h int) int {
	if e.qi == 0 {
		return 0
	}
	step := 1
	if e.mbh >= filterSampleRows {
		step = 2
	}
	y := make([]uint8, len(e.ry))
	u := make([]uint8, len(e.ru))
	v := make([]uint8, len(e.rv))
	best, bestErr := 0, e.planeError(e.ry, e.ru, e.rv, w, h, step)
	for _, level := range filterCandidates(e.qi) {
		copy(y, e.ry)
		copy(u, e.ru)
		copy(v, e.rv)
		loopFilterRows(y, u, v, e.mbw, e.mbh, e.mbs, level, step)
		if d := e.planeError(y, u, v, w, h, step); d < bestErr {
			best, bestErr = level, d
		}
	}
	return best
}

// filterCandidates are the levels chooseFilterLevel tries for index qi.
func filterCandidates(qi int) []int {
	var out []int
	for _, l := range []int{qi / 4, qi / 2, qi} {
		l = min(max(l, 1), 63)
		if len(out) == 0 || out[len(out)-1] != l {
			out = append(out, l)
		}
	}
	return out
}

// filterSampleRows is the height, in macroblocks, from which
// chooseFilterLevel samples rows.
const filterSampleRows = 8

// planeError is the squared error of the planes against the source, over
// the visible w x h pixels of every step-th row of macroblocks.
func (e *vp8Encoder) planeError(y, u, v []uint8, w, h, step int) int64 {
	var d int64
	sq := func(a, b []uint8, stride, w, h, n int) { // n: rows of a macroblock
		for r := range h {
			if r/n%step != 0 {
				continue
			}
			ra, rb := a[r*stride:r*stride+w], b[r*stride:r*stride+w]
			for i := range ra {
				x := int64(ra[i]) - int64(rb[i])
				d += x * x
			}
		}
	}
	sq(y, e.y, e.ys, w, h, 16)
	sq(u, e.u, e.cs, (w+1)/2, (h+1)/2, 8)
	sq(v, e.v, e.cs, (w+1)/2, (h+1)/2, 8)
	return d
}
