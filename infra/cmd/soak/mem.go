package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	infraproc "github.com/labchain/appointments/infra/proc"
)

// proc is one process's kind and resident memory.
type proc struct {
	kind   string // see kindOf
	rie    bool   // an aws-lambda-rie process: one per function instance
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
				out[pid] = read(pid, self)
				break
			}
		}
	}
	return out
}

// kindOf names what a process is: the gateway (this process: the API
// gateway, the event source pollers and the load driver), DynamoDB Local's
// JVM, the SQS emulator, Mailpit, or the pool of one function (its
// emulators and bootstraps).
func read(pid, self int) proc {
	dir := "/proc/" + strconv.Itoa(pid)
	comm, _ := os.ReadFile(dir + "/comm")
	name := strings.TrimSpace(string(comm))
	p := proc{kind: name}
	switch {
	case pid == self:
		p.kind = "gateway (this process)"
	case name == "java":
		p.kind = "DynamoDB Local (JVM)"
	case name == "node":
		p.kind = "SQS emulator (node)"
	case name == "mailpit":
		p.kind = "Mailpit"
	case name == "bootstrap":
		if exe, err := os.Readlink(dir + "/exe"); err == nil {
			p.kind = "pool " + functionOf(exe)
		}
	case name == "aws-lambda-rie":
		p.rie = true
		// Its last argument is the bootstrap it runs: build/local/<fn>/bootstrap.
		if cmd, err := os.ReadFile(dir + "/cmdline"); err == nil {
			args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
			p.kind = "pool " + functionOf(args[len(args)-1])
		}
	}
	status, _ := os.ReadFile(dir + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			p.rssMiB = kb / 1024
		}
	}
	return p
}

// functionOf returns <fn> of a path .../<fn>/bootstrap.
func functionOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2]
	}
	return path
}

// usage is the memory of one kind of process in a snapshot.
type usage struct {
	procs     int
	instances int // aws-lambda-rie processes (pools only)
	rssMiB    float64
}

// perInstance is a pool's RSS per instance (emulator + bootstrap).
func (u usage) perInstance() float64 {
	if u.instances == 0 {
		return 0
	}
	return u.rssMiB / float64(u.instances)
}

func byKind(m map[int]proc) map[string]usage {
	out := map[string]usage{}
	for _, p := range m {
		u := out[p.kind]
		u.procs++
		u.rssMiB += p.rssMiB
		if p.rie {
			u.instances++
		}
		out[p.kind] = u
	}
	return out
}

func total(m map[int]proc) float64 {
	t := 0.0
	for _, p := range m {
		t += p.rssMiB
	}
	return t
}

// snapshot is the memory of every process at one moment of the run.
type snapshot struct {
	label string
	procs map[int]proc
}

// printMemory prints one line per kind of process with its processes and
// RSS in each snapshot, a pool's RSS per instance, and the totals.
func printMemory(snaps []snapshot) {
	kinds := map[string]bool{}
	per := make([]map[string]usage, len(snaps))
	for i, s := range snaps {
		per[i] = byKind(s.procs)
		for k := range per[i] {
			kinds[k] = true
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := strings.HasPrefix(names[i], "pool "), strings.HasPrefix(names[j], "pool ")
		if pi != pj {
			return !pi
		}
		return names[i] < names[j]
	})
	head := fmt.Sprintf("  %-34s", "RSS MiB (processes)")
	for _, s := range snaps {
		head += fmt.Sprintf(" %22s", s.label)
	}
	fmt.Println(head)
	for _, k := range names {
		line := fmt.Sprintf("  %-34s", k)
		for i := range snaps {
			u := per[i][k]
			cell := fmt.Sprintf("%.0f (%d)", u.rssMiB, u.procs)
			if u.instances > 0 {
				cell = fmt.Sprintf("%.0f (%d inst, %.1f/inst)", u.rssMiB, u.instances, u.perInstance())
			}
			line += fmt.Sprintf(" %22s", cell)
		}
		fmt.Println(line)
	}
	line := fmt.Sprintf("  %-34s", "total")
	for _, s := range snaps {
		line += fmt.Sprintf(" %22s", fmt.Sprintf("%.0f (%d)", total(s.procs), len(s.procs)))
	}
	fmt.Println(line)
	line = fmt.Sprintf("  %-34s", "function pools, RSS per instance")
	for i := range snaps {
		var rss float64
		var n int
		for k, u := range per[i] {
			if strings.HasPrefix(k, "pool ") {
				rss += u.rssMiB
				n += u.instances
			}
		}
		cell := "-"
		if n > 0 {
			cell = fmt.Sprintf("%.1f (%d inst)", rss/float64(n), n)
		}
		line += fmt.Sprintf(" %22s", cell)
	}
	fmt.Println(line)
}

func freePort() int {
	p, err := infraproc.FreePort()
	if err != nil {
		return 0
	}
	return p
}

// jvmHeapAfterGC runs a full GC in DynamoDB Local's JVM (jcmd GC.run) and
// returns its heap in use afterwards (jstat -gc: survivor, eden and old
// used), in MiB: unlike the JVM's RSS, which keeps the heap it grew to and
// holds the in-memory SQLite database (native memory, growing with every
// item), it shows whether Java objects pile up. ok is false when the JDK
// tools are missing.
func jvmHeapAfterGC(procs map[int]proc) (mib float64, ok bool) {
	pid := 0
	for p, pr := range procs {
		if pr.kind == "DynamoDB Local (JVM)" {
			pid = p
		}
	}
	if pid == 0 {
		return 0, false
	}
	if exec.Command("jcmd", strconv.Itoa(pid), "GC.run").Run() != nil {
		return 0, false
	}
	out, err := exec.Command("jstat", "-gc", strconv.Itoa(pid)).Output()
	if err != nil {
		return 0, false
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return 0, false
	}
	names, vals := strings.Fields(lines[0]), strings.Fields(lines[1])
	kb := 0.0
	for i, n := range names {
		if i < len(vals) && (n == "S0U" || n == "S1U" || n == "EU" || n == "OU") {
			v, _ := strconv.ParseFloat(vals[i], 64)
			kb += v
		}
	}
	return kb / 1024, true
}
