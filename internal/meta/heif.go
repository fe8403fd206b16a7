package meta

import (
	"encoding/binary"
	"io"
)

// heifMetaLimit bounds how much of a HEIF/AVIF file readHEIF looks at: the
// meta box comes first in files written by cameras and encoders, and holds
// the colour profile; the pixels (mdat) follow.
const heifMetaLimit = 8 << 20

// readHEIF finds the ICC profile of a HEIF/HEIC or AVIF file: a 'colr' box
// of type 'prof' (or 'rICC') among the item properties,
// meta > iprp > ipco > colr. Orientation is not reported: HEIF rotates with
// 'irot'/'imir' properties, which the decoder applies itself.
func readHEIF(r io.Reader, info *Info) error {
	data, err := io.ReadAll(io.LimitReader(r, heifMetaLimit))
	if err != nil {
		return err
	}
	info.ICC = findColr(data, 0)
	return nil
}

// findColr walks the boxes in data (depth counts nesting, against hostile
// files) and returns the first ICC profile found, or nil.
func findColr(data []byte, depth int) []byte {
	if depth > 4 {
		return nil
	}
	for len(data) >= 8 {
		size := int64(binary.BigEndian.Uint32(data))
		typ := string(data[4:8])
		hdr := int64(8)
		switch size {
		case 0: // to the end
			size = int64(len(data))
		case 1: // 64-bit size
			if len(data) < 16 {
				return nil
			}
			size, hdr = int64(binary.BigEndian.Uint64(data[8:])), 16
		}
		if size < hdr || size > int64(len(data)) {
			return nil
		}
		body := data[hdr:size]
		switch typ {
		case "meta": // a full box: version and flags first
			if len(body) >= 4 {
				if icc := findColr(body[4:], depth+1); icc != nil {
					return icc
				}
			}
		case "iprp", "ipco":
			if icc := findColr(body, depth+1); icc != nil {
				return icc
			}
		case "colr":
			if len(body) > 4 && (string(body[:4]) == "prof" || string(body[:4]) == "rICC") {
				return append([]byte(nil), body[4:]...)
			}
		}
		data = data[size:]
	}
	return nil
}
