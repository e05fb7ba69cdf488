//go:build linux

package dynamolocal

import "syscall"

// sysProcAttr puts the JVM in its own process group (so Stop can signal the
// whole group) and asks the kernel to kill it when the thread that started it
// exits. Start runs the JVM from a goroutine locked to its OS thread that lives
// as long as the JVM, so the signal fires exactly when the parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
