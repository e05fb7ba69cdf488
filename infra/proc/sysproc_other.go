//go:build unix && !linux

package proc

import "syscall"

// SysProcAttr puts a child in its own process group. Pdeathsig exists only on
// Linux: elsewhere a child outlives a parent that is killed without Stop.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
