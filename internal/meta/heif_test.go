package meta

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func box(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, typ...), b...)
}

func TestReadHEIFProfile(t *testing.T) {
	icc := make([]byte, 300)
	copy(icc[36:], "acsp")
	file := bytes.Join([][]byte{
		box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic")),
		box("meta", []byte{0, 0, 0, 0}, box("hdlr", make([]byte, 20)),
			box("iprp", box("ipco", box("ispe", make([]byte, 12)), box("colr", []byte("prof"), icc)))),
		box("mdat", make([]byte, 100)),
	}, nil)
	info, err := Read(bytes.NewReader(file), "heif")
	if err != nil || !bytes.Equal(info.ICC, icc) {
		t.Errorf("ICC %d bytes, err %v; want the 300-byte profile", len(info.ICC), err)
	}
	// nclx colour (no profile), truncated and looping sizes: no profile, no panic.
	for _, bad := range [][]byte{
		box("meta", []byte{0, 0, 0, 0}, box("iprp", box("ipco", box("colr", []byte("nclx"), make([]byte, 7))))),
		file[:60],
		{0, 0, 0, 4, 'm', 'e', 't', 'a'},
		{0, 0, 0, 1, 'm', 'e', 't', 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if info, err := Read(bytes.NewReader(bad), "heif"); err != nil || info.ICC != nil {
			t.Errorf("%x: ICC %d bytes, err %v", bad, len(info.ICC), err)
		}
	}
}

// An iPhone HEIC carries a Display P3 profile. The test file is the
// corpus's iPhone11_IMG_5195.HEIC cut after its meta box (no pixels).
func TestReadHEIFiPhone(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "iphone11_heic_header_only.heic"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := Read(bytes.NewReader(data), "heif")
	if len(info.ICC) != 548 || string(info.ICC[36:40]) != "acsp" || string(info.ICC[16:20]) != "RGB " {
		t.Fatalf("ICC profile %d bytes, want the 548-byte RGB profile", len(info.ICC))
	}
}
