package plan

import (
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

func TestCleanRelNeverEscapes(t *testing.T) {
	for _, rel := range []string{"../../etc/passwd", "/abs/x.jpg", "a/../../b.jpg", "..", ""} {
		got := cleanRel(stages.File{Path: "x.jpg", Rel: rel})
		if strings.HasPrefix(got, "/") || strings.HasPrefix(got, "..") || strings.Contains(got, "/../") || got == "" {
			t.Errorf("cleanRel(%q) = %q: escapes or empty", rel, got)
		}
	}
}
