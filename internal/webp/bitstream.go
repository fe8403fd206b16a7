package webp

import (
	"encoding/binary"
	"errors"
)

// The second pass: the frame header, the modes (first partition) and the
// coefficient tokens (one token partition), RFC 6386 sections 9, 11, 13
// and 19.

// errTooBig: the modes did not fit the first partition's 19-bit size.
var errTooBig = errors.New("webp: image too large for one VP8 mode partition")

// firstPartitionLimit is the first partition's size limit (a variable so
// that tests can lower it).
var firstPartitionLimit = 1<<19 - 1

// write is the second pass: it returns the VP8 frame (the "VP8 " chunk's
// payload) for a w x h image.
func (e *vp8Encoder) write(w, h int) ([]byte, error) {
	skipped := 0
	for i := range e.mbs {
		if e.mbs[i].skip {
			skipped++
		}
	}
	n := len(e.mbs)
	hdr := newBoolEncoder(64 + n)
	hdr.putLiteral(0, 1) // color_space
	hdr.putLiteral(0, 1) // clamping_type: the decoder clamps
	hdr.putLiteral(0, 1) // segmentation_enabled
	hdr.putLiteral(0, 1) // filter_type: normal
	hdr.putLiteral(uint32(e.filterLevel), 6)
	hdr.putLiteral(0, 3) // sharpness
	hdr.putLiteral(0, 1) // loop_filter_adj_enable
	hdr.putLiteral(0, 2) // one token partition
	hdr.putLiteral(uint32(e.qi), 7)
	for range 5 {
		hdr.putSigned(0, 4) // no quantiser deltas
	}
	hdr.putLiteral(0, 1) // refresh_entropy_probs
	// Count the tokens as they will be coded, then update the
	// probabilities where that pays.
	var counts [4]tokenCounts
	nzTop := make([][9]bool, e.mbw)
	for my := range e.mbh {
		var nzLeft [9]bool
		for mx := range e.mbw {
			e.putTokens(nil, &counts, &e.mbs[my*e.mbw+mx], &nzTop[mx], &nzLeft)
		}
	}
	probs, updated := updateProbs(&counts)
	e.coeffProbs = &probs
	for i := range probs {
		for j := range probs[i] {
			for k := range probs[i][j] {
				for l := range probs[i][j][k] {
					hdr.put(coeffUpdateProbs[i][j][k][l], updated[i][j][k][l])
					if updated[i][j][k][l] {
						hdr.putLiteral(uint32(probs[i][j][k][l]), 8)
					}
				}
			}
		}
	}
	skipProb := uint8(0)
	if skipped > 0 {
		skipProb = uint8(min(max((n-skipped)*256/n, 1), 255))
		hdr.putLiteral(1, 1)
		hdr.putLiteral(uint32(skipProb), 8)
	} else {
		hdr.putLiteral(0, 1)
	}

	tok := newBoolEncoder(n * 64)
	clear(nzTop)
	bmTop := make([]uint8, 4*e.mbw)
	for my := range e.mbh {
		var nzLeft [9]bool
		var bmLeft [4]uint8
		for mx := range e.mbw {
			mb := &e.mbs[my*e.mbw+mx]
			if skipped > 0 {
				hdr.put(skipProb, mb.skip)
			}
			hdr.putTree(&yModeCodes[mb.ymode], yModeProbs)
			if mb.ymode == bPred {
				for b := range 16 {
					a, l := bmTop[4*mx+b&3], bmLeft[b>>2]
					if b >= 4 {
						a = mb.bmodes[b-4]
					}
					if b&3 > 0 {
						l = mb.bmodes[b-1]
					}
					hdr.putTree(&bModeCodes[mb.bmodes[b]], kfBModeProbs[a][l][:])
				}
				for i := range 4 {
					bmTop[4*mx+i] = mb.bmodes[12+i]
					bmLeft[i] = mb.bmodes[4*i+3]
				}
			} else {
				for i := range 4 {
					bmTop[4*mx+i] = impliedBMode[mb.ymode]
					bmLeft[i] = impliedBMode[mb.ymode]
				}
			}
			hdr.putTree(&uvModeCodes[mb.uvmode], uvModeProbs)
			e.putTokens(tok, &counts, mb, &nzTop[mx], &nzLeft)
		}
	}
	first := hdr.finish()
	if len(first) > firstPartitionLimit {
		return nil, errTooBig
	}
	tokens := tok.finish()
	out := make([]byte, 10, 10+len(first)+len(tokens))
	tag := uint32(1<<4) | uint32(len(first))<<5 // key frame, version 0, shown
	out[0], out[1], out[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	out[3], out[4], out[5] = 0x9d, 0x01, 0x2a
	binary.LittleEndian.PutUint16(out[6:], uint16(w))
	binary.LittleEndian.PutUint16(out[8:], uint16(h))
	out = append(out, first...)
	out = append(out, tokens...)
	return out, nil
}

// putTokens codes a macroblock's coefficients, keeping the contexts; with
// a nil tok it counts them into cnt instead.
func (e *vp8Encoder) putTokens(tok *boolEncoder, cnt *[4]tokenCounts, mb *mbInfo, top, left *[9]bool) {
	if mb.skip {
		for i := range 8 {
			top[i], left[i] = false, false
		}
		if mb.ymode != bPred {
			top[8], left[8] = false, false
		}
		return
	}
	ytype, first := typeYWithDC, 0
	if mb.ymode != bPred {
		nz := putBlock(tok, &e.coeffProbs[typeY2], &cnt[typeY2], b2i(top[8])+b2i(left[8]), 0, &mb.coeffs[24])
		top[8], left[8] = nz, nz
		ytype, first = typeYAfterY2, 1
	}
	for b := range 16 {
		bx, by := b&3, b>>2
		nz := putBlock(tok, &e.coeffProbs[ytype], &cnt[ytype], b2i(top[bx])+b2i(left[by]), first, &mb.coeffs[b])
		top[bx], left[by] = nz, nz
	}
	for p := range 2 {
		for b := range 4 {
			bx, by := 4+2*p+b&1, 4+2*p+b>>1
			nz := putBlock(tok, &e.coeffProbs[typeUV], &cnt[typeUV], b2i(top[bx])+b2i(left[by]), 0, &mb.coeffs[16+4*p+b])
			top[bx], left[by] = nz, nz
		}
	}
}
