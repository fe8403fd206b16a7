package webp

import "math"

// Coefficient tokens, RFC 6386 section 13.

// Block types, the first index of the coefficient probabilities.
const (
	typeYAfterY2 = 0 // luma AC, when the DCs went to Y2
	typeY2       = 1
	typeUV       = 2
	typeYWithDC  = 3 // luma of a B_PRED macroblock
)

var zigzag = [16]uint8{0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15}

var bands = [17]uint8{0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 0}

// catProbs are the extra bits' probabilities of dct_cat1..6 (Pcat1..6),
// and catBase their smallest values.
var catProbs = [6][]uint8{
	{159},
	{165, 145},
	{173, 148, 140},
	{176, 155, 140, 135},
	{180, 157, 141, 134, 130},
	{254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129},
}

var catBase = [6]int{5, 7, 11, 19, 35, 67}

// maxLevel is the largest quantised magnitude a token can code.
const maxLevel = 67 + 2047

// bitCost[k] is the cost, in 1/256 bit, of an outcome of probability
// k/256.
var bitCost = func() (c [257]int32) {
	for p := 1; p <= 256; p++ {
		c[p] = int32(math.Round(-math.Log2(float64(p)/256) * 256))
	}
	c[0] = c[1]
	return c
}()

// cost is the cost in 1/256 bit of coding bit with probability p of false.
func cost(p uint8, bit bool) int32 {
	if bit {
		return bitCost[256-int(p)]
	}
	return bitCost[p]
}

// tokenProbs are the coefficient probabilities of one block type.
type tokenProbs = [8][3][11]uint8

// tokenCounts are how often each token tree node of one block type coded
// false and true, for probability updates.
type tokenCounts = [8][3][11][2]uint32

// putBlock codes a block's coefficients (natural order; from index first)
// with context ctx (how many of the blocks left and above have non-zero
// coefficients) and reports whether it had any non-zero one. With a nil
// e it only counts the tree nodes' outcomes into cnt.
func putBlock(e *boolEncoder, probs *tokenProbs, cnt *tokenCounts, ctx, first int, c *[16]int16) bool {
	band := int(bands[first])
	node := func(k int, bit bool) {
		if e == nil {
			cnt[band][ctx][k][b2i(bit)]++
		} else {
			e.put(probs[band][ctx][k], bit)
		}
	}
	last := lastNonZero(c, first)
	if last < 0 {
		node(0, false) // EOB
		return false
	}
	prevZero := false
	for i := first; i <= last; i++ {
		v := int(c[zigzag[i]])
		if !prevZero {
			node(0, true) // not EOB
		}
		band = int(bands[i])
		if v == 0 {
			node(1, false)
			prevZero = true
			band, ctx = int(bands[i+1]), 0
			continue
		}
		node(1, true)
		neg := v < 0
		if neg {
			v = -v
		}
		putMagnitude(e, node, v)
		if e != nil {
			e.putBit(neg)
		}
		prevZero = false
		band, ctx = int(bands[i+1]), min(v, 2)
	}
	if last < 15 {
		node(0, false)
	}
	return true
}

// putMagnitude codes v >= 1 from the token tree's node "not 0" down, the
// tree's nodes through node, the extra bits to e (when not nil).
func putMagnitude(e *boolEncoder, node func(int, bool), v int) {
	if v == 1 {
		node(2, false)
		return
	}
	node(2, true)
	if v <= 4 {
		node(3, false)
		if v == 2 {
			node(4, false)
			return
		}
		node(4, true)
		node(5, v == 4)
		return
	}
	node(3, true)
	cat := category(v)
	switch cat {
	case 0, 1:
		node(6, false)
		node(7, cat == 1)
	case 2, 3:
		node(6, true)
		node(8, false)
		node(9, cat == 3)
	default:
		node(6, true)
		node(8, true)
		node(10, cat == 5)
	}
	if e == nil {
		return
	}
	extra := v - catBase[cat]
	probs := catProbs[cat]
	for i, pr := range probs {
		e.put(pr, extra>>(len(probs)-1-i)&1 != 0)
	}
}

// updateProbs chooses, for each token probability, whether replacing the
// default by the frame's own statistics saves more bits than the update
// costs (a flag coded with coeffUpdateProbs and 8 bits), and returns the
// probabilities to code with and which ones are updated.
func updateProbs(cnt *[4]tokenCounts) (probs [4]tokenProbs, updated [4][8][3][11]bool) {
	probs = defaultCoeffProbs
	for t := range cnt {
		for b := range cnt[t] {
			for c := range cnt[t][b] {
				for k := range cnt[t][b][c] {
					n0, n1 := cnt[t][b][c][k][0], cnt[t][b][c][k][1]
					if n0+n1 == 0 {
						continue
					}
					old := probs[t][b][c][k]
					p := uint8(min(max((uint64(n0)*256+uint64(n0+n1)/2)/uint64(n0+n1), 1), 255))
					costOf := func(p uint8) int64 {
						return int64(n0)*int64(cost(p, false)) + int64(n1)*int64(cost(p, true))
					}
					up := coeffUpdateProbs[t][b][c][k]
					gain := costOf(old) - costOf(p) - int64(cost(up, true)) - 8*256 + int64(cost(up, false))
					if gain > 0 {
						probs[t][b][c][k] = p
						updated[t][b][c][k] = true
					}
				}
			}
		}
	}
	return probs, updated
}

// category returns which dct_cat (0-5 for cat1-6) codes v >= 5.
func category(v int) int {
	switch {
	case v < 7:
		return 0
	case v < 11:
		return 1
	case v < 19:
		return 2
	case v < 35:
		return 3
	case v < 67:
		return 4
	}
	return 5
}

func lastNonZero(c *[16]int16, first int) int {
	for i := 15; i >= first; i-- {
		if c[zigzag[i]] != 0 {
			return i
		}
	}
	return -1
}

// costLevels is how many magnitudes (0 to costLevels-1) levelCosts
// tabulates; larger ones, rare, are costed on the fly.
const costLevels = 68

// levelCosts are one block type's token costs under fixed probabilities,
// in 1/256 bit, by band and context: the mode search costs every
// candidate block with them (blockCost).
type levelCosts struct {
	probs     *tokenProbs
	eob, more [8][3]int32 // the EOB token, and "not EOB"
	// level[band][ctx][v] codes magnitude v: the zero token for 0, else
	// the token, its extra bits and the sign.
	level [8][3][costLevels]int32
}

func newLevelCosts(probs *tokenProbs) *levelCosts {
	c := &levelCosts{probs: probs}
	for b := range probs {
		for ctx := range probs[b] {
			p := &probs[b][ctx]
			c.eob[b][ctx] = cost(p[0], false)
			c.more[b][ctx] = cost(p[0], true)
			c.level[b][ctx][0] = cost(p[1], false)
			for v := 1; v < costLevels; v++ {
				c.level[b][ctx][v] = cost(p[1], true) + magnitudeCost(p, v) + 256
			}
		}
	}
	return c
}

// defaultLevelCosts are levelCosts of the default probabilities, which
// the first pass codes with.
var defaultLevelCosts = [4]*levelCosts{
	newLevelCosts(&defaultCoeffProbs[0]), newLevelCosts(&defaultCoeffProbs[1]),
	newLevelCosts(&defaultCoeffProbs[2]), newLevelCosts(&defaultCoeffProbs[3]),
}

// blockCost is what putBlock would spend on the block with lc's
// probabilities, in 1/256 bit.
func blockCost(lc *levelCosts, ctx, first int, c *[16]int16) int32 {
	last := lastNonZero(c, first)
	band := bands[first]
	if last < 0 {
		return lc.eob[band][ctx]
	}
	var r int32
	prevZero := false
	for i := first; i <= last; i++ {
		v := int(c[zigzag[i]])
		if v < 0 {
			v = -v
		}
		if !prevZero {
			r += lc.more[band][ctx]
		}
		if v < costLevels {
			r += lc.level[band][ctx][v]
		} else {
			p := &lc.probs[band][ctx]
			r += cost(p[1], true) + magnitudeCost(p, v) + 256
		}
		prevZero = v == 0
		band, ctx = bands[i+1], min(v, 2)
	}
	if last < 15 {
		r += lc.eob[band][ctx]
	}
	return r
}

func magnitudeCost(p *[11]uint8, v int) int32 {
	if v == 1 {
		return cost(p[2], false)
	}
	r := cost(p[2], true)
	if v <= 4 {
		r += cost(p[3], false)
		if v == 2 {
			return r + cost(p[4], false)
		}
		return r + cost(p[4], true) + cost(p[5], v == 4)
	}
	r += cost(p[3], true)
	cat := category(v)
	switch cat {
	case 0, 1:
		r += cost(p[6], false) + cost(p[7], cat == 1)
	case 2, 3:
		r += cost(p[6], true) + cost(p[8], false) + cost(p[9], cat == 3)
	default:
		r += cost(p[6], true) + cost(p[8], true) + cost(p[10], cat == 5)
	}
	extra := v - catBase[cat]
	probs := catProbs[cat]
	for i, pr := range probs {
		r += cost(pr, extra>>(len(probs)-1-i)&1 != 0)
	}
	return r
}
