package main

import (
	"os"
	"strconv"
	"strings"

	infraproc "github.com/labchain/appointments/infra/proc"
)

// proc is one process's name and resident memory.
type proc struct {
	name   string
	rssMiB float64
}

// memory returns this process and every descendant (DynamoDB Local's JVM,
// the SQS emulator, Mailpit, the runtime emulators and the function
// bootstraps they run), read from /proc; bootstraps run in their own process
// group but stay our descendants.
func memory() map[int]proc {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[pid] = pp
	}
	self := os.Getpid()
	out := map[int]proc{}
	for pid := range parent {
		for p := pid; p > 1; p = parent[p] {
			if p == self {
				out[pid] = read(pid)
				break
			}
		}
	}
	return out
}

func read(pid int) proc {
	dir := "/proc/" + strconv.Itoa(pid)
	comm, _ := os.ReadFile(dir + "/comm")
	name := strings.TrimSpace(string(comm))
	if name == "bootstrap" { // name the function: build/<fn>/bootstrap
		if exe, err := os.Readlink(dir + "/exe"); err == nil {
			parts := strings.Split(exe, "/")
			if len(parts) >= 2 {
				name = "fn:" + parts[len(parts)-2]
			}
		}
	}
	status, _ := os.ReadFile(dir + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return proc{name: name, rssMiB: kb / 1024}
		}
	}
	return proc{name: name}
}

func total(m map[int]proc) float64 {
	t := 0.0
	for _, p := range m {
		t += p.rssMiB
	}
	return t
}

func freePort() int {
	p, err := infraproc.FreePort()
	if err != nil {
		return 0
	}
	return p
}
