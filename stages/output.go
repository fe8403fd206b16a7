package stages

import (
	"fmt"
	"image"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
)

// Output describes one rendition made of every input (the README's flags
// table says more of each field). Zero values mean the defaults: the zero
// Output keeps the input's size and format.
type Output struct {
	// Width and Height bound the output in pixels; 0 leaves a side free.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// Fit is fit (inside the box; default), fill (cover it, crop at
	// Anchor), pad (fit inside, placed at Anchor on Background) or stretch.
	Fit string `yaml:"fit"`
	// Anchor is where fill crops and pad places: center (default), top,
	// bottom, left, right, top-left... or, for fill, attention (skin, colour
	// and edges) or entropy (the busiest part).
	Anchor string `yaml:"anchor"`
	// Focal centres fill's crop on a point, as fractions of the image.
	Focal *[2]float64 `yaml:"focal,flow"`
	// Trim removes uniform borders before resizing.
	Trim bool `yaml:"trim"`
	// Enlarge allows outputs bigger than the input.
	Enlarge bool `yaml:"enlarge"`
	// Filter is lanczos (default), catmullrom, mitchell, linear, box or nearest.
	Filter string `yaml:"filter"`
	// Sharpen is an unsharp mask's sigma in output pixels; 0 (default) is off.
	Sharpen float64 `yaml:"sharpen"`
	// Linear resizes in linear light (about 3x the resize time).
	Linear bool `yaml:"linear"`
	// Format is same (default: the input's, if writable, else jpeg) or a
	// format this build writes.
	Format string `yaml:"format"`
	// Quality is the JPEG, WebP and AVIF quality, 1-100 (default 85).
	Quality int `yaml:"quality"`
	// MaxBytes, if > 0, lowers Quality until a lossy output fits in it.
	MaxBytes int64 `yaml:"max_bytes"`
	// Progressive writes progressive JPEG; Lossless, lossless WebP.
	Progressive bool `yaml:"progressive"`
	Lossless    bool `yaml:"lossless"`
	// Background is the colour under transparency in formats without alpha
	// and around pad: #rrggbb, #rrggbbaa, white (default), black, transparent.
	Background string `yaml:"background"`
	// Name is the output name template below the mirrored input folder:
	// {name} {ext} {format}, {width} {height} (the output's size), {w} {h}
	// (the size asked for), {hash} (of the bytes). Default "{name}.{ext}".
	Name string `yaml:"name"`
	// Colorspace is auto (default: pixels converted to sRGB when the
	// format cannot carry the input's profile), srgb (always converted,
	// written without a profile) or keep (never converted).
	Colorspace string `yaml:"colorspace"`
	// KeepMetadata is none (default: EXIF, XMP and IPTC stripped, as they
	// can hold GPS positions), copyright (only the author and rights
	// fields) or all (EXIF with the orientation reset, XMP, IPTC). In
	// config files true and false mean all and none.
	KeepMetadata string `yaml:"keep_metadata"`
	// Placeholder is blurhash, thumbhash or lqip: a stand-in for the page.
	Placeholder string `yaml:"placeholder"`
	// DropWider leaves the rendition out for an image narrower than Width.
	DropWider bool `yaml:"drop_wider"`
}

// Default values of Output's fields.
const (
	defaultFit     = "fit"
	defaultAnchor  = "center"
	defaultFilter  = "lanczos"
	defaultFormat  = "same"
	defaultQuality = 85
	defaultName    = "{name}.{ext}"
)

// WithDefaults returns o with every zero field set to its default.
func (o Output) WithDefaults() Output {
	set := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	set(&o.Fit, defaultFit)
	set(&o.Anchor, defaultAnchor)
	set(&o.Filter, defaultFilter)
	set(&o.Format, defaultFormat)
	set(&o.Background, "white")
	set(&o.Name, defaultName)
	set(&o.Colorspace, colorAuto)
	o.KeepMetadata = metadataPolicy(o.KeepMetadata)
	if o.Quality == 0 {
		o.Quality = defaultQuality
	}
	return o
}

// Validate reports the first invalid field of o as prefix.field
// ("output.width", "outputs[1].format").
func (o Output) Validate(prefix string) error {
	o = o.WithDefaults()
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s.%s: %s", prefix, field, fmt.Sprintf(format, args...))
	}
	switch {
	case o.Width < 0:
		return bad("width", "must be >= 0, got %d", o.Width)
	case o.Height < 0:
		return bad("height", "must be >= 0, got %d", o.Height)
	case o.Quality < 1 || o.Quality > 100:
		return bad("quality", "must be 1-100, got %d", o.Quality)
	case o.MaxBytes < 0:
		return bad("max_bytes", "must be >= 0 (0: no limit), got %d", o.MaxBytes)
	case !(o.Sharpen >= 0 && o.Sharpen <= 10): // NaN too
		return bad("sharpen", "must be 0 (off) to 10, got %g", o.Sharpen)
	}
	if !oneOf(o.Fit, "fit", "fill", "pad", "stretch") {
		return bad("fit", "must be fit, fill, pad or stretch, got %q", o.Fit)
	}
	if _, ok := anchors[o.Anchor]; !ok && !smartAnchor(o.Anchor) {
		return bad("anchor", "must be one of center, top, bottom, left, right, top-left, top-right, bottom-left, bottom-right, attention, entropy; got %q", o.Anchor)
	}
	if f := o.Focal; f != nil && !(f[0] >= 0 && f[0] <= 1 && f[1] >= 0 && f[1] <= 1) { // NaN too
		return bad("focal", "must be two fractions of the image, 0-1, got %g,%g", f[0], f[1])
	}
	if _, ok := filters[o.Filter]; !ok {
		return bad("filter", "must be one of lanczos, catmullrom, mitchell, linear, box, nearest; got %q", o.Filter)
	}
	if f := format.ByName(o.Format); o.Format != "same" && (f == nil || !f.Writable()) {
		hint := ""
		if f != nil && f.WriteNeeds != "" {
			hint = " (" + o.Format + " needs " + f.WriteNeeds + ")"
		}
		return bad("format", "must be same or one of %s; got %q%s", strings.Join(format.Writable(), ", "), o.Format, hint)
	}
	if !oneOf(o.Placeholder, "", PlaceholderBlurHash, PlaceholderLQIP, PlaceholderThumbHash) {
		return bad("placeholder", "must be blurhash, thumbhash or lqip, got %q", o.Placeholder)
	}
	if !oneOf(o.KeepMetadata, metaNone, metaCopyright, metaAll) {
		return bad("keep_metadata", "must be none, copyright or all (true: all, false: none), got %q", o.KeepMetadata)
	}
	if !oneOf(o.Colorspace, colorAuto, colorSRGB, colorKeep) {
		return bad("colorspace", "must be auto, srgb or keep, got %q", o.Colorspace)
	}
	if _, err := parseColor(o.Background); err != nil {
		return bad("background", "%v", err)
	}
	if err := checkTemplate(o.Name); err != nil {
		return bad("name", "%v", err)
	}
	return nil
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Target is one output planned for one input.
type Target struct {
	Output      Output // the spec, with defaults filled in
	Index       int    // position of Output in the configured list
	Format      string // format written
	Width       int    // output size in pixels
	Height      int
	Crop        image.Rectangle // the part of the upright full-size source used
	Place       image.Rectangle // for pad, where the resized Crop sits; else empty
	Name        string          // the output's path below the output folder, with slashes
	Placeholder string          // set by resize when Output.Placeholder asks
	// Settings is the hash of the settings behind the output's bytes, set
	// by the planner: what a record of the output keeps, to tell later
	// whether it is up to date.
	Settings string
}

// Target is what o makes of an upright w x h input in srcFormat found at
// rel (below its root, with slashes): format, size, crop and name.
func (o Output) Target(rel, srcFormat string, w, h int) Target {
	if o.Fit == "pad" && o.Background == "" { // not given: transparent where the format can be
		if f := format.ByName(o.WithDefaults().outputFormat(srcFormat)); f != nil && f.Alpha {
			o.Background = "transparent"
		}
	}
	o = o.WithDefaults()
	ow, oh, crop := o.geometry(w, h)
	of := o.outputFormat(srcFormat)
	return Target{Output: o, Format: of, Width: ow, Height: oh, Crop: crop, Place: o.place(w, h),
		Name: o.fileName(rel, of, ow, oh)}
}

// place is, for "pad" with both sides given, where the w x h image fitted
// inside the box sits in it; empty otherwise.
func (o Output) place(w, h int) image.Rectangle {
	if o.Fit != "pad" || o.Width == 0 || o.Height == 0 {
		return image.Rectangle{}
	}
	fit := o
	fit.Fit = "fit"
	iw, ih, _ := fit.geometry(w, h)
	return anchorRect(o.Width, o.Height, iw, ih, o.Anchor)
}

// geometry works out what o makes of a w x h (upright) image: the output
// size and the part of the source that is resampled into it (all of it,
// except for "fill", which crops).
func (o Output) geometry(w, h int) (outW, outH int, src image.Rectangle) {
	o = o.WithDefaults()
	src = image.Rect(0, 0, w, h)
	W, H := o.Width, o.Height
	if W == 0 && H == 0 {
		return w, h, src
	}
	fw, fh := float64(W)/float64(w), float64(H)/float64(h)
	switch {
	case W == 0:
		fw = fh
	case H == 0:
		fh = fw
	}
	switch o.Fit {
	case "pad":
		if W == 0 || H == 0 { // one side free: as fit
			break
		}
		return W, H, src
	case "stretch":
		if W == 0 || H == 0 { // one side free: keep the aspect ratio
			break
		}
		if !o.Enlarge {
			W, H = min(W, w), min(H, h)
		}
		return W, H, src
	case "fill":
		if W == 0 || H == 0 {
			break
		}
		f := max(fw, fh)
		if !o.Enlarge {
			f = min(f, 1)
		}
		// The crop box is the output box seen at source scale, clamped to
		// the source when the source is too small to fill it.
		outW, outH = min(W, round(float64(w)*f)), min(H, round(float64(h)*f))
		cw, ch := min(w, round(float64(outW)/f)), min(h, round(float64(outH)/f))
		if o.Focal != nil {
			return outW, outH, focalRect(w, h, cw, ch, o.Focal[0], o.Focal[1])
		}
		return outW, outH, anchorRect(w, h, cw, ch, o.Anchor)
	}
	f := min(fw, fh)
	if !o.Enlarge {
		f = min(f, 1)
	}
	return max(1, round(float64(w)*f)), max(1, round(float64(h)*f)), src
}

func round(f float64) int { return int(math.Round(f)) }

// anchors gives, for each anchor, where the crop box sits on each axis:
// 0 at the start, 1 centred, 2 at the end.
var anchors = map[string][2]int{
	"center": {1, 1}, "top": {1, 0}, "bottom": {1, 2}, "left": {0, 1}, "right": {2, 1},
	"top-left": {0, 0}, "top-right": {2, 0}, "bottom-left": {0, 2}, "bottom-right": {2, 2},
}

// smartAnchor reports whether anchor is found from the pixels (attention,
// entropy): geometry plans it as center and the resize stage moves the crop.
func smartAnchor(anchor string) bool { return anchor == "attention" || anchor == "entropy" }

// anchorRect places a cw x ch box in a w x h one at anchor (smart anchors:
// centred).
func anchorRect(w, h, cw, ch int, anchor string) image.Rectangle {
	a, ok := anchors[anchor]
	if !ok {
		a = anchors[defaultAnchor]
	}
	x, y := (w-cw)*a[0]/2, (h-ch)*a[1]/2
	return image.Rect(x, y, x+cw, y+ch)
}

// focalRect places a cw x ch box in a w x h one centred on the point
// (fx*w, fy*h) as far as the w x h box allows.
func focalRect(w, h, cw, ch int, fx, fy float64) image.Rectangle {
	x := max(0, min(w-cw, round(fx*float64(w)-float64(cw)/2)))
	y := max(0, min(h-ch, round(fy*float64(h)-float64(ch)/2)))
	return image.Rect(x, y, x+cw, y+ch)
}

// outputFormat is the format o writes for an input in srcFormat.
func (o Output) outputFormat(srcFormat string) string {
	if o.Format != "same" {
		return o.Format
	}
	f := format.ByName(srcFormat)
	if f != nil && f.Still != "" { // written as the format it is a variant of
		f = format.ByName(f.Still)
	}
	if f != nil && f.Writable() {
		return f.Name
	}
	return format.DefaultOutput
}

// fileName fills in o's name template for the input at rel (slash-separated,
// relative to its root) and returns the output's slash-separated path
// relative to the output folder.
func (o Output) fileName(rel, outFormat string, w, h int) string {
	dir, base := path.Split(rel)
	name, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		name, ext = base[:i], base[i+1:]
	}
	if f := format.ByExt(ext); f == nil || f.Name != outFormat {
		ext = format.ByName(outFormat).Ext()
	}
	rw, rh := o.Width, o.Height
	if rw == 0 {
		rw = w
	}
	if rh == 0 {
		rh = h
	}
	r := strings.NewReplacer("{name}", name, "{ext}", ext, "{format}", outFormat,
		"{width}", strconv.Itoa(w), "{height}", strconv.Itoa(h), "{w}", strconv.Itoa(rw), "{h}", strconv.Itoa(rh))
	return path.Join(dir, r.Replace(o.Name))
}

// checkTemplate refuses name templates that could leave the output folder
// or name nothing.
func checkTemplate(t string) error {
	if !strings.Contains(t, "{name}") {
		return fmt.Errorf("template %q must contain {name}, or every input would write the same file", t)
	}
	if strings.HasPrefix(t, "/") || strings.Contains(t, "\\") {
		return fmt.Errorf("template %q must be a relative path with forward slashes", t)
	}
	for _, part := range strings.Split(t, "/") {
		if part == ".." || part == "." || part == "" {
			return fmt.Errorf("template %q must not contain empty, . or .. path elements", t)
		}
	}
	return nil
}
