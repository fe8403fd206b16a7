package stages

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"testing"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
)

// withOrientation returns the JPEG jpg with an EXIF APP1 segment that
// gives orientation o, right after its SOI marker.
func withOrientation(jpg []byte, o int) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")          // big-endian, IFD at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1)         // one entry
	tiff = append(tiff, 0x01, 0x12, 0x00, 0x03)           // Orientation, SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)         // one value
	tiff = binary.BigEndian.AppendUint16(tiff, uint16(o)) // in the offset field
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)                 // padding, next IFD: none
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(app1)+2))...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// A JPEG whose size is not a multiple of its shrink-on-load scale decodes
// to a last column and row that stand for part of a block: the resize must
// span the image's own extent in the decoded pixels, not the decoded
// image's, in every EXIF orientation (which may put that partial column
// first) and for a crop. Against the full decode's resize, at 1/8 of a
// 1003x667 photo: 46-54 dB with the extent; 32-47 stretched over the
// decoded pixels, which the test also measures, so that it fails if the
// extent is lost; 29-45 with the extent but the orientation ignored.
func TestShrinkOnLoadExtent(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	photo, err := ijpeg.Decode(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := image.NewRGBA(image.Rect(0, 0, 1003, 667))
	draw.Draw(src, src.Bounds(), photo, image.Pt(700, 400), draw.Src)
	var buf bytes.Buffer
	if err := ijpeg.Encode(&buf, src, &ijpeg.EncodeOptions{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	outputs := []Output{
		{Width: 90},
		{Width: 40, Height: 40, Fit: "fill", Anchor: "bottom-right", Format: "png"},
	}
	for o := 1; o <= 8; o++ {
		p := filepath.Join(dir, fmt.Sprintf("o%d.jpg", o))
		if err := os.WriteFile(p, withOrientation(buf.Bytes(), o), 0o644); err != nil {
			t.Fatal(err)
		}
		resized := func(full, stretch bool) []image.Image {
			d, err := decodeFile(t, p, decodeOpts{FullDecode: full, Outputs: outputs})
			if err != nil {
				t.Fatal(err)
			}
			if want := [2]int{1003, 667}; o >= 5 {
				if got := [2]int{d.Width, d.Height}; got != [2]int{want[1], want[0]} {
					t.Fatalf("orientation %d: upright %v, want %v", o, got, [2]int{want[1], want[0]})
				}
			}
			if stretch {
				d.full = area{}
			}
			r, err := Resize()(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			return r.Images
		}
		ref, got, stretched := resized(true, false), resized(false, false), resized(false, true)
		for i := range outputs {
			t.Run(fmt.Sprintf("orientation%d/output%d", o, i), func(t *testing.T) {
				p, ps := psnr(t, ref[i], got[i]), psnr(t, ref[i], stretched[i])
				t.Logf("%.2f dB, stretched %.2f", p, ps)
				if p < 40 || p < ps+2 {
					t.Errorf("shrink-on-load output is %.2f dB from the full decode's (stretched over the decoded pixels: %.2f), want >= 40 and 2 dB better",
						p, ps)
				}
			})
		}
	}
}
