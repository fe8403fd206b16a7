package webp

import (
	"bytes"
	"errors"
	"testing"
)

// Embed refuses what is not a still WebP, and never panics on a broken
// one.
func TestEmbedBroken(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, noise(8, 8, 1), nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"not RIFF", append([]byte("RIFX"), good[4:]...)},
		{"not WEBP", append(append([]byte{}, good[:8]...), append([]byte("WAVE"), good[12:]...)...)},
		{"no image chunk", []byte("RIFF\x04\x00\x00\x00WEBP")},
		{"chunk past the end", append(append([]byte{}, good[:16]...), 0xff, 0xff, 0, 0)},
		{"truncated frame", good[:24]},
		{"animated", []byte("RIFF\x1e\x00\x00\x00WEBPANIM\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00ANMF\x00\x00\x00\x00")},
	} {
		if _, err := Embed(c.file, []byte("icc"), nil); !errors.Is(err, errNotWebP) {
			t.Errorf("%s: error %v, want %v", c.name, err, errNotWebP)
		}
	}
}
