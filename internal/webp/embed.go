package webp

import (
	"encoding/binary"
	"errors"
)

// errNotWebP: Embed was given something that is not a WebP file.
var errNotWebP = errors.New("webp: not a WebP file")

// Embed returns file (a WebP, still or animated, as Encode or EncodeAll
// writes) with icc and exif
// (either may be nil) in ICCP and EXIF chunks of an extended (VP8X)
// container, replacing any the file had, and keeps its XMP chunk. It
// copies the file once.
func Embed(file, icc, exif []byte) ([]byte, error) {
	return embed(file, container{icc: icc, exif: exif}, false)
}

// EmbedXMP returns file (a WebP, still or animated) with xmp in an XMP chunk, keeping
// its ICCP and EXIF chunks. WebP has no place for IPTC: iptc is ignored.
func EmbedXMP(file, xmp, _ []byte) ([]byte, error) {
	if len(xmp) == 0 {
		return file, nil
	}
	return embed(file, container{xmp: xmp}, true)
}

// embed lays file's image out again with c's metadata; keep: the file's
// own ICCP and EXIF chunks are kept.
func embed(file []byte, c container, keep bool) ([]byte, error) {
	if len(file) < 12 || string(file[0:4]) != "RIFF" || string(file[8:12]) != "WEBP" {
		return nil, errNotWebP
	}
	var vp8x []byte
	for rest := file[12:]; len(rest) >= 8; {
		size := int(binary.LittleEndian.Uint32(rest[4:]))
		if size > len(rest)-8 {
			return nil, errNotWebP
		}
		fourCC, data := string(rest[:4]), rest[8:8+size]
		rest = rest[min(8+size+size&1, len(rest)):]
		switch fourCC {
		case "VP8X":
			vp8x = data
		case "ALPH":
			c.alph, c.alpha = data, true
		case "VP8 ", "VP8L":
			c.fourCC, c.image = fourCC, data
		case "ANIM":
			c.anim = data
		case "ANMF":
			c.frames = append(c.frames, data)
		case "ICCP":
			if keep {
				c.icc = data
			}
		case "EXIF":
			if keep {
				c.exif = data
			}
		case "XMP ":
			if c.xmp == nil {
				c.xmp = data
			}
		}
	}
	if (c.anim == nil) != (c.frames == nil) {
		return nil, errNotWebP
	}
	switch {
	case len(vp8x) >= 10:
		c.w = 1 + (int(vp8x[4]) | int(vp8x[5])<<8 | int(vp8x[6])<<16)
		c.h = 1 + (int(vp8x[7]) | int(vp8x[8])<<8 | int(vp8x[9])<<16)
		c.alpha = c.alpha || vp8x[0]&0x10 != 0
	case c.fourCC == "VP8 " && len(c.image) >= 10:
		c.w = int(binary.LittleEndian.Uint16(c.image[6:]) & 0x3fff)
		c.h = int(binary.LittleEndian.Uint16(c.image[8:]) & 0x3fff)
	case c.fourCC == "VP8L" && len(c.image) >= 5:
		v := binary.LittleEndian.Uint32(c.image[1:])
		c.w, c.h = 1+int(v&0x3fff), 1+int(v>>14&0x3fff)
		c.alpha = v>>28&1 != 0
	default:
		return nil, errNotWebP
	}
	return c.bytes(), nil
}
