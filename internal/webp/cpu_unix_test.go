//go:build unix

package webp

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far: benchmarks
// report it beside wall time, which a loaded machine inflates.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
