package localdev

import (
	"fmt"
	"sort"
	"time"
)

// DefaultIdleTimeout is how long an emulator instance may stay idle before
// the platform stops it when Options.IdleTimeout is zero. Lambda reclaims
// idle execution environments after minutes too; without it a pool grown by
// one burst keeps its processes (and their memory) for the platform's life.
const DefaultIdleTimeout = 10 * time.Minute

// startReaperLocked starts the goroutine that stops idle instances, once.
// f.mu is held.
func (f *function) startReaperLocked() {
	if f.idleAfter <= 0 || f.reaping {
		return
	}
	f.reaping = true
	every := max(f.idleAfter/4, 50*time.Millisecond)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-f.done:
				return
			case now := <-t.C:
				f.reapIdle(now)
			}
		}
	}()
}

// reapIdle stops the instances idle since before now - idleAfter.
func (f *function) reapIdle(now time.Time) {
	f.mu.Lock()
	var stale []*instance
	keep := f.idle[:0]
	for _, inst := range f.idle {
		if now.Sub(inst.idleSince) >= f.idleAfter {
			stale = append(stale, inst)
			delete(f.live, inst)
			continue
		}
		keep = append(keep, inst)
	}
	f.idle = keep
	if len(stale) > 0 {
		f.notifyLocked()
	}
	f.mu.Unlock()
	for _, inst := range stale {
		inst.stop()
	}
}

// Instance is one running execution environment of a function: an
// aws-lambda-rie process and the function process (bootstrap) it runs.
type Instance struct {
	// PID is the aws-lambda-rie process.
	PID int
	// Runtime lists the emulator's live descendants: the function's
	// bootstrap (in a process group of its own).
	Runtime []int
	// Busy is true while an invocation runs on the instance.
	Busy bool
}

// Instances returns the running instances of a function (logical id or
// folder name), ordered by PID. Crash tests kill them (kill -9 of the
// bootstrap and the emulator); the pool then starts a new one, as Lambda
// replaces a crashed execution environment.
func (p *Platform) Instances(function string) ([]Instance, error) {
	f := p.functions[function]
	if f == nil {
		for _, g := range p.functions {
			if g.name == function {
				f = g
			}
		}
	}
	if f == nil {
		return nil, fmt.Errorf("localdev: no running function %q", function)
	}
	f.mu.Lock()
	var out []Instance
	for inst := range f.live {
		out = append(out, Instance{PID: inst.pid, Busy: inst.busy})
	}
	f.mu.Unlock()
	for i := range out {
		out[i].Runtime = descendants(out[i].PID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// FunctionIDs returns the logical ids of the functions the platform runs,
// sorted.
func (p *Platform) FunctionIDs() []string {
	out := make([]string, 0, len(p.functions))
	for id := range p.functions {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
