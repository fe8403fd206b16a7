package webp

// qualityToIndex maps Quality 1-100 to VP8's quantiser index 0-127.
func qualityToIndex(q int) int {
	return min(max((100-q)*127/99, 0), 127)
}

// filterLevel is the loop filter level used with quantiser index qi.
func filterLevel(qi int) int {
	return 0
}
