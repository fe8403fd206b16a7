//go:build nodynamic

package codec

import (
	"testing"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"
	"github.com/gen2brain/webp"
)

// TestBuiltWithNodynamic fails unless the build uses -tags nodynamic. Without it the
// gen2brain libraries dlopen a system libwebp/libavif/libheif at start-up when one is
// installed (behaviour then depends on the machine), and on Linux purego makes a
// CGO_ENABLED=0 binary dynamically linked against libc (no longer a static binary).
func TestBuiltWithNodynamic(t *testing.T) {
	for name, err := range map[string]error{"webp": webp.Dynamic(), "avif": avif.Dynamic(), "heic": heic.Dynamic()} {
		switch {
		case err == nil:
			t.Errorf("%s: a system library is in use, not the embedded WebAssembly: build with -tags nodynamic", name)
		case err.Error() != name+": dynamic disabled":
			t.Errorf("%s: built without -tags nodynamic (%v): the binary links purego and tries system libraries", name, err)
		}
	}
}
