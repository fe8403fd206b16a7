package stages

import "github.com/imgpipe/imgpipe/internal/meta"

// KeepMetadata values (Output.KeepMetadata). The config file's old
// booleans mean all (true) and none (false).
const (
	metaNone      = "none"      // default: EXIF, XMP and IPTC stripped (GPS!)
	metaCopyright = "copyright" // only who made it and the rights
	metaAll       = "all"       // EXIF (orientation reset), XMP and IPTC
)

// metadataPolicy turns a KeepMetadata setting into none, copyright or all
// ("" and false: none, true: all); other values are returned as they are,
// for Validate to refuse.
func metadataPolicy(s string) string {
	switch s {
	case "", "false":
		return metaNone
	case "true":
		return metaAll
	}
	return s
}

// metadataFor returns the EXIF, XMP and IPTC that an output of t carries
// from an input with metadata m: nothing (none), the rights fields in new
// minimal blocks (copyright: EXIF Artist and Copyright, IPTC by-line,
// credit and copyright notice, XMP dc:creator, dc:rights, xmpRights), or
// all of it with the orientation reset to 1, the pixels being upright.
func metadataFor(t Target, m meta.Info) (exif, xmp, iptc []byte) {
	switch metadataPolicy(t.Output.KeepMetadata) {
	case metaAll:
		if m.EXIF != nil {
			exif = meta.ResetOrientation(m.EXIF)
		}
		if m.XMP != nil {
			xmp = meta.XMPResetOrientation(m.XMP)
		}
		return exif, xmp, m.IPTC
	case metaCopyright:
		return meta.CopyrightEXIF(m.EXIF), meta.CopyrightXMP(m.XMP), meta.CopyrightIPTC(m.IPTC)
	}
	return nil, nil, nil
}
