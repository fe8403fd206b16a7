package main

import (
	"fmt"
	"strconv"
	"strings"
)

// focalFlag is --focal X,Y: sets a stages.Output's Focal.
type focalFlag struct{ p **[2]float64 }

func (f focalFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.FormatFloat((**f.p)[0], 'g', -1, 64) + "," + strconv.FormatFloat((**f.p)[1], 'g', -1, 64)
}

func (f focalFlag) Set(s string) error {
	x, y, ok := strings.Cut(s, ",")
	fx, err1 := strconv.ParseFloat(strings.TrimSpace(x), 64)
	fy, err2 := strconv.ParseFloat(strings.TrimSpace(y), 64)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("want X,Y (fractions of the image, e.g. 0.3,0.4), got %q", s)
	}
	*f.p = &[2]float64{fx, fy}
	return nil
}

func (focalFlag) Type() string { return "X,Y" }
