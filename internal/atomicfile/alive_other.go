//go:build !unix

package atomicfile

import "os"

// processAlive reports whether a process with this id exists. On Windows
// FindProcess fails for a process that is gone.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
