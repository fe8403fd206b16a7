package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// manifestVersion is the "version" of the manifest's schema (README,
// "Manifest"); a file with another version is refused, not rewritten.
const manifestVersion = 1

// manifest is the content of Config.Manifest: every input's renditions, by
// the input's path below its folder (the path its outputs mirror).
// encoding/json writes map keys sorted, so the file's order is stable.
type manifest struct {
	Version int                       `json:"version"`
	Images  map[string]*manifestEntry `json:"images"`
}

type manifestEntry struct {
	Source      manifestSource      `json:"source"`
	Placeholder string              `json:"placeholder,omitempty"`
	Srcset      map[string]string   `json:"srcset"` // by format: "a-320w.webp 320w, a-640w.webp 640w"
	Renditions  []manifestRendition `json:"renditions"`
}

type manifestSource struct {
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
}

type manifestRendition struct {
	Path   string `json:"path"` // below the output folder, with slashes
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
}

// loadManifest reads the manifest at name; a missing file is an empty
// manifest. A file that is not an imgpipe manifest is an error, so that a
// mistyped --manifest never overwrites someone's JSON.
func loadManifest(name string) (*manifest, error) {
	m := &manifest{Version: manifestVersion, Images: map[string]*manifestEntry{}}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	var old manifest
	if err := json.Unmarshal(data, &old); err != nil || old.Version != manifestVersion || old.Images == nil {
		return nil, fmt.Errorf("manifest %s: not an imgpipe manifest (version %d) and not overwritten: remove it or choose another file", name, manifestVersion)
	}
	for k, e := range old.Images {
		if e != nil {
			m.Images[k] = e
		}
	}
	return m, nil
}

// save drops the entries of inputs whose renditions are no longer all in
// outDir (removed by hand or by watch's delete_outputs, or replaced by a
// run with other names), then writes m to name through a temporary file,
// flushed, then renamed: readers see the old manifest or the new one.
// Cost: a stat per rendition and the file's size in memory.
func (m *manifest) save(name, outDir string) error {
	if outDir != "" {
		for k, e := range m.Images {
			for _, r := range e.Renditions {
				if _, err := os.Stat(filepath.Join(outDir, filepath.FromSlash(r.Path))); err != nil {
					delete(m.Images, k)
					break
				}
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, b.Bytes()) {
		return nil // unchanged: leave the file (and its modification time) alone
	}
	root, err := os.OpenRoot(filepath.Dir(name))
	if err != nil {
		return fmt.Errorf("manifest %s: %w", name, err)
	}
	defer root.Close()
	if err := atomicfile.Write(root, filepath.Base(name), b.Bytes(), true); err != nil {
		return fmt.Errorf("manifest %s: %w", name, err)
	}
	return nil
}

// newManifestEntry describes an input written as the targets of d, whose
// results are outs (sizes and hashes).
func newManifestEntry(d *stages.Decoded, outs []Rendition, placeholder string) *manifestEntry {
	e := &manifestEntry{Source: manifestSource{Format: d.Format, Width: d.Width, Height: d.Height, Bytes: d.File.Size},
		Placeholder: placeholder}
	for i, t := range d.Targets {
		r := manifestRendition{Path: t.Name, Format: t.Format, Width: t.Width, Height: t.Height}
		if i < len(outs) {
			r.Bytes, r.SHA256 = outs[i].Bytes, outs[i].SHA256
		}
		e.Renditions = append(e.Renditions, r)
	}
	e.srcset()
	return e
}

// manifestKey is f's key in the manifest: its path below its folder, as
// its outputs mirror it, with slashes.
func manifestKey(f stages.File) string {
	rel := filepath.ToSlash(f.Rel)
	if rel == "" {
		rel = filepath.Base(f.Path)
	}
	return path.Clean("/" + rel)[1:]
}

// skippedManifestEntry describes an input skipped as up to date from its
// planned outputs, read back from outDir for their sizes and hashes; nil
// when one cannot be read. old, the input's previous entry, gives the
// placeholder (a skipped input's is not computed again), and is returned
// as it is when it lists the same files.
func skippedManifestEntry(skip *plan.Skip, size int64, outDir string, old *manifestEntry) *manifestEntry {
	if old != nil && len(old.Renditions) == len(skip.Targets) {
		same := true
		for i, t := range skip.Targets {
			same = same && old.Renditions[i].Path == t.Name
		}
		if same {
			return old
		}
	}
	e := &manifestEntry{Source: manifestSource{Format: skip.Format, Width: skip.Width, Height: skip.Height, Bytes: size}}
	if old != nil {
		e.Placeholder = old.Placeholder
	}
	for _, t := range skip.Targets {
		data, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(t.Name)))
		if err != nil {
			return nil
		}
		e.Renditions = append(e.Renditions, manifestRendition{Path: t.Name, Format: t.Format, Width: t.Width,
			Height: t.Height, Bytes: int64(len(data)), SHA256: sha256Hex(data)})
	}
	e.srcset()
	return e
}

// srcset fills in e.Srcset from the renditions: for each format, its
// renditions from the narrowest, one per width, as "path 320w" (paths
// relative to the output folder, URL-escaped).
func (e *manifestEntry) srcset() {
	by := map[string][]manifestRendition{}
	for _, r := range e.Renditions {
		by[r.Format] = append(by[r.Format], r)
	}
	e.Srcset = map[string]string{}
	for f, rs := range by {
		slices.SortStableFunc(rs, func(a, b manifestRendition) int { return a.Width - b.Width })
		var parts []string
		last := -1
		for _, r := range rs {
			if r.Width == last {
				continue
			}
			last = r.Width
			parts = append(parts, urlPath(r.Path)+" "+strconv.Itoa(r.Width)+"w")
		}
		e.Srcset[f] = strings.Join(parts, ", ")
	}
}

// urlPath escapes a slash-separated path for a URL, as srcset needs (a
// space or a comma would end the URL).
func urlPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
