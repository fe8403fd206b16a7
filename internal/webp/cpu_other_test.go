//go:build !unix

package webp

import "time"

func processCPU() time.Duration { return 0 }
