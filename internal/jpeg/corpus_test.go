package jpeg

import (
	"bytes"
	"errors"
	stdjpeg "image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpus compares this decoder with image/jpeg on every .jpg/.jpeg file
// under $IMGPIPE_CORPUS (skipped when unset).
func TestCorpus(t *testing.T) {
	root := os.Getenv("IMGPIPE_CORPUS")
	if root == "" {
		t.Skip("IMGPIPE_CORPUS not set")
	}
	var files []string
	filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		ext := strings.ToLower(filepath.Ext(path))
		if ext == ".jpg" || ext == ".jpeg" {
			files = append(files, path)
		}
		return nil
	})
	var nOK, nRejected, nUnsupported int
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		gcfg, gcerr := stdjpeg.DecodeConfig(bytes.NewReader(data))
		cfg, cerr := DecodeConfig(bytes.NewReader(data))
		if (gcerr == nil) != (cerr == nil) {
			t.Errorf("%s: DecodeConfig error %v, image/jpeg %v", rel, cerr, gcerr)
		} else if gcerr == nil && (cfg.Width != gcfg.Width || cfg.Height != gcfg.Height || cfg.ColorModel != gcfg.ColorModel) {
			t.Errorf("%s: DecodeConfig %dx%d, image/jpeg %dx%d", rel, cfg.Width, cfg.Height, gcfg.Width, gcfg.Height)
		}
		if gcerr == nil && gcfg.Width*gcfg.Height > 100<<20 {
			t.Logf("%s: %dx%d, too large, skipped", rel, gcfg.Width, gcfg.Height)
			continue
		}
		want, gerr := stdjpeg.Decode(bytes.NewReader(data))
		got, err := Decode(bytes.NewReader(data), nil)
		if gerr != nil {
			if err == nil {
				t.Errorf("%s: image/jpeg fails (%v) but Decode succeeds", rel, gerr)
			} else if errors.Is(err, ErrUnsupported) {
				nUnsupported++
				t.Logf("%s: unsupported: %v (image/jpeg: %v)", rel, err, gerr)
			} else {
				nRejected++
				t.Logf("%s: rejected: %v (image/jpeg: %v)", rel, err, gerr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Decode: %v (image/jpeg decodes it)", rel, err)
			continue
		}
		// Corrupt files (bad/) may overflow the IDCT differently in a few
		// blocks; only the mean difference is checked for them.
		maxDiff := 8
		if strings.HasPrefix(filepath.ToSlash(rel), "bad/") {
			maxDiff = 255
		}
		mean, max, err := compareFull(got, want, maxDiff)
		if err != nil {
			t.Errorf("%s: scale 1: %v", rel, err)
			continue
		}
		line := ""
		for _, s := range []int{2, 4, 8} {
			m, err := Decode(bytes.NewReader(data), &Options{Scale: s})
			if err != nil {
				t.Errorf("%s: scale %d: %v", rel, s, err)
				continue
			}
			b := want.Bounds()
			psnr, err := compareScaled(m, want, s, psnrFloor(b.Dx(), b.Dy()))
			if err != nil {
				t.Errorf("%s: scale %d: %v", rel, s, err)
			}
			line += " " + strings.TrimSpace(strings.Replace(formatPSNR(s, psnr), "+Inf", "inf", 1))
		}
		nOK++
		t.Logf("%s: %T %v ok: scale1 mean %.3f max %d;%s", rel, got, got.Bounds().Max, mean, max, line)
	}
	t.Logf("%d files: %d decoded and matched, %d rejected like image/jpeg (%d of those ErrUnsupported)",
		len(files), nOK, nRejected+nUnsupported, nUnsupported)
}
