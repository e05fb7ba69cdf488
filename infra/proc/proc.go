// Package proc starts the local platform's child processes (DynamoDB Local,
// the SQS emulator, aws-lambda-rie) so that none outlives the program: each
// runs in its own process group, which Stop signals as a whole, and on Linux
// the kernel SIGKILLs it when this process dies (Pdeathsig).
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Process is a running child started by Start.
type Process struct {
	cmd     *exec.Cmd
	pid     int
	done    chan struct{}
	waitErr error
}

// Start starts cmd in a process group of its own (replacing
// cmd.SysProcAttr) and returns once it runs. It forks from a goroutine locked
// to its OS thread that lives until the child exits: Pdeathsig fires when the
// thread that forked the child ends, and this ties it to the life of this
// process rather than to a thread the Go runtime might end. after, if not nil,
// runs once Wait has returned and before Done is closed (e.g. to flush an
// output writer).
func Start(cmd *exec.Cmd, after func()) (*Process, error) {
	cmd.SysProcAttr = SysProcAttr()
	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		p.waitErr = cmd.Wait()
		if after != nil {
			after()
		}
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Pid returns the child's process id (also its process group id).
func (p *Process) Pid() int { return p.pid }

// Done is closed when the child has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns Wait's result; it is valid once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the child's process group, SIGKILL after grace if it
// is still running, and waits for the child to exit. It is safe to call more
// than once and after the child has exited.
func (p *Process) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
	}
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1. Another
// program may take one before the caller binds it; callers retry on an early
// exit.
func FreePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePort returns one TCP port that was free on 127.0.0.1 (see FreePorts).
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// Tail is an io.Writer that keeps the last Max bytes written to it, for error
// messages about a child that failed to start. It is safe for concurrent use.
type Tail struct {
	// Max is the number of bytes kept; 0 means 8 KiB.
	Max int

	mu  sync.Mutex
	buf []byte
}

// Write keeps the end of p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	max := t.Max
	if max <= 0 {
		max = 8 << 10
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-max:]...)
	}
	return len(p), nil
}

// String returns what is kept, without leading and trailing white space.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// ErrExited is wrapped by WaitReady's error when the process exits before
// its probe succeeds (for example because a port it was given was taken).
var ErrExited = errors.New("exited before it was ready")

// probeTimeout bounds one call of a WaitReady probe.
const probeTimeout = 2 * time.Second

// WaitReady calls probe every interval, each call bounded by 2 s, until it
// succeeds (nil), the process exits (an error naming what and wrapping
// ErrExited, with the process's exit error), or ctx ends (an error naming
// what, wrapping ctx's error, with the last probe error).
func (p *Process) WaitReady(ctx context.Context, what string, interval time.Duration, probe func(ctx context.Context) error) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, probeTimeout)
		last := probe(attempt)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s %w: %v", what, ErrExited, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Binary returns bin, or def() when bin is "", after checking that it is a
// file; otherwise an error naming the path and wrapping missing (the
// package's "not installed: run `make tools`" error).
func Binary(bin string, def func() (string, error), missing error) (string, error) {
	if bin == "" {
		b, err := def()
		if err != nil {
			return "", err
		}
		bin = b
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return "", fmt.Errorf("%s: %w", bin, missing)
	}
	return bin, nil
}

// LocalPath returns <repo>/.local/<elem...>, <repo> being the nearest
// ancestor of the working directory (itself included) holding go.mod: the
// folder `make tools` fills with the emulators and tools.
func LocalPath(elem ...string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir, ".local"}, elem...)...), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod in %s or above", wd)
		}
		dir = parent
	}
}
