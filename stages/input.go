package stages

import (
	"path/filepath"
	"strings"
)

// InputRule is the one rule every source (a folder scan, the watcher, an
// fs.FS walk) follows to decide which of the files it finds are inputs. A
// file the user names explicitly (a path on the command line) is always an
// input, whatever its name: the rule is for files found inside folders.
//
// It works in two steps: Skip, from the name alone, before the file is
// opened; then Accept, from the file's first bytes.
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

// Skip reports whether a file or folder named name (a base name), found
// inside a folder, is left alone without being opened: hidden names
// (unless Hidden; AppleDouble "._" files always), temporary and partial
// names (photo.jpg.part, x.crdownload, x.tmp, x~, .x.swp), names matching
// Ignore, and files whose extension says they are something else
// (notes.txt, photo.jpg.bak, IMG_1.xmp, camera RAW files such as IMG_1.CR2,
// whose bytes look like TIFF). Files named like images and files without
// an extension are not skipped: Accept decides from their bytes.
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
	return !dir && filepath.Ext(name) != "" && !HasImageExt(name)
}

// Accept sniffs the first bytes of a file that Skip let through (head: at
// least the first 32 bytes, or the whole file if shorter) and reports its
// format, and whether it is an input: an image by its bytes, or a file
// named like an image whose bytes are not one (so the decode stage reports
// it as broken instead of it vanishing without a word). A file with no
// extension that is not an image is not an input.
func Accept(name string, head []byte) (format string, ok bool) {
	format = Sniff(head)
	return format, format != "" || HasImageExt(name)
}

// HeadLen is how many leading bytes Accept needs.
const HeadLen = sniffLen
