package localdev

import (
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/proc"
)

// fakeInstance is a pool entry whose "emulator" is a sleep process: enough
// for the pool's bookkeeping and stop, without aws-lambda-rie.
func fakeInstance(t *testing.T) *instance {
	t.Helper()
	p, err := proc.Start(exec.Command("sleep", "60"), nil)
	if err != nil {
		t.Fatal(err)
	}
	inst := &instance{out: newPrefixWriter(io.Discard, "fake"), label: "fake", pid: p.Pid(), proc: p, client: &http.Client{}}
	t.Cleanup(func() { p.Stop(time.Second) })
	return inst
}

// An instance idle past the idle timeout is stopped and leaves the pool; a
// busy one stays however long it runs.
func TestPoolReapsIdleInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	f := newFunction("EchoFunction", "echo", "/nonexistent", nil, time.Second, 4, "/nonexistent", io.Discard)
	f.idleAfter = 200 * time.Millisecond
	defer f.close()
	idle, busy := fakeInstance(t), fakeInstance(t)
	f.mu.Lock()
	f.live[idle], f.live[busy] = struct{}{}, struct{}{}
	idle.busy, busy.busy = true, true
	f.startReaperLocked()
	f.mu.Unlock()
	f.release(idle, true) // idle from now on; busy stays busy

	deadline := time.Now().Add(10 * time.Second)
	for f.size() != 1 || !idle.proc.Exited() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %d instances, idle one exited %v (idle timeout 200 ms)", f.size(), idle.proc.Exited())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if busy.proc.Exited() {
		t.Fatal("the busy instance was stopped")
	}
	f.mu.Lock()
	_, kept := f.live[busy]
	f.mu.Unlock()
	if !kept {
		t.Fatal("the busy instance left the pool")
	}
}
