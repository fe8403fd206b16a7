package webp

import (
	"math/rand/v2"
	"testing"
)

// blockCostRef is blockCost as putBlock codes it, node by node, with no
// tables: what the tabulated blockCost must give.
func blockCostRef(probs *tokenProbs, ctx, first int, c *[16]int16) int32 {
	last := lastNonZero(c, first)
	p := &probs[bands[first]][ctx]
	if last < 0 {
		return cost(p[0], false)
	}
	var r int32
	prevZero := false
	for i := first; i <= last; i++ {
		v := int(c[zigzag[i]])
		if !prevZero {
			r += cost(p[0], true)
		}
		if v == 0 {
			r += cost(p[1], false)
			prevZero = true
			p = &probs[bands[i+1]][0]
			continue
		}
		if v < 0 {
			v = -v
		}
		r += cost(p[1], true) + magnitudeCost(p, v) + 256
		prevZero = false
		p = &probs[bands[i+1]][min(v, 2)]
	}
	if last < 15 {
		r += cost(p[0], false)
	}
	return r
}

func TestBlockCostTables(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 200000 {
		typ, ctx, first := rng.IntN(4), rng.IntN(3), rng.IntN(2)
		var c [16]int16
		density, scale := rng.IntN(17), []int{2, 4, 20, 80, maxLevel}[rng.IntN(5)]
		for i := range density {
			c[rng.IntN(16-i)] = int16(rng.IntN(2*scale+1) - scale)
		}
		if n == 0 {
			c = [16]int16{}
		}
		got := blockCost(defaultLevelCosts[typ], ctx, first, &c)
		want := blockCostRef(&defaultCoeffProbs[typ], ctx, first, &c)
		if got != want {
			t.Fatalf("type %d ctx %d first %d %v: %d, node by node %d", typ, ctx, first, c, got, want)
		}
	}
}
