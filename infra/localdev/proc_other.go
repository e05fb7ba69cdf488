//go:build unix && !linux

package localdev

import "syscall"

// descendants is not available without /proc: the function bootstrap exits
// by itself when its aws-lambda-rie goes away (its Runtime API call fails).
func descendants(pid int) []int { return nil }

// alive reports whether pid exists (signal 0 succeeds).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// exists reports whether pid is in the process table.
func exists(pid int) bool { return syscall.Kill(pid, 0) == nil }
