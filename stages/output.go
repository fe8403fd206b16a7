package stages

import (
	"fmt"
	"image"
	"math"
	"path"
	"strconv"
	"strings"
)

// Output describes one rendition made of every input: its size, how it is
// fitted, its format and its name. Zero values mean the defaults, so the
// zero Output keeps the input's size and format.
type Output struct {
	// Width and Height bound the output in pixels; 0 leaves that side free
	// (aspect ratio kept). Both 0 keeps the input's size.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// Fit is "fit" (inside the box, aspect kept; default), "fill" (cover the
	// box, then crop at Anchor) or "stretch" (exactly Width x Height).
	Fit string `yaml:"fit"`
	// Anchor picks the part kept by "fill": center (default), top, bottom,
	// left, right, top-left, top-right, bottom-left, bottom-right.
	Anchor string `yaml:"anchor"`
	// Enlarge allows outputs bigger than the input; off by default, since
	// upscaling adds bytes, not detail.
	Enlarge bool `yaml:"enlarge"`
	// Filter is the resampling filter: lanczos (default), catmullrom,
	// mitchell, linear, box or nearest.
	Filter string `yaml:"filter"`
	// Sharpen applies an unsharp mask of this radius (Gaussian sigma, in
	// output pixels; 0.5 to 1 suits most thumbnails) after resizing, which
	// restores the crispness downscaling softens. 0 (default) is off.
	Sharpen float64 `yaml:"sharpen"`
	// Linear resizes in linear light: sRGB is decoded before filtering and
	// encoded after, so fine bright detail (foliage against sky, text) does
	// not darken. It costs about 3x the resize time and 4x its memory.
	Linear bool `yaml:"linear"`
	// Format is same (default: the input's format when it can be written,
	// else jpeg), jpeg, png, gif, tiff or bmp; webp and avif too in a build
	// with -tags nodynamic.
	Format string `yaml:"format"`
	// Quality is the JPEG (and WebP, AVIF) quality, 1-100 (default 85).
	Quality int `yaml:"quality"`
	// Progressive writes progressive JPEG: browsers show the whole picture,
	// blurred, after a small part of the file. The pixels are the same as
	// baseline's and the file 1-2% smaller; it costs about 15% more
	// encoding time.
	Progressive bool `yaml:"progressive"`
	// Lossless writes WebP losslessly (Quality is then ignored).
	Lossless bool `yaml:"lossless"`
	// Background is the colour transparent pixels are flattened onto when
	// the output format has no alpha (JPEG, BMP): "#rrggbb" or a name
	// (white, black); default white.
	Background string `yaml:"background"`
	// Name is the output file name template, relative to the input's folder
	// mirrored under the output folder. Placeholders: {name} (input base name
	// without extension), {ext} (the input's extension when it suits the
	// output format, else the format's usual one), {format}, {width},
	// {height} (the output's size). Default "{name}.{ext}". An input that
	// is converted and has a same-named sibling with another image
	// extension gets {name} plus its own extension (IMG_1.png beside
	// IMG_1.jpg, to JPEG: IMG_1-png.jpg).
	Name string `yaml:"name"`
	// KeepMetadata copies EXIF (orientation reset to 1) into JPEG outputs.
	// By default EXIF is stripped (it can hold GPS positions) and only the
	// colour profile is kept.
	KeepMetadata bool `yaml:"keep_metadata"`
}

// Default values of Output's fields.
const (
	DefaultFit     = "fit"
	DefaultAnchor  = "center"
	DefaultFilter  = "lanczos"
	DefaultFormat  = "same"
	DefaultQuality = 85
	DefaultName    = "{name}.{ext}"
)

// WithDefaults returns o with every zero field set to its default.
func (o Output) WithDefaults() Output {
	set := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	set(&o.Fit, DefaultFit)
	set(&o.Anchor, DefaultAnchor)
	set(&o.Filter, DefaultFilter)
	set(&o.Format, DefaultFormat)
	set(&o.Background, "white")
	set(&o.Name, DefaultName)
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	return o
}

// Validate reports the first invalid field of o, naming it as prefix.field
// (prefix is where o sits in the configuration, e.g. "output" or "outputs[1]").
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
	case o.Sharpen < 0 || o.Sharpen > 10:
		return bad("sharpen", "must be 0 (off) to 10, got %g", o.Sharpen)
	}
	if !oneOf(o.Fit, "fit", "fill", "stretch") {
		return bad("fit", "must be fit, fill or stretch, got %q", o.Fit)
	}
	if _, ok := anchors[o.Anchor]; !ok {
		return bad("anchor", "must be one of center, top, bottom, left, right, top-left, top-right, bottom-left, bottom-right; got %q", o.Anchor)
	}
	if _, ok := filters[o.Filter]; !ok {
		return bad("filter", "must be one of lanczos, catmullrom, mitchell, linear, box, nearest; got %q", o.Filter)
	}
	if o.Format != "same" && !Writable(o.Format) {
		hint := ""
		if o.Format == "webp" || o.Format == "avif" {
			hint = " (" + o.Format + " needs an imgpipe built with -tags nodynamic, see README)"
		}
		return bad("format", "must be same or one of %s; got %q%s", writableList(), o.Format, hint)
	}
	if _, err := ParseColor(o.Background); err != nil {
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

// Geometry works out what o makes of a w x h (upright) image: the output
// size and the part of the source that is resampled into it (all of it,
// except for "fill", which crops).
func (o Output) Geometry(w, h int) (outW, outH int, src image.Rectangle) {
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

func anchorRect(w, h, cw, ch int, anchor string) image.Rectangle {
	a := anchors[anchor]
	x, y := (w-cw)*a[0]/2, (h-ch)*a[1]/2
	return image.Rect(x, y, x+cw, y+ch)
}

// OutputFormat is the format o writes for an input in srcFormat.
func (o Output) OutputFormat(srcFormat string) string {
	o = o.WithDefaults()
	if o.Format != "same" {
		return o.Format
	}
	if srcFormat == "webp-anim" { // its first frame, as a still
		srcFormat = "webp"
	}
	if Writable(srcFormat) {
		return srcFormat
	}
	return "jpeg"
}

// extFormats maps extensions to the format they name.
var extFormats = map[string]string{
	"jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "png": "png", "gif": "gif",
	"tif": "tiff", "tiff": "tiff", "bmp": "bmp", "webp": "webp", "avif": "avif", "heic": "heif", "heif": "heif",
}

// FileName fills in o's name template for the input at rel (slash-separated,
// relative to its root) and returns the output's slash-separated path
// relative to the output folder.
func (o Output) FileName(rel, format string, w, h int) string {
	o = o.WithDefaults()
	dir, base := path.Split(rel)
	name, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		name, ext = base[:i], base[i+1:]
	}
	if extFormats[strings.ToLower(ext)] != format {
		ext = writers[format]
	}
	r := strings.NewReplacer("{name}", name, "{ext}", ext, "{format}", format,
		"{width}", strconv.Itoa(w), "{height}", strconv.Itoa(h))
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
