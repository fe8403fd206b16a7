package stages

import (
	"path/filepath"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
)

// InputRule is the rule every source (folder scan, watch, fs.FS) follows
// for files found inside folders: Skip by name before opening, then
// Accept by the first bytes. A file the user names is always an input.
type InputRule struct {
	// Hidden includes dotfiles and dot-folders, which are skipped by default
	// (".DS_Store", "._IMG_0001.JPG" and editor temp files are never photos).
	Hidden bool
	// Ignore lists extra base-name glob patterns (filepath.Match syntax) of
	// files and folders to leave alone, e.g. "*_original" or "Thumbs".
	Ignore []string
}

// partialSuffixes end the names of temporary and partial files (lower
// case): browser downloads, rsync and curl partials, editor swap and backup
// files. Folders so named are left alone too.
var partialSuffixes = []string{".part", ".crdownload", ".tmp", "~", ".swp"}

// Skip reports whether a file or folder of this base name is left alone:
// hidden (unless Hidden; "._" files always), temporary or partial (.part,
// .crdownload, .tmp, ~, .swp), matching Ignore, or a file whose extension
// says it is something else (photo.jpg.bak, IMG_1.xmp, RAW files such as
// IMG_1.CR2, whose bytes look like TIFF).
func (r InputRule) Skip(name string, dir bool) bool {
	if strings.HasPrefix(name, "._") || strings.HasPrefix(name, ".") && !r.Hidden {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range partialSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	for _, pat := range r.Ignore {
		if ok, _ := filepath.Match(pat, name); ok {
			return true
		}
	}
	return !dir && filepath.Ext(name) != "" && !hasImageExt(name)
}

// Accept reports the format of a file's first 32 bytes, and whether it is
// an input: an image, or named like one (so that a broken one is reported).
func Accept(name string, head []byte) (formatName string, ok bool) {
	if f := format.Sniff(head); f != nil {
		return f.Name, true
	}
	return "", hasImageExt(name)
}
