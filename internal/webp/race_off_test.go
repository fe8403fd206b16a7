//go:build !race

package webp

const raceEnabled = false
