package stages_test

import (
	"fmt"

	"github.com/imgpipe/imgpipe/stages"
)

// Pad gives exactly the box: a 4000x3000 photo fitted inside 800x800 sits
// at Place, centred, with transparent bars in PNG (white in JPEG).
func ExampleOutput_Target_pad() {
	o := stages.Output{Width: 800, Height: 800, Fit: "pad", Format: "png"}
	t := o.Target("photo.jpg", "jpeg", 4000, 3000)
	fmt.Println(t.Width, t.Height, t.Place, t.Output.Background, t.Name)
	// Output: 800 800 (0,100)-(800,700) transparent photo.png
}

// A focal point, per image from the library, centres a fill crop on it as
// far as the image allows: here a face at 70% of a panorama's width.
func ExampleOutput_Target_focal() {
	o := stages.Output{Width: 400, Height: 400, Fit: "fill", Focal: &[2]float64{0.7, 0.5}}
	t := o.Target("pano.jpg", "jpeg", 6000, 3000)
	fmt.Println(t.Width, t.Height, t.Crop)
	// Output: 400 400 (2700,0)-(5700,3000)
}
