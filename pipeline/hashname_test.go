package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// {hash} in --name: each output is named by the first 10 hex digits of the
// SHA-256 of its bytes; a re-run with the same settings finds the same
// files and skips; other settings write new names and keep the old files,
// and going back to the first settings finds the first files again.
func TestHashInName(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "photos/phone_Samsung_SM-G930F.jpg")
	man := filepath.Join(out, "manifest.json")
	cfg := Config{OutDir: out, Manifest: man, Formats: []string{"webp", "jpeg"},
		Output: stages.Output{Width: 200, Name: "{name}-{w}w.{hash}.{ext}"}}
	named := regexp.MustCompile(`^(camera_Nikon_P6000_GPS|phone_Samsung_SM-G930F)-200w\.([0-9a-f]{10})\.(webp|jpg)$`)
	outputs := func() []string {
		var names []string
		entries, _ := os.ReadDir(filepath.Join(out, "photos"))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}

	sum, res := rerun(t, cfg, in)
	if sum.OK != 2 {
		t.Fatalf("first run: %+v", sum)
	}
	first := outputs()
	if len(first) != 4 {
		t.Fatalf("outputs %v, want 4", first)
	}
	for _, name := range first {
		m := named.FindStringSubmatch(name)
		if m == nil {
			t.Fatalf("output %s is not named {name}-200w.{hash}.{ext}", name)
		}
		data, err := os.ReadFile(filepath.Join(out, "photos", name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:])[:10] != m[2] {
			t.Errorf("%s: the file's SHA-256 is %x", name, sum)
		}
	}
	for _, r := range res {
		for _, o := range r.Outputs {
			if !slices.Contains(first, filepath.Base(o.Path)) || strings.Contains(o.Path, "{hash}") {
				t.Errorf("result output %s is not a file written", o.Path)
			}
		}
	}
	m := readManifest(t, man)
	for k, e := range m.Images {
		for _, r := range e.Renditions {
			if !slices.Contains(first, filepath.Base(r.Path)) {
				t.Errorf("manifest %s: rendition %s is not a file written", k, r.Path)
			}
		}
	}

	// Same settings: the same files, up to date.
	sum, res = rerun(t, cfg, in)
	if sum.Skipped != 2 || !slices.Equal(outputs(), first) {
		t.Fatalf("re-run: %+v, outputs %v", sum, outputs())
	}
	for _, r := range res {
		for _, o := range r.Outputs {
			if !slices.Contains(first, filepath.Base(o.Path)) {
				t.Errorf("skipped %s lists %s", r.Input, o.Path)
			}
		}
	}

	// Other settings: new names beside the old files.
	cfg.Output.Quality = 60
	if sum, _ := rerun(t, cfg, in); sum.OK != 2 || len(outputs()) != 8 {
		t.Fatalf("q60: %+v, outputs %v", sum, outputs())
	}
	m = readManifest(t, man)
	for k, e := range m.Images {
		for _, r := range e.Renditions {
			if slices.Contains(first, filepath.Base(r.Path)) {
				t.Errorf("manifest %s still lists the q85 file %s", k, r.Path)
			}
		}
	}
	// And back: the first files are found again.
	cfg.Output.Quality = 0
	if sum, _ := rerun(t, cfg, in); sum.Skipped != 2 || len(outputs()) != 8 {
		t.Errorf("back to q85: %+v, outputs %v", sum, outputs())
	}
	// The input changed: written again, under the name of its new bytes.
	copyTree(t, in, "photos/phone_Samsung_SM-G930F.jpg") // same bytes, new modification time
	os.Chtimes(filepath.Join(in, "photos/phone_Samsung_SM-G930F.jpg"), time1, time1)
	if sum, _ := rerun(t, cfg, in); sum.OK != 1 || sum.Skipped != 1 || len(outputs()) != 8 {
		t.Errorf("input touched: %+v, outputs %v (same bytes: same names)", sum, outputs())
	}
}

var time1 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
