// Package meta reads and writes the image metadata that photo workflows care
// about: the EXIF orientation, the embedded ICC colour profile, the raw EXIF
// block and the JPEG Adobe APP14 colour transform.
//
// Go's image encoders drop all metadata. The pipeline uses Read on the input
// to learn the orientation (see Apply) and the colour profile, and EmbedJPEG /
// EmbedPNG to put the profile (and optionally EXIF with the orientation reset
// by ResetOrientation) back into the encoded output bytes.
//
// Everything here is defensive: metadata in the wild is often malformed, so
// malformed metadata is ignored rather than reported, and no input can make
// the parsers panic or loop. Lengths claimed by the input are never trusted
// for allocation: buffers grow with the bytes actually read, and a profile
// or EXIF block is capped at 16 MiB (which also bounds a zlib bomb in a PNG
// iCCP chunk).
package meta

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Info is what Read found. Zero values mean "absent".
type Info struct {
	// Orientation is the EXIF/TIFF orientation 1..8; 0 means absent or an
	// out-of-range value (treat as 1).
	Orientation int
	// ICC is the whole ICC profile: reassembled from multi-segment JPEG APP2
	// "ICC_PROFILE" chunks in sequence order, the decompressed PNG iCCP
	// chunk, the WebP ICCP chunk, TIFF tag 34675, the GIF ICCRGBG1
	// application extension or a BMP V5 embedded profile.
	ICC []byte
	// EXIF is the raw TIFF-structured EXIF block: for JPEG the APP1 payload
	// after "Exif\0\0", the PNG eXIf chunk or the WebP EXIF chunk. It is nil
	// for TIFF files (whose metadata is the file structure itself) and for
	// formats that carry no EXIF.
	EXIF []byte
	// XMP is the XMP packet (JPEG APP1, PNG iTXt XML:com.adobe.xmp, WebP
	// XMP chunk, TIFF tag 700); IPTC the IPTC-NAA records (JPEG APP13
	// Photoshop resource 0x0404, TIFF tag 33723). Nil when absent (the
	// extended XMP of a JPEG's further APP1 segments is not read).
	XMP, IPTC []byte
	// AdobeTransform is the JPEG APP14 Adobe transform byte (0 = RGB/CMYK,
	// 1 = YCbCr, 2 = YCCK), or -1 when there is no Adobe segment (always -1
	// for formats other than JPEG).
	AdobeTransform int
	// DroppedICC is the size of a colour profile larger than MaxICC, which
	// Read dropped (ICC is then nil); at least MaxICC+1 when only its lower
	// bound is known (a PNG profile is inflated no further). 0: none dropped.
	DroppedICC int64
}

// MaxICC is the largest colour profile Read keeps: 4 MiB. Real profiles
// are a few KiB (sRGB: 3 KiB; the largest printer and camera profiles with
// big lookup tables about 1-2 MiB); every output carries a copy, so a
// crafted 15 MiB profile would cost 15 MB a rendition. A larger one is
// dropped, never failing the image: the pixels come out without it.
const MaxICC = 4 << 20

// Limits that keep hostile input from causing large allocations.
const (
	// maxICC bounds an ICC profile (after decompression for PNG). The
	// largest a JPEG can carry is 255*65519 bytes, just under 16 MiB.
	maxICC = 16 << 20
	// maxEXIF bounds an EXIF block from PNG/WebP (JPEG is limited to 64 KiB
	// by its segment length field anyway).
	maxEXIF = 16 << 20
)

// Read parses only the headers/metadata of an image of the given format
// ("jpeg", "png", "webp", "tiff", "gif" or "bmp"; "jpg", "tif" and
// "webp-anim" are accepted as aliases, case is ignored) from r, and stops reading at the
// image data.
//
// For JPEG it stops right after the SOS marker, for PNG right after the
// header of the first IDAT chunk, for GIF at the first image descriptor; it
// never reads a JPEG or PNG to the end. For WebP the EXIF chunk follows the
// bitstream, so when the VP8X header announces EXIF the bitstream is skipped
// (with Seek when r is an io.Seeker). TIFF and BMP keep their metadata at
// arbitrary offsets: if r is an io.ReaderAt (such as *os.File or
// *bytes.Reader) only the needed bytes are read, otherwise the stream is
// buffered up to the furthest offset needed.
//
// Malformed or truncated metadata is ignored, never an error (and never a
// panic): Read returns whatever it found before the problem. Only I/O errors
// from r other than io.EOF / io.ErrUnexpectedEOF are returned, together with
// an error for an unknown format name.
func Read(r io.Reader, format string) (Info, error) {
	info := Info{AdobeTransform: -1}
	var err error
	switch strings.ToLower(format) {
	case "jpeg", "jpg":
		err = readJPEG(r, &info)
	case "png":
		err = readPNG(r, &info)
	case "webp", "webp-anim":
		err = readWebP(r, &info)
	case "tiff", "tif":
		err = readTIFF(r, &info)
	case "gif":
		err = readGIF(r, &info)
	case "bmp":
		err = readBMP(r, &info)
	case "heif", "heic", "avif":
		err = readHEIF(r, &info)
	default:
		return info, fmt.Errorf("meta: unknown image format %q", format)
	}
	if isEOF(err) || errors.Is(err, errMalformed) {
		err = nil
	}
	if len(info.ICC) > MaxICC {
		info.DroppedICC, info.ICC = int64(len(info.ICC)), nil
	}
	return info, err
}

// errMalformed stops a parser early; Read turns it into a nil error.
var errMalformed = errors.New("meta: malformed")

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readN reads exactly n bytes from r. The buffer grows with the data that
// actually arrives, so a bogus huge n on a short stream costs no more memory
// than the stream holds.
func readN(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return nil, errMalformed
	}
	if n <= 64<<10 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	b := make([]byte, 0, 64<<10)
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		want := min(int64(cap(b)), n)
		m, err := r.Read(b[len(b):want])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if int64(len(b)) == n {
				break
			}
			return b, err
		}
	}
	return b, nil
}

// skip discards n bytes of r, seeking when r supports it.
func skip(r io.Reader, n int64) error {
	if n < 0 {
		return errMalformed
	}
	if n == 0 {
		return nil
	}
	if s, ok := r.(io.Seeker); ok {
		// Seeking past the end is allowed by io.Seeker and would hide
		// truncation, which is fine: the next read reports EOF.
		if _, err := s.Seek(n, io.SeekCurrent); err == nil {
			return nil
		}
	}
	m, err := io.CopyN(io.Discard, r, n)
	if err == io.EOF && m < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}
