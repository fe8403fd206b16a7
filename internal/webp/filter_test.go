package webp

import "testing"

// BenchmarkLoopFilter filters the reconstruction of an 800x533 photo at
// quality 80 at the level search's three levels, as chooseFilterLevel
// does (without its sampling of rows).
func BenchmarkLoopFilter(b *testing.B) {
	m := testPhoto(b, 800, 533)
	p := toPlanes(m)
	e := newVP8Encoder(p.mbw, p.mbh, p.y, p.u, p.v, qualityToIndex(80))
	e.analyse()
	y, u, v := make([]uint8, len(e.ry)), make([]uint8, len(e.ru)), make([]uint8, len(e.rv))
	for b.Loop() {
		for _, level := range filterCandidates(e.qi) {
			copy(y, e.ry)
			copy(u, e.ru)
			copy(v, e.rv)
			loopFilter(y, u, v, e.mbw, e.mbh, e.mbs, level)
		}
	}
}
