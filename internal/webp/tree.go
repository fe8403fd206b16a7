package webp

// Tree-coded values (RFC 6386 section 8.1): a tree is the spec's
// tree_index array, where a positive entry is the index of the next node
// pair and an entry v <= 0 is the leaf for value -v; probability i goes
// with the node pair at 2i.

// treeCode is the path to one leaf: the bits and, for each, the index of
// its probability.
type treeCode struct {
	n     int
	bits  [8]bool
	probs [8]uint8
}

// treeCodes returns the path to each of a tree's n leaves.
func treeCodes(tree []int8, n int) []treeCode {
	codes := make([]treeCode, n)
	var walk func(node int, c treeCode)
	walk = func(node int, c treeCode) {
		for b := range 2 {
			d := c
			d.bits[d.n], d.probs[d.n] = b == 1, uint8(node/2)
			d.n++
			if v := tree[node+b]; v > 0 {
				walk(int(v), d)
			} else {
				codes[-v] = d
			}
		}
	}
	walk(0, treeCode{})
	return codes
}

func (e *boolEncoder) putTree(c *treeCode, probs []uint8) {
	for i := range c.n {
		e.put(probs[c.probs[i]], c.bits[i])
	}
}

func treeCost(c *treeCode, probs []uint8) int32 {
	var r int32
	for i := range c.n {
		r += cost(probs[c.probs[i]], c.bits[i])
	}
	return r
}

var (
	// kf_ymode_tree and kf_ymode_prob (RFC 6386 section 11.2).
	yModeCodes = treeCodes([]int8{-bPred, 2, 4, 6, -predDC, -predV, -predH, -predTM}, 5)
	yModeProbs = []uint8{145, 156, 163, 128}
	// uv_mode_tree and kf_uv_mode_prob (section 11.4).
	uvModeCodes = treeCodes([]int8{-predDC, 2, -predV, 4, -predH, -predTM}, 4)
	uvModeProbs = []uint8{142, 114, 183}
	// bmode_tree (section 11.2), with probabilities kfBModeProbs.
	bModeCodes = treeCodes([]int8{-bDC, 2, -bTM, 4, -bVE, 6, 8, 12, -bHE, 10, -bRD, -bVR, -bLD, 14, -bVL, 16, -bHD, -bHU}, numBModes)
)

// bModeCosts[a][l][m] is treeCost of subblock mode m when the modes above
// and to the left are a and l: the mode search asks it for every mode of
// every subblock.
var bModeCosts = func() (c [numBModes][numBModes][numBModes]int32) {
	for a := range c {
		for l := range c[a] {
			for m := range c[a][l] {
				c[a][l][m] = treeCost(&bModeCodes[m], kfBModeProbs[a][l][:])
			}
		}
	}
	return c
}()
