package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	var after bool
	p, err := Start(exec.Command("sleep", "30"), func() { after = true })
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("exited at once")
	}
	pgid, err := syscall.Getpgid(p.Pid())
	if err != nil || pgid != p.Pid() {
		t.Fatalf("pgid = %d (%v), want its own group %d", pgid, err, p.Pid())
	}
	p.Stop(time.Second)
	p.Stop(time.Second)
	if !p.Exited() || !after || p.Err() == nil {
		t.Fatalf("exited %v, after %v, err %v", p.Exited(), after, p.Err())
	}
	if err := syscall.Kill(p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process still there: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start(exec.Command("/nonexistent/binary"), nil); err == nil {
		t.Fatal("want an error")
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("ports not distinct: %v", ports)
	}
}

func TestTail(t *testing.T) {
	b := &Tail{Max: 4}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := b.String(); got != "defg" {
		t.Fatalf("tail = %q", got)
	}
}

func TestWaitReady(t *testing.T) {
	p, err := Start(exec.Command("sleep", "30"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	calls := 0
	err = p.WaitReady(context.Background(), "sleeper", time.Millisecond, func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("ready after %d probes: %v", calls, err)
	}
	// ctx ends first: the error names it and the last probe error.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = p.WaitReady(ctx, "sleeper", time.Millisecond, func(context.Context) error { return errors.New("still down") })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still down") || errors.Is(err, ErrExited) {
		t.Fatalf("timeout: %v", err)
	}
	// The process exits first.
	q, err := Start(exec.Command("true"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = q.WaitReady(context.Background(), "short-lived", time.Millisecond, func(context.Context) error { return errors.New("no") })
	if !errors.Is(err, ErrExited) || !strings.HasPrefix(err.Error(), "short-lived") {
		t.Fatalf("exit: %v", err)
	}
}

func TestBinary(t *testing.T) {
	missing := errors.New("not installed")
	dir := t.TempDir()
	if _, err := Binary("", func() (string, error) { return dir + "/nope", nil }, missing); !errors.Is(err, missing) || !strings.Contains(err.Error(), dir+"/nope") {
		t.Fatalf("missing default: %v", err)
	}
	if _, err := Binary(dir, nil, missing); !errors.Is(err, missing) {
		t.Fatalf("a folder is not a binary: %v", err)
	}
	sh, _ := exec.LookPath("sh")
	if got, err := Binary(sh, nil, missing); err != nil || got != sh {
		t.Fatalf("explicit binary: %q %v", got, err)
	}
}

func TestLocalPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	got, err := LocalPath("bin", "jaeger")
	if err != nil || got != filepath.Join(dir, ".local", "bin", "jaeger") {
		t.Fatalf("LocalPath = %q, %v", got, err)
	}
}
