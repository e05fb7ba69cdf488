package localdev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/labchain/appointments/infra/proc"
)

// invocationPath is the Lambda Invoke API path aws-lambda-rie serves.
const invocationPath = "/2015-03-31/functions/function/invocations"

var errClosed = errors.New("localdev: platform closed")

// function is one function of the template at run time: its built bootstrap,
// its environment, and a pool of aws-lambda-rie processes. One emulator serves
// one invocation at a time, as one Lambda execution environment does, so the
// pool grows on demand up to max instances (Lambda's scaling, with max as the
// function's concurrency limit); a request that finds every instance busy at
// the limit waits for one to become free. An instance idle for longer than
// idle (when positive) is stopped, as Lambda reclaims idle execution
// environments, so a pool grown by a burst shrinks back.
type function struct {
	id        string // logical id
	name      string // folder name under functions/
	bootstrap string
	env       []string
	timeout   time.Duration
	max       int
	idleAfter time.Duration // stop instances idle this long; 0: never
	riePath   string
	output    io.Writer // function and emulator output (prefixed lines)
	// nice is the scheduling niceness of the emulator and its bootstrap:
	// functions only event sources and schedules invoke run below the API's
	// (see backgroundNice).
	nice int

	mu       sync.Mutex
	idle     []*instance
	live     map[*instance]struct{}
	starting int
	seq      int
	changed  chan struct{} // closed and replaced when an instance frees up or goes away
	closed   bool
	reaping  bool          // a reaper goroutine runs (reap.go)
	done     chan struct{} // closed by close: stops the reaper
}

func newFunction(id, name, bootstrap string, env []string, timeout time.Duration, max int, riePath string, output io.Writer) *function {
	return &function{
		id: id, name: name, bootstrap: bootstrap, env: env, timeout: timeout, max: max,
		riePath: riePath, output: output,
		live:    map[*instance]struct{}{},
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// invocation is the raw answer of the Invoke API.
type invocation struct {
	status int
	body   []byte
}

// invoke runs one invocation on a free instance (starting one if allowed).
func (f *function) invoke(ctx context.Context, payload []byte) (invocation, error) {
	inst, err := f.acquire(ctx)
	if err != nil {
		return invocation{}, err
	}
	res, err := inst.invoke(payload, f.timeout)
	f.release(inst, err == nil)
	return res, err
}

func (f *function) acquire(ctx context.Context) (*instance, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, errClosed
		}
		if n := len(f.idle); n > 0 {
			inst := f.idle[n-1]
			f.idle = f.idle[:n-1]
			inst.busy = true
			f.mu.Unlock()
			if inst.exited() {
				f.release(inst, false)
				continue
			}
			return inst, nil
		}
		if len(f.live)+f.starting < f.max {
			f.starting++
			f.seq++
			n := f.seq
			f.mu.Unlock()
			inst, err := f.start(ctx, n)
			f.mu.Lock()
			f.starting--
			if err != nil {
				f.notifyLocked()
				f.mu.Unlock()
				return nil, err
			}
			if f.closed {
				f.mu.Unlock()
				inst.stop()
				return nil, errClosed
			}
			f.live[inst] = struct{}{}
			inst.busy = true
			f.startReaperLocked()
			f.mu.Unlock()
			return inst, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release returns an instance to the pool, or stops it when it is unhealthy or
// the function is closed.
func (f *function) release(inst *instance, healthy bool) {
	f.mu.Lock()
	inst.busy = false
	if healthy && !f.closed {
		inst.idleSince = time.Now()
		f.idle = append(f.idle, inst)
		f.notifyLocked()
		f.mu.Unlock()
		return
	}
	delete(f.live, inst)
	f.notifyLocked()
	f.mu.Unlock()
	inst.stop()
}

func (f *function) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// size returns the number of running instances.
func (f *function) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

// pids returns the pids of every instance's emulator and of their descendants
// (the bootstrap processes).
func (f *function) pids() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for inst := range f.live {
		out = append(out, inst.pid)
		out = append(out, descendants(inst.pid)...)
	}
	return out
}

// close stops every instance; invocations in flight fail.
func (f *function) close() {
	f.mu.Lock()
	if !f.closed {
		close(f.done)
	}
	f.closed = true
	insts := make([]*instance, 0, len(f.live))
	for inst := range f.live {
		insts = append(insts, inst)
	}
	f.live = map[*instance]struct{}{}
	f.idle = nil
	f.notifyLocked()
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst.stop()
		}()
	}
	wg.Wait()
}

// instance is one aws-lambda-rie process hosting the function's bootstrap.
type instance struct {
	out      *prefixWriter
	label    string
	addr     string
	pid      int
	proc     *proc.Process
	client   *http.Client
	stopOnce sync.Once

	// Guarded by the function's mu.
	busy      bool      // an invocation runs on it
	idleSince time.Time // when it last went idle
}

// start runs a new emulator on two free ports (the Invoke API and the Runtime
// API the bootstrap talks to; every emulator needs its own, the default 9001
// would collide) and waits until it accepts connections. A port taken between
// choosing and binding shows as an early exit, so start tries a few times.
func (f *function) start(ctx context.Context, n int) (*instance, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		inst, err := f.startOn(ctx, n, ports[0], ports[1])
		if err == nil {
			return inst, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (f *function) startOn(ctx context.Context, n, invokePort, runtimePort int) (*instance, error) {
	addr := "127.0.0.1:" + strconv.Itoa(invokePort)
	label := f.name
	if n > 1 {
		label = f.name + "#" + strconv.Itoa(n)
	}
	args := []string{f.riePath,
		"--log-level", "error",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:" + strconv.Itoa(runtimePort),
		f.bootstrap}
	if f.nice != 0 {
		// nice(1) execs the emulator (same pid); the bootstrap inherits it.
		args = append([]string{"nice", "-n", strconv.Itoa(f.nice)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = filepath.Dir(f.bootstrap)
	cmd.Env = f.env
	out := newPrefixWriter(f.output, label)
	cmd.Stdout = out
	cmd.Stderr = out

	inst := &instance{
		out:   out,
		label: label,
		addr:  addr,
		// No client timeout here: invoke bounds each call.
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     time.Minute,
		}},
	}
	p, err := proc.Start(cmd, out.Flush)
	if err != nil {
		return nil, fmt.Errorf("localdev: start aws-lambda-rie for %s: %w", f.id, err)
	}
	inst.proc, inst.pid = p, p.Pid()

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return inst, nil
		}
		select {
		case <-p.Done():
			return nil, fmt.Errorf("localdev: aws-lambda-rie for %s exited at start: %v", f.id, p.Err())
		case <-ctx.Done():
			inst.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			inst.stop()
			return nil, fmt.Errorf("localdev: aws-lambda-rie for %s did not listen on %s", f.id, addr)
		}
	}
}

func (in *instance) exited() bool { return in.proc.Exited() }

// invoke posts one event to the emulator. The call is not tied to the client's
// request: like Lambda, the function runs to its end (or its timeout, which
// the emulator enforces) even when the caller has gone.
func (in *instance) invoke(payload []byte, timeout time.Duration) (invocation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+in.addr+invocationPath, bytes.NewReader(payload))
	if err != nil {
		return invocation{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return invocation{}, fmt.Errorf("localdev: invoke %s: %w", in.label, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return invocation{}, fmt.Errorf("localdev: invoke %s: %w", in.label, err)
	}
	return invocation{status: resp.StatusCode, body: body}, nil
}

// stop kills the function's bootstrap (aws-lambda-rie runs it in a process
// group of its own and would leave it behind), lets the emulator reap it, then
// stops the emulator: SIGTERM, and SIGKILL after two seconds.
func (in *instance) stop() {
	in.stopOnce.Do(func() {
		if in.exited() {
			return
		}
		in.out.Mute() // what a killed runtime prints is noise
		kids := descendants(in.pid)
		for _, k := range kids {
			_ = syscall.Kill(-k, syscall.SIGKILL)
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
		deadline := time.Now().Add(time.Second)
		for _, k := range kids {
			for exists(k) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		in.proc.Stop(2 * time.Second)
		in.client.CloseIdleConnections()
	})
}

// outcome classifies an Invoke API answer.
type outcome int

const (
	succeeded     outcome = iota
	functionError         // the handler returned an error or panicked
	timedOut              // the function ran past its timeout
)

// classify tells a function's answer from its failures. aws-lambda-rie answers
// 200 with {"errorMessage","errorType"} when the handler returns an error, 502
// when it panics or the runtime crashes, and 200 with the text "Task timed out
// after N.00 seconds" on a timeout.
func classify(inv invocation) outcome {
	if inv.status != http.StatusOK {
		return functionError
	}
	if bytes.HasPrefix(inv.body, []byte("Task timed out after")) {
		return timedOut
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(inv.body, &probe) == nil {
		_, hasType := probe["errorType"]
		_, hasMsg := probe["errorMessage"]
		_, hasStatus := probe["statusCode"]
		if hasType && hasMsg && !hasStatus {
			return functionError
		}
	}
	return succeeded
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports, err := proc.FreePorts(n)
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	return ports, nil
}
