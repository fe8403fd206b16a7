package stages

import (
	"bufio"
	"context"
	"encoding/base64"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rgbaToThumbHash gives the reference implementation's bytes (npm
// thumbhash 0.1.1, see testdata/thumbhash/README.md) on the 100 px copies
// of real photos and of a PNG with alpha.
func TestThumbHashMatchesReference(t *testing.T) {
	f, err := os.Open("testdata/thumbhash/reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		name, want, _ := strings.Cut(sc.Text(), " ")
		n++
		t.Run(name, func(t *testing.T) {
			img := stdDecode(t, filepath.Join("testdata", "thumbhash", name))
			b := img.Bounds()
			nrgba := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(nrgba, nrgba.Rect, img, b.Min, draw.Src)
			got := base64.StdEncoding.EncodeToString(rgbaToThumbHash(b.Dx(), b.Dy(), nrgba.Pix))
			if strings.HasPrefix(name, "phone_") { // flat grey: only the header means anything
				g, _ := base64.StdEncoding.DecodeString(got)
				w, _ := base64.StdEncoding.DecodeString(want)
				if len(g) != len(w) || string(g[:5]) != string(w[:5]) || g[2]>>2&31 != 0 {
					t.Errorf("got %s, want the header of %s and an AC scale of 0", got, want)
				}
				return
			}
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
	if n < 4 {
		t.Fatalf("%d reference hashes", n)
	}
}

// --placeholder thumbhash: from a decoded photo, the hash of its 100 px
// copy (the scout's), the same for every target, with the photo's aspect
// ratio in its header.
func TestThumbHashPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		file      string
		landscape bool
	}{
		{"photos/camera_Nikon_P6000_GPS.jpg", true},
		{"photos/friends_by_Aitzol_Berasategi.jpg", false},
		{"formats/alpha.png", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d, err := decodeFile(t, filepath.Join("..", "testdata", tc.file), decodeOpts{
				Outputs: []Output{{Width: 100, Placeholder: "thumbhash", Name: "a/{name}.{ext}"}, {Width: 50, Placeholder: "thumbhash", Name: "b/{name}.{ext}"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := thumbHash(newScout(d.Image, d.Width, d.Height).shrunk(100))
			r, err := Resize()(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range r.Targets {
				if tg.Placeholder != want {
					t.Errorf("%s: placeholder %q, want %q", tg.Name, tg.Placeholder, want)
				}
			}
			h, err := base64.StdEncoding.DecodeString(want)
			if err != nil || len(h) < 5 {
				t.Fatalf("%q: %v", want, err)
			}
			if landscape := h[4]&0x80 != 0; landscape != tc.landscape {
				t.Errorf("%q: landscape bit %v, want %v", want, landscape, tc.landscape)
			}
		})
	}
}

// FuzzThumbHash: any pixels of any size up to 100x100 give a hash of
// at most 25 bytes (6 header bytes with alpha), and never panic.
func FuzzThumbHash(f *testing.F) {
	f.Add(uint8(4), uint8(3), []byte{255, 0, 0, 255, 0, 255, 0, 128})
	f.Add(uint8(100), uint8(1), []byte{0})
	f.Add(uint8(1), uint8(100), []byte{})
	f.Fuzz(func(t *testing.T, w, h uint8, seed []byte) {
		W, H := int(w%100)+1, int(h%100)+1
		rgba := make([]byte, 4*W*H)
		for i := range rgba {
			if len(seed) > 0 {
				rgba[i] = seed[i%len(seed)] + byte(i/len(seed))
			}
		}
		hash := rgbaToThumbHash(W, H, rgba)
		alpha := hash[2]&0x80 != 0
		if len(hash) < 5 || len(hash) > 25 || alpha && len(hash) < 6 {
			t.Fatalf("%dx%d: %d bytes", W, H, len(hash))
		}
	})
}
