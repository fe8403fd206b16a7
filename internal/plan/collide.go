package plan

import (
	"strconv"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/stages"
)

// CanCollide reports whether two renditions can give some input the same
// file name ({width} tells none apart: an image narrower than both gives
// both its own width).
func CanCollide(a, b stages.Output) bool {
	a, b = a.WithDefaults(), b.WithDefaults()
	fa, fb := a.Format, b.Format
	switch {
	case fa == "same" && fb != "same":
		fa = fb // "same" writes b's format for an input in that format
	case fb == "same" && fa != "same":
		fb = fa
	}
	return strings.EqualFold(symbolicName(a, fa), symbolicName(b, fb))
}

// symbolicName is o's template with the placeholders that can tell two
// renditions apart filled in, and the others left as one symbol.
func symbolicName(o stages.Output, outFormat string) string {
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
