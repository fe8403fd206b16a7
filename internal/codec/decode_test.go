//go:build nodynamic

package codec

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

func TestDecode(t *testing.T) {
	ref := decodePNG(t, "picos_64x48.png") // the source the AVIF and HEIC were made from, scaled
	tests := []struct {
		file, format  string
		width, height int
		minDB         float64 // PSNR of the decoded image scaled to 64x48 against ref; 0 skips
	}{
		// picosdeeuropa 480x360, libheif heif-enc --avif -q 60 (corpus MANIFEST.csv).
		{"avif_picosdeeuropa.avif", "avif", 480, 360, 28},
		// heif-enc -q 60 (x265) of the picosdeeuropa PNG at 160x120: see testdata/README.md.
		{"picos_160x120.heic", "heif", 160, 120, 28},
		{"picos_160x120.heic", "HEIC", 160, 120, 28},
		// image-rs test file, 200x200 animated WebP; the first frame.
		{"image-rs_anim.webp", "webp-anim", 200, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.file, func(t *testing.T) {
			data := readTestdata(t, tt.file)
			cfg, err := DecodeConfig(tt.format, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tt.width || cfg.Height != tt.height || cfg.ColorModel == nil {
				t.Errorf("DecodeConfig: %dx%d %v, want %dx%d", cfg.Width, cfg.Height, cfg.ColorModel, tt.width, tt.height)
			}
			m, err := Decode(tt.format, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b != image.Rect(0, 0, tt.width, tt.height) {
				t.Fatalf("Decode: bounds %v, want %dx%d", b, tt.width, tt.height)
			}
			t.Logf("%T", m)
			if tt.minDB > 0 {
				if p := psnr(t, ref, scaled(m, 64, 48)); p < tt.minDB {
					t.Errorf("PSNR against the source %.1f dB, want >= %.0f", p, tt.minDB)
				}
			}
		})
	}
}

// TestDecodeWebPAnimFirstFrame checks the first frame's pixels: the image-rs test animation
// starts with an opaque frame, so its alpha must be 255 and it must not be all one colour.
func TestDecodeWebPAnimFirstFrame(t *testing.T) {
	m, err := Decode("webp-anim", bytes.NewReader(readTestdata(t, "image-rs_anim.webp")))
	if err != nil {
		t.Fatal(err)
	}
	colours := map[color.RGBA]bool{}
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			colours[color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 2 {
		t.Errorf("first frame has %d colour(s): %v", len(colours), colours)
	}
}

func TestDecodeErrors(t *testing.T) {
	avifData := readTestdata(t, "avif_picosdeeuropa.avif")
	heicData := readTestdata(t, "picos_160x120.heic")
	tests := []struct {
		name, format string
		data         []byte
		is           error // checked with errors.Is when not nil
	}{
		{"unknown format", "jpeg", avifData, ErrUnsupportedFormat},
		// Valid, but too narrow for gen2brain/heic v0.4.5 to decode right (see heifMinWidth).
		{"heif 64 pixels wide", "heif", readTestdata(t, "picos_64x48.heic"), ErrUnsupportedFormat},
		{"empty format", "", avifData, ErrUnsupportedFormat},
		{"avif empty", "avif", nil, nil},
		{"avif truncated", "avif", avifData[:len(avifData)/2], nil},
		{"avif header only", "avif", avifData[:64], nil},
		{"avif given heic", "avif", heicData, nil},
		{"heif empty", "heif", nil, nil},
		{"heif truncated", "heif", heicData[:len(heicData)/2], nil},
		{"heif given avif", "heif", avifData, nil},
		{"heif garbage", "heif", bytes.Repeat([]byte("imgpipe!"), 512), nil},
		{"webp-anim given avif", "webp-anim", avifData, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.format, bytes.NewReader(tt.data))
			if err == nil {
				t.Fatalf("Decode: no error, image %v", m.Bounds())
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Decode: %v, want %v", err, tt.is)
			}
			t.Logf("Decode: %v", err)
		})
	}
}

// TestDecodeCorpus decodes the big corpus files; set IMGPIPE_CORPUS=$PWD/../shared/corpus (from the repository root).
func TestDecodeCorpus(t *testing.T) {
	dir := os.Getenv("IMGPIPE_CORPUS")
	if dir == "" {
		t.Skip("IMGPIPE_CORPUS not set")
	}
	tests := []struct {
		path, format  string
		width, height int
	}{
		{"formats/unsupported/iPhone11_IMG_5195.HEIC", "heif", 2566, 3313},
		{"bad/lies/heif_bytes_named.jpg", "heif", 640, 426},
		{"formats/unsupported/avif_picosdeeuropa.avif", "avif", 480, 360},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := DecodeConfig(tt.format, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(tt.format, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tt.width || cfg.Height != tt.height || m.Bounds().Dx() != tt.width || m.Bounds().Dy() != tt.height {
				t.Errorf("config %dx%d, image %v, want %dx%d", cfg.Width, cfg.Height, m.Bounds(), tt.width, tt.height)
			}
			t.Logf("%T %v", m, m.Bounds())
		})
	}
}
