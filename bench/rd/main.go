// Command rd is the helper of bench/webp-rd.sh: rate-distortion figures
// of image encoders against a reference.
//
//	rd measure REF OUT [DECODED]
//	    prints "bytes psnr ssim" of OUT against REF: bytes is OUT's size;
//	    the pixels are DECODED's when given (OUT decoded by another tool,
//	    such as dwebp, as a PNG), else OUT's. PSNR is over R, G and B (8
//	    bits); SSIM is the mean of 8x8 windows, every 4 pixels, of luma
//	    (BT.601 weights), with the usual constants (K1 0.01, K2 0.03).
//	    Sizes must be equal.
//
//	rd bd ANCHOR[,ANCHOR...] TABLE
//	    reads TABLE, lines "codec quality image bytes psnr ssim" (what
//	    webp-rd.sh writes), and prints a markdown table: per codec and
//	    quality the total bytes, mean PSNR and mean SSIM; then the
//	    Bjøntegaard rate difference (BD-rate) of each codec against each
//	    ANCHOR:
//	    per image, a cubic through its (PSNR, log bytes) points, the mean
//	    log-rate difference over the PSNR range both curves cover, as a
//	    percentage (negative: fewer bytes for the same PSNR); the table
//	    gives the mean over images and how many had a common range. The
//	    same with SSIM in place of PSNR.
//
// Files are read with imgpipe's own format registry, so lossy WebP gets
// the studio-range colour conversion golang.org/x/image/webp lacks.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
)

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) >= 3 && len(args) <= 4 && args[0] == "measure":
		err = measure(args[1], args[2], args[len(args)-1])
	case len(args) == 3 && args[0] == "bd":
		err = bd(args[1], args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: rd measure REF OUT [DECODED] | rd bd ANCHOR[,ANCHOR...] TABLE")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rd:", err)
		os.Exit(1)
	}
}

func measure(refPath, outPath, decodedPath string) error {
	info, err := os.Stat(outPath)
	if err != nil {
		return err
	}
	ref, err := load(refPath)
	if err != nil {
		return err
	}
	dec, err := load(decodedPath)
	if err != nil {
		return err
	}
	if ref.Bounds().Size() != dec.Bounds().Size() {
		return fmt.Errorf("%s is %v, %s %v", refPath, ref.Bounds().Size(), decodedPath, dec.Bounds().Size())
	}
	a, b := toRGB(ref), toRGB(dec)
	fmt.Printf("%d %.3f %.5f\n", info.Size(), psnr(a, b), ssim(luma(a), luma(b), ref.Bounds().Dx(), ref.Bounds().Dy()))
	return nil
}

func load(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := format.Sniff(data[:min(len(data), format.HeadLen)])
	if f == nil || !f.Readable() {
		return nil, fmt.Errorf("%s: not an image this build reads", path)
	}
	m, err := f.Decode(bytes.NewReader(data), 1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// toRGB returns the 8-bit R, G, B samples of m, row by row.
func toRGB(m image.Image) []float64 {
	b := m.Bounds()
	out := make([]float64, 0, 3*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			out = append(out, float64(r>>8), float64(g>>8), float64(bl>>8))
		}
	}
	return out
}

func psnr(a, b []float64) float64 {
	var se float64
	for i := range a {
		d := a[i] - b[i]
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(len(a))/se)
}

func luma(rgb []float64) []float64 {
	y := make([]float64, len(rgb)/3)
	for i := range y {
		y[i] = 0.299*rgb[3*i] + 0.587*rgb[3*i+1] + 0.114*rgb[3*i+2]
	}
	return y
}

// ssim is the mean SSIM of 8x8 windows every 4 pixels.
func ssim(a, b []float64, w, h int) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	var sum float64
	n := 0
	for y0 := 0; y0+8 <= h; y0 += 4 {
		for x0 := 0; x0+8 <= w; x0 += 4 {
			var sa, sb, saa, sbb, sab float64
			for y := y0; y < y0+8; y++ {
				for x := x0; x < x0+8; x++ {
					va, vb := a[y*w+x], b[y*w+x]
					sa += va
					sb += vb
					saa += va * va
					sbb += vb * vb
					sab += va * vb
				}
			}
			const k = 64.0
			ma, mb := sa/k, sb/k
			va, vb := saa/k-ma*ma, sbb/k-mb*mb
			cov := sab/k - ma*mb
			sum += (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// point is one output: its quality setting, bytes and fidelity.
type point struct {
	q           int
	bytes       float64
	psnr, ssim  float64
	codec, name string
}

func bd(anchor, table string) error {
	f, err := os.Open(table)
	if err != nil {
		return err
	}
	defer f.Close()
	var pts []point
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 6 {
			continue
		}
		var p point
		var errs [4]error
		p.codec, p.name = fs[0], fs[2]
		p.q, errs[0] = strconv.Atoi(fs[1])
		p.bytes, errs[1] = strconv.ParseFloat(fs[3], 64)
		p.psnr, errs[2] = strconv.ParseFloat(fs[4], 64)
		p.ssim, errs[3] = strconv.ParseFloat(fs[5], 64)
		for _, e := range errs {
			if e != nil {
				return fmt.Errorf("%s: %q: %w", table, sc.Text(), e)
			}
		}
		pts = append(pts, p)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var codecs []string
	for _, p := range pts {
		if !slices.Contains(codecs, p.codec) {
			codecs = append(codecs, p.codec)
		}
	}
	fmt.Println("| codec | q | bytes (total) | PSNR dB (mean) | SSIM (mean) | images |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, c := range codecs {
		byQ := map[int][]point{}
		var qs []int
		for _, p := range pts {
			if p.codec == c {
				if byQ[p.q] == nil {
					qs = append(qs, p.q)
				}
				byQ[p.q] = append(byQ[p.q], p)
			}
		}
		slices.Sort(qs)
		for _, q := range qs {
			var b, ps, ss float64
			for _, p := range byQ[q] {
				b += p.bytes
				ps += p.psnr
				ss += p.ssim
			}
			n := float64(len(byQ[q]))
			fmt.Printf("| %s | %d | %.0f | %.2f | %.4f | %d |\n", c, q, b, ps/n, ss/n, len(byQ[q]))
		}
	}
	fmt.Println()
	fmt.Println("| codec | against | BD-rate (PSNR) | images | BD-rate (SSIM) | images |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, a := range strings.Split(anchor, ",") {
		for _, c := range codecs {
			if c == a {
				continue
			}
			rp, np := bdRate(pts, a, c, func(p point) float64 { return p.psnr })
			// SSIM near 1 is compressed: compare on -10 log10(1-SSIM), in dB.
			rs, ns := bdRate(pts, a, c, func(p point) float64 { return -10 * math.Log10(max(1-p.ssim, 1e-9)) })
			fmt.Printf("| %s | %s | %+.1f%% | %d | %+.1f%% | %d |\n", c, a, rp, np, rs, ns)
		}
	}
	return nil
}

// bdRate is the mean over images of the BD-rate of codec against anchor,
// in percent, and the number of images whose curves overlap.
func bdRate(pts []point, anchor, codec string, metric func(point) float64) (float64, int) {
	curves := func(c string) map[string][]point {
		m := map[string][]point{}
		for _, p := range pts {
			if p.codec == c {
				m[p.name] = append(m[p.name], p)
			}
		}
		return m
	}
	a, b := curves(anchor), curves(codec)
	var sum float64
	n := 0
	for name, pa := range a {
		pb := b[name]
		if len(pa) < 4 || len(pb) < 4 {
			continue
		}
		xa, ya := xy(pa, metric)
		xb, yb := xy(pb, metric)
		lo, hi := max(slices.Min(xa), slices.Min(xb)), min(slices.Max(xa), slices.Max(xb))
		if hi <= lo {
			continue
		}
		// Centred on the common range: the normal equations of x^0..x^6
		// are then well conditioned.
		mid := (lo + hi) / 2
		for i := range xa {
			xa[i] -= mid
		}
		for i := range xb {
			xb[i] -= mid
		}
		ca, cb := cubicFit(xa, ya), cubicFit(xb, yb)
		diff := (integral(cb, lo-mid, hi-mid) - integral(ca, lo-mid, hi-mid)) / (hi - lo)
		sum += math.Exp(diff) - 1
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return 100 * sum / float64(n), n
}

func xy(ps []point, metric func(point) float64) (x, y []float64) {
	for _, p := range ps {
		x = append(x, metric(p))
		y = append(y, math.Log(p.bytes))
	}
	return x, y
}

// cubicFit returns c0..c3 of the least-squares cubic y = c0 + c1 x + c2 x²
// + c3 x³ (through the points when there are 4).
func cubicFit(x, y []float64) [4]float64 {
	var m [4][5]float64
	for i := range x {
		var pw [4]float64
		for k := range 4 {
			pw[k] = math.Pow(x[i], float64(k))
		}
		for r := range 4 {
			for c := range 4 {
				m[r][c] += pw[r] * pw[c]
			}
			m[r][4] += pw[r] * y[i]
		}
	}
	for col := range 4 { // Gauss-Jordan with partial pivoting
		piv := col
		for r := col + 1; r < 4; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[piv][col]) {
				piv = r
			}
		}
		m[col], m[piv] = m[piv], m[col]
		for r := range 4 {
			if r != col && m[col][col] != 0 {
				f := m[r][col] / m[col][col]
				for c := col; c < 5; c++ {
					m[r][c] -= f * m[col][c]
				}
			}
		}
	}
	var c [4]float64
	for i := range 4 {
		if m[i][i] != 0 {
			c[i] = m[i][4] / m[i][i]
		}
	}
	return c
}

func integral(c [4]float64, lo, hi float64) float64 {
	f := func(x float64) float64 {
		return c[0]*x + c[1]*x*x/2 + c[2]*x*x*x/3 + c[3]*x*x*x*x/4
	}
	return f(hi) - f(lo)
}
