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

// Output describes one rendition made of every input. Zero values mean
// the defaults: the zero Output keeps the input's size and format.
type Output struct {
	// Width and Height bound the output in pixels; 0 leaves a side free.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// Fit is "fit" (inside the box, aspect kept; default), "fill" (cover the
	// box, then crop at Anchor), "pad" (exactly Width x Height: the image
	// fitted inside, placed at Anchor, the rest Background) or "stretch"
	// (exactly Width x Height, aspect not kept).
	Fit string `yaml:"fit"`
	// Anchor is the part kept by "fill", and where "pad" places the image:
	// center (default), top, bottom, left, right, top-left, top-right,
	// bottom-left or bottom-right. For "fill" it can also be attention (the
	// part with the most skin tones, saturated colour and edges) or entropy
	// (the busiest part: the most varied detail, a smooth sky counting
	// little), found from a 256 px copy of the decoded pixels.
	Anchor string `yaml:"anchor"`
	// Focal, for "fill", is the point the crop is centred on as far as the
	// image allows, as fractions of the upright image's width and height
	// ({0.5, 0.5} is the middle); it takes precedence over Anchor. Nil, the
	// default, leaves the crop to Anchor. Other fits ignore it.
	Focal *[2]float64 `yaml:"focal,flow"`
	// Trim removes uniform borders (every pixel within TrimTolerance of the
	// corner colour) before resizing: the output is made from the trimmed
	// box as if it were the whole image. {width} and {height} in Name still
	// give the size planned from the untrimmed image.
	Trim bool `yaml:"trim"`
	// Enlarge allows outputs bigger than the input (upscaling adds bytes,
	// not detail).
	Enlarge bool `yaml:"enlarge"`
	// Filter is the resampling filter: lanczos (default), catmullrom,
	// mitchell, linear, box or nearest.
	Filter string `yaml:"filter"`
	// Sharpen is the sigma, in output pixels, of an unsharp mask after
	// resizing (0.5 to 1 suits thumbnails); 0, the default, is off.
	Sharpen float64 `yaml:"sharpen"`
	// Linear resizes in linear light, so fine bright detail does not
	// darken; about 3x the resize time and 4x its memory.
	Linear bool `yaml:"linear"`
	// Format is same (default: the input's format when it can be written,
	// else jpeg) or the name of a format this build writes.
	Format string `yaml:"format"`
	// Quality is the JPEG (and WebP, AVIF) quality, 1-100 (default 85).
	Quality int `yaml:"quality"`
	// MaxBytes, when > 0, bounds the output's file size: a JPEG, lossy WebP
	// or AVIF over it is encoded again at the highest lower Quality that
	// fits (bisection: about 7 more encodes of the output image), and the
	// result's notes give the quality chosen, or say that even quality 1
	// does not fit (that smallest file is then written). Other formats
	// ignore it. In YAML, a number of bytes.
	MaxBytes int64 `yaml:"max_bytes"`
	// Progressive writes progressive JPEG (shown blurred, then sharp, as it
	// loads): same pixels, 1-2% smaller, about 15% more encoding time.
	Progressive bool `yaml:"progressive"`
	// Lossless writes WebP losslessly (Quality is then ignored).
	Lossless bool `yaml:"lossless"`
	// Background is the colour transparent pixels are flattened onto in
	// formats without alpha, and the colour around the image for "pad":
	// "#rrggbb", "#rrggbbaa", white, black or transparent. Default white;
	// for "pad" in a format with alpha, transparent.
	Background string `yaml:"background"`
	// Name is the output file name template, relative to the input's folder
	// mirrored under the output folder: {name} (input base name), {ext}
	// (the input's extension if it suits the output format, else the
	// format's own), {format}, {width} and {height} (the output's size),
	// {w} and {h} (the size asked for; the output's for a free side).
	// Default "{name}.{ext}". A converted input with a same-named sibling
	// (IMG_1.png beside IMG_1.jpg) gets its extension in {name}.
	Name string `yaml:"name"`
	// KeepMetadata keeps EXIF (orientation reset); by default it is
	// stripped (it can hold GPS positions) and the colour profile kept.
	KeepMetadata bool `yaml:"keep_metadata"`
	// Placeholder computes, from the decoded image, a stand-in a page shows
	// while the output loads: blurhash (a BlurHash string) or lqip (a tiny
	// JPEG as a data: URI); "" (default) none. It goes to the Target, the
	// result and the report; it does not change the output's bytes.
	Placeholder string `yaml:"placeholder"`
	// DropWider leaves this rendition out for an image narrower than Width
	// (unless Enlarge), as srcset generators do (--sizes sets it); an image
	// narrower than all of them gets the narrowest at its own width.
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
	if !oneOf(o.Placeholder, "", PlaceholderBlurHash, PlaceholderLQIP) {
		return bad("placeholder", "must be blurhash or lqip, got %q", o.Placeholder)
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
	Output Output // the spec, with defaults filled in
	Index  int    // position of Output in the configured list
	Format string // format written
	Width  int    // output size in pixels
	Height int
	Crop   image.Rectangle // the part of the upright full-size source used
	// Place, for "pad", is where the resized Crop sits in the Width x
	// Height output (the rest is Output.Background); empty when it fills it.
	Place image.Rectangle
	Name  string // the output's path below the output folder, with slashes
	// Placeholder is the Output.Placeholder of the decoded image, set by
	// the resize stage ("" before it, or when none was asked for).
	Placeholder string
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
	if f != nil && f.Still != "" { // written as its first frame
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

// CanCollide reports whether two renditions can give some input the same
// file name ({width} tells none apart: an image narrower than both gives
// both its own width).
func CanCollide(a, b Output) bool {
	a, b = a.WithDefaults(), b.WithDefaults()
	fa, fb := a.Format, b.Format
	switch {
	case fa == "same" && fb != "same":
		fa = fb // "same" writes b's format for an input in that format
	case fb == "same" && fa != "same":
		fb = fa
	}
	return strings.EqualFold(a.symbolicName(fa), b.symbolicName(fb))
}

// symbolicName is o's template with the placeholders that can tell two
// renditions apart filled in, and the others left as one symbol.
func (o Output) symbolicName(outFormat string) string {
	w, h := "?", "?"
	if o.Width > 0 {
		w = strconv.Itoa(o.Width)
	}
	if o.Height > 0 {
		h = strconv.Itoa(o.Height)
	}
	ext := outFormat
	if f := format.ByName(outFormat); f != nil {
		ext = f.Ext()
	}
	return strings.NewReplacer("{name}", "\x00", "{ext}", ext, "{format}", outFormat,
		"{width}", "?", "{height}", "?", "{w}", w, "{h}", h).Replace(o.Name)
}
