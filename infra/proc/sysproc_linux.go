//go:build linux

package proc

import "syscall"

// SysProcAttr puts a child in its own process group (so it can be signalled
// as a group) and has the kernel SIGKILL it when the thread that started it
// exits; Start keeps that thread alive as long as the child.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
