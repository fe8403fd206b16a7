// mkprofile writes a Rec. 2020 matrix/TRC ICC v4 profile (para type 3 curves).
package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
)

func s15(v float64) uint32 { return uint32(int32(math.Round(v * 65536))) }

func main() {
	// primaries and white (D65), Bradford-adapted to D50
	xy := [][2]float64{{0.708, 0.292}, {0.170, 0.797}, {0.131, 0.046}}
	w := [2]float64{0.3127, 0.3290}
	XYZ := func(p [2]float64) [3]float64 { return [3]float64{p[0] / p[1], 1, (1 - p[0] - p[1]) / p[1]} }
	var P [3][3]float64
	for j, p := range xy {
		v := XYZ(p)
		for i := range 3 {
			P[i][j] = v[i]
		}
	}
	W := XYZ(w)
	S := solve(P, W)
	var M [3][3]float64
	for i := range 3 {
		for j := range 3 {
			M[i][j] = P[i][j] * S[j]
		}
	}
	B := [3][3]float64{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	D50 := [3]float64{0.9642, 1, 0.8249}
	cs, cd := mulv(B, W), mulv(B, D50)
	var D [3][3]float64
	for i := range 3 {
		D[i][i] = cd[i] / cs[i]
	}
	chad := mul(inv(B), mul(D, B))
	A := mul(chad, M)
	tags := []struct {
		sig  string
		data []byte
	}{}
	xyz := func(v [3]float64) []byte {
		b := []byte("XYZ \x00\x00\x00\x00")
		for _, x := range v {
			b = binary.BigEndian.AppendUint32(b, s15(x))
		}
		return b
	}
	mluc := func(s string) []byte {
		b := []byte("mluc\x00\x00\x00\x00")
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, 12)
		b = append(b, "enUS"...)
		b = binary.BigEndian.AppendUint32(b, uint32(2*len(s)))
		b = binary.BigEndian.AppendUint32(b, 28)
		for _, r := range s {
			b = binary.BigEndian.AppendUint16(b, uint16(r))
		}
		return b
	}
	para := []byte("para\x00\x00\x00\x00\x00\x03\x00\x00")
	a := 1.09929682680944
	for _, v := range []float64{1 / 0.45, 1 / a, (a - 1) / a, 1 / 4.5, 4.5 * 0.018053968510807} {
		para = binary.BigEndian.AppendUint32(para, s15(v))
	}
	sf32 := []byte("sf32\x00\x00\x00\x00")
	for i := range 9 {
		sf32 = binary.BigEndian.AppendUint32(sf32, s15(chad[i/3][i%3]))
	}
	col := func(j int) [3]float64 { return [3]float64{A[0][j], A[1][j], A[2][j]} }
	tags = append(tags, struct {
		sig  string
		data []byte
	}{"desc", mluc("Rec. 2020 (imgpipe test)")}, struct {
		sig  string
		data []byte
	}{"cprt", mluc("No copyright, use freely")}, struct {
		sig  string
		data []byte
	}{"wtpt", xyz(D50)}, struct {
		sig  string
		data []byte
	}{"chad", sf32}, struct {
		sig  string
		data []byte
	}{"rXYZ", xyz(col(0))}, struct {
		sig  string
		data []byte
	}{"gXYZ", xyz(col(1))}, struct {
		sig  string
		data []byte
	}{"bXYZ", xyz(col(2))}, struct {
		sig  string
		data []byte
	}{"rTRC", para}, struct {
		sig  string
		data []byte
	}{"gTRC", para}, struct {
		sig  string
		data []byte
	}{"bTRC", para})
	var body bytes.Buffer
	off := 128 + 4 + 12*len(tags)
	var table bytes.Buffer
	binary.Write(&table, binary.BigEndian, uint32(len(tags)))
	for _, t := range tags {
		for (off+body.Len())%4 != 0 {
			body.WriteByte(0)
		}
		table.WriteString(t.sig)
		binary.Write(&table, binary.BigEndian, uint32(off+body.Len()))
		binary.Write(&table, binary.BigEndian, uint32(len(t.data)))
		body.Write(t.data)
	}
	size := off + body.Len()
	h := make([]byte, 128)
	binary.BigEndian.PutUint32(h[0:], uint32(size))
	copy(h[8:], []byte{4, 0x30, 0, 0})
	copy(h[12:], "mntr")
	copy(h[16:], "RGB ")
	copy(h[20:], "XYZ ")
	copy(h[36:], "acsp")
	binary.BigEndian.PutUint32(h[68:], s15(0.9642))
	binary.BigEndian.PutUint32(h[72:], s15(1))
	binary.BigEndian.PutUint32(h[76:], s15(0.8249))
	out := append(append(h, table.Bytes()...), body.Bytes()...)
	os.WriteFile(os.Args[1], out, 0o644)
}

func mulv(m [3][3]float64, v [3]float64) [3]float64 {
	var r [3]float64
	for i := range 3 {
		for k := range 3 {
			r[i] += m[i][k] * v[k]
		}
	}
	return r
}
func mul(a, b [3][3]float64) [3][3]float64 {
	var c [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}
func inv(m [3][3]float64) [3][3]float64 {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	var r [3][3]float64
	r[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	r[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	r[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	r[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	r[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	r[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	r[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	r[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	r[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return r
}
func solve(m [3][3]float64, v [3]float64) [3]float64 { return mulv(inv(m), v) }
