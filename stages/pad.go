package stages

import (
	"image"
	"image/draw"
)

// pad returns img placed at t.Place on a t.Width x t.Height canvas of
// t.Output.Background (transparent pixels of img show the background).
// Deep images keep 16 bits a channel. Memory: the canvas.
func pad(img image.Image, t Target) image.Image {
	bg, _ := parseColor(t.Output.Background) // validated with the config
	box := image.Rect(0, 0, t.Width, t.Height)
	var canvas draw.Image = image.NewRGBA(box)
	if isDeep(img) {
		canvas = image.NewRGBA64(box)
	}
	draw.Draw(canvas, box, image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(canvas, t.Place, img, img.Bounds().Min, draw.Over)
	return canvas
}
