package webp_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	xwebp "golang.org/x/image/webp"

	"github.com/imgpipe/imgpipe/internal/webp"
)

func ExampleEncode() {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := webp.Encode(&buf, img, &webp.Options{Quality: 80}); err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := xwebp.DecodeConfig(&buf)
	fmt.Println(cfg.Width, cfg.Height, err)
	// Output: 64 48 <nil>
}
