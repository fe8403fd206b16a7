package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

func readManifest(t *testing.T, name string) manifest {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, data)
	}
	return m
}

// checkEntry holds an entry against the files in out: every rendition's
// bytes and hash, its size decoded, and the srcset of each format.
func checkEntry(t *testing.T, out, key string, e *manifestEntry, srcW, srcH int) {
	t.Helper()
	if e == nil {
		t.Fatalf("no entry for %s", key)
	}
	if e.Source.Width != srcW || e.Source.Height != srcH || e.Source.Format != "jpeg" || e.Source.Bytes == 0 {
		t.Errorf("%s: source %+v, want jpeg %dx%d", key, e.Source, srcW, srcH)
	}
	srcset := map[string][]string{}
	for _, r := range e.Renditions {
		data, err := os.ReadFile(filepath.Join(out, r.Path))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		sum := sha256.Sum256(data)
		if r.Bytes != int64(len(data)) || r.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: %+v, but the file has %d bytes, sha256 %x", r.Path, r, len(data), sum)
		}
		if size := decodeOutput(t, filepath.Join(out, r.Path)); size.X != r.Width || size.Y != r.Height {
			t.Errorf("%s: %+v, but the file is %v", r.Path, r, size)
		}
		srcset[r.Format] = append(srcset[r.Format], r.Path+" "+strconv.Itoa(r.Width)+"w")
	}
	for f, parts := range srcset {
		if want := strings.Join(parts, ", "); e.Srcset[f] != want {
			t.Errorf("%s: srcset[%s] = %q, want %q", key, f, e.Srcset[f], want)
		}
	}
	if len(e.Srcset) != len(srcset) {
		t.Errorf("%s: srcset %v, want one per format of %v", key, e.Srcset, srcset)
	}
}

// The manifest lists each input's renditions (every size in every format),
// with sizes, hashes, srcsets and the placeholder; a re-run keeps the
// entries of inputs skipped as up to date (placeholder included) and adds
// new inputs; an input whose outputs are gone leaves it; a file that is not
// a manifest is never overwritten.
func TestManifestRerunKeepsEntries(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "photos/phone_Samsung_SM-G930F.jpg")
	man := filepath.Join(t.TempDir(), "site", "images.json")
	os.MkdirAll(filepath.Dir(man), 0o755)
	cfg := Config{OutDir: out, Manifest: man, Formats: []string{"webp", "jpeg"},
		Output: stages.Output{Placeholder: "blurhash"},
		Outputs: []stages.Output{
			{Width: 160, Name: "{name}-{w}w.{ext}", DropWider: true},
			{Width: 320, Name: "{name}-{w}w.{ext}", DropWider: true},
		}}
	if sum, _ := rerun(t, cfg, in); sum.OK != 2 {
		t.Fatalf("first run: %+v", sum)
	}
	m := readManifest(t, man)
	if m.Version != 1 || len(m.Images) != 2 {
		t.Fatalf("manifest %+v, want 2 images", m)
	}
	nikon, phone := "photos/camera_Nikon_P6000_GPS.jpg", "photos/phone_Samsung_SM-G930F.jpg"
	checkEntry(t, out, nikon, m.Images[nikon], 640, 480)
	checkEntry(t, out, phone, m.Images[phone], 4032, 2012)
	if e := m.Images[nikon]; len(e.Renditions) != 4 || len(e.Placeholder) != 28 ||
		e.Srcset["webp"] != "photos/camera_Nikon_P6000_GPS-160w.webp 160w, photos/camera_Nikon_P6000_GPS-320w.webp 320w" {
		t.Errorf("nikon: %+v", e)
	}
	first, _ := os.ReadFile(man)

	// Re-run with one more input: the two are skipped and keep their
	// entries, placeholders included; the new one is added.
	copyTree(t, in, "photos/friends_by_Aitzol_Berasategi.jpg")
	if sum, _ := rerun(t, cfg, in); sum.OK != 1 || sum.Skipped != 2 {
		t.Fatalf("re-run: %+v", sum)
	}
	m2 := readManifest(t, man)
	if len(m2.Images) != 3 {
		t.Fatalf("re-run: %d images, want 3", len(m2.Images))
	}
	for _, k := range []string{nikon, phone} {
		a, _ := json.Marshal(m.Images[k])
		b, _ := json.Marshal(m2.Images[k])
		if string(a) != string(b) {
			t.Errorf("re-run changed the entry of skipped %s:\n%s\n%s", k, a, b)
		}
	}
	checkEntry(t, out, "photos/friends_by_Aitzol_Berasategi.jpg", m2.Images["photos/friends_by_Aitzol_Berasategi.jpg"], 2056, 3088)

	// Deleted, the manifest is made again from the outputs found up to
	// date (placeholders need --force).
	os.Remove(man)
	rerun(t, cfg, in)
	m3 := readManifest(t, man)
	checkEntry(t, out, nikon, m3.Images[nikon], 640, 480)
	if len(m3.Images) != 3 || m3.Images[nikon].Placeholder != "" {
		t.Errorf("rebuilt manifest: %d images, placeholder %q", len(m3.Images), m3.Images[nikon].Placeholder)
	}
	if !strings.Contains(string(first), `"version": 1`) {
		t.Errorf("manifest:\n%s", first)
	}

	// An input whose outputs are gone leaves the manifest; the others stay.
	os.Remove(filepath.Join(in, phone))
	os.Remove(filepath.Join(out, "photos/phone_Samsung_SM-G930F-160w.webp"))
	rerun(t, cfg, in)
	if m4 := readManifest(t, man); len(m4.Images) != 2 || m4.Images[phone] != nil {
		t.Errorf("after removing an input and an output: %v", m4.Images)
	}

	// Not a manifest: refused, untouched.
	os.WriteFile(man, []byte(`{"name": "my-site"}`), 0o644)
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(t.Context(), Paths(in)); err == nil || !strings.Contains(err.Error(), "not an imgpipe manifest") {
		t.Errorf("Run over a foreign JSON file: %v", err)
	}
	if data, _ := os.ReadFile(man); string(data) != `{"name": "my-site"}` {
		t.Errorf("the foreign file was changed: %s", data)
	}
}

// A watch writes the manifest once the files in flight are done: each
// photo that lands appears in it.
func TestManifestWatch(t *testing.T) {
	jpg, err := os.ReadFile("../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	if err != nil {
		t.Fatal(err)
	}
	man := filepath.Join(t.TempDir(), "manifest.json")
	w := watching(t, Config{Manifest: man, Formats: []string{"jpeg", "webp"}})
	has := func(keys ...string) func() bool {
		return func() bool {
			data, err := os.ReadFile(man)
			if err != nil {
				return false
			}
			var m manifest
			if json.Unmarshal(data, &m) != nil {
				return false
			}
			for _, k := range keys {
				if e := m.Images[k]; e == nil || len(e.Renditions) != 2 {
					return false
				}
			}
			return true
		}
	}
	watchWrite(t, filepath.Join(w.in, "a.jpg"), jpg)
	w.waitFor("a.jpg in the manifest", has("a.jpg"))
	watchWrite(t, filepath.Join(w.in, "sub", "b.jpg"), jpg)
	w.waitFor("sub/b.jpg in the manifest", has("a.jpg", "sub/b.jpg"))
	if err := w.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	m := readManifest(t, man)
	checkEntry(t, w.out, "sub/b.jpg", m.Images["sub/b.jpg"], 640, 480)
}
