//go:build unix

package cases

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this id runs on this host:
// signal 0 checks without sending anything. A process of another user
// (EPERM) lives.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
