//go:build unix && !linux

package dynamolocal

import "syscall"

// sysProcAttr puts the JVM in its own process group. Pdeathsig exists only on
// Linux: elsewhere the JVM outlives a parent that is killed without Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
