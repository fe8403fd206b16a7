package webp

// qualityToIndex maps Quality 1-100 to VP8's quantiser index 0-127.
//
// The anchors make our files about the size of cwebp -m 4's at the same
// -q: on five images (four photos scaled to 800 wide, gray.jpg) the index
// giving cwebp's size at q 30, 50, 65, 80, 90 and 95 was 52-58, 36-40,
// 30-34, 18-22, 8-10 and 2-4. Below 30 the line runs on to 127 at
// quality 1.
func qualityToIndex(q int) int {
	anchors := [...][2]int{{1, 127}, {30, 54}, {50, 39}, {65, 31}, {80, 20}, {90, 9}, {95, 4}, {100, 0}}
	for i := 1; i < len(anchors); i++ {
		a, b := anchors[i-1], anchors[i]
		if q <= b[0] {
			return a[1] + (q-a[0])*(b[1]-a[1])/(b[0]-a[0])
		}
	}
	return 0
}

// filterLevel is the loop filter level (0-63) used with quantiser index
// qi. The filter only changes what the decoder shows, never what the
// encoder predicts from, so it costs no bits beyond the header. On five
// images at indices 9, 20 and 39, levels 0 to qi: PSNR peaked at qi/2 to
// qi on four, by 0.1-1.2 dB over no filter, and at qi/4 to qi/3 on the
// most detailed photo (camera_Nikon_P6000), where qi/2 loses 0.05 dB to
// the best. qi/2 it is; choosing per image would need the filter in the
// encoder to measure.
func filterLevel(qi int) int {
	return min(qi/2, 63)
}
