// Package mailpit runs Mailpit (github.com/axllent/mailpit, installed by
// `make tools` into .local/bin) as a child process, for tests and for the
// local platform: an SMTP server that keeps every message it receives, a web
// UI to read them and a JSON API (Client) to check them from tests.
//
// Mailpit runs on 127.0.0.1 only, with a database in a temporary folder that
// Close removes (or the next Start, when the process that started it was
// killed), without its update check and without reverse DNS lookups
// of SMTP clients; MP_* variables of the environment (Mailpit's own
// configuration) are not passed on, so a developer's settings cannot change
// what tests see.
package mailpit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labchain/appointments/infra/proc"
)

// Version is the Mailpit version `make tools` installs.
const Version = "v1.33.1"

// Default ports of `localdev up` (Mailpit's own defaults).
const (
	DefaultSMTPPort = 1025
	DefaultHTTPPort = 8025
)

// StartTimeout bounds how long Start waits for Mailpit to answer.
const StartTimeout = 30 * time.Second

// ErrNotInstalled is wrapped by Start's error when the binary is missing.
var ErrNotInstalled = errors.New("mailpit not found: run `make tools`")

// Options configure Start. The zero value runs <repo>/.local/bin/mailpit on
// free ports.
type Options struct {
	// Bin is the mailpit binary; default <repo>/.local/bin/mailpit, where
	// <repo> is the nearest ancestor of the working directory holding go.mod.
	Bin string
	// SMTPPort is the SMTP port on 127.0.0.1; 0 picks a free port.
	SMTPPort int
	// HTTPPort is the web UI and API port on 127.0.0.1; 0 picks a free port.
	HTTPPort int
	// Chaos turns on Mailpit's chaos feature, so that Client.SetChaos can
	// make the SMTP server refuse senders or recipients with a chosen code.
	Chaos bool
	// Log receives Mailpit's output (default: discarded). The last few
	// kilobytes are kept anyway for error messages.
	Log io.Writer
}

// Server is a running Mailpit. Its Client methods (Messages, Message,
// DeleteAll, …) talk to it.
type Server struct {
	*Client
	smtpPort, httpPort int
	dir                string // database folder, removed by Close
	proc               *proc.Process
	closeOnce          sync.Once
}

// Start runs Mailpit and waits (up to StartTimeout, or ctx) until its API
// answers /api/v1/info and its SMTP port accepts connections. The process
// runs in its own process group and (on Linux) is killed by the kernel if
// the calling process dies; callers still call Close. The error wraps
// ErrNotInstalled when the binary is missing, and includes the tail of
// Mailpit's output when it fails to start.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := proc.Binary(opts.Bin, DefaultBin, ErrNotInstalled)
	if err != nil {
		return nil, fmt.Errorf("mailpit: %w", err)
	}
	// A free port picked here may be taken before Mailpit binds it; that
	// shows as an early exit, so try a few.
	for attempt := 1; ; attempt++ {
		smtpPort, httpPort := opts.SMTPPort, opts.HTTPPort
		if smtpPort == 0 || httpPort == 0 {
			ports, err := proc.FreePorts(2)
			if err != nil {
				return nil, fmt.Errorf("mailpit: %w", err)
			}
			if smtpPort == 0 {
				smtpPort = ports[0]
			}
			if httpPort == 0 {
				httpPort = ports[1]
			}
		}
		s, err := start(ctx, bin, smtpPort, httpPort, opts)
		if (errors.Is(err, errExited) || errors.Is(err, errPortTaken)) && (opts.SMTPPort == 0 || opts.HTTPPort == 0) && attempt < 3 && ctx.Err() == nil {
			continue
		}
		return s, err
	}
}

var (
	errExited    = proc.ErrExited
	errPortTaken = errors.New("port taken")
)

func start(ctx context.Context, bin string, smtpPort, httpPort int, opts Options) (*Server, error) {
	// A port already taken (say by the Mailpit of a running `make dev`)
	// would make Mailpit exit, but the readiness check would find the other
	// one answering: check first.
	for _, port := range []int{smtpPort, httpPort} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return nil, fmt.Errorf("mailpit: port %d: %w: %w", port, errPortTaken, err)
		}
		l.Close()
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("mailpit: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mailpit: %w", err)
	}
	args := []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
	}
	if opts.Chaos {
		args = append(args, "--enable-chaos")
	}
	tail := &proc.Tail{}
	out := io.Writer(tail)
	if opts.Log != nil {
		out = io.MultiWriter(tail, opts.Log)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = environ()
	cmd.Stdout = out
	cmd.Stderr = out
	p, err := proc.Start(cmd, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mailpit: start %s: %w", bin, err)
	}
	s := &Server{
		Client:   NewClient("http://127.0.0.1:" + strconv.Itoa(httpPort)),
		smtpPort: smtpPort,
		httpPort: httpPort,
		dir:      dir,
		proc:     p,
	}
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("mailpit: %w (%s %s)\n--- output tail ---\n%s", err, bin, strings.Join(args, " "), tail.String())
	}
	return s, nil
}

// Each Mailpit's database lives in <temp>/mailpit-*, with the pid of the
// process that started it in the file "owner".
const (
	dirPrefix = "mailpit-"
	ownerFile = "owner"
)

// removeStaleDirs removes the database folders of Mailpits whose owner no
// longer exists: a killed owner cannot remove its own (its Mailpit dies with
// it), so the next Start does.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// environ is this process's environment without Mailpit's MP_* settings.
func environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MP_") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return s.proc.WaitReady(ctx, "mailpit on "+s.URL(), 50*time.Millisecond, func(ctx context.Context) error {
		if _, err := s.Info(ctx); err != nil {
			return err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.SMTPAddr())
		if err == nil {
			conn.Close()
		}
		return err
	})
}

// URL returns the web UI's and API's base URL, "http://127.0.0.1:<port>".
func (s *Server) URL() string { return s.Client.URL }

// SMTPAddr returns the SMTP server's address, "127.0.0.1:<port>".
func (s *Server) SMTPAddr() string { return "127.0.0.1:" + strconv.Itoa(s.smtpPort) }

// SMTPPort returns the SMTP port.
func (s *Server) SMTPPort() int { return s.smtpPort }

// HTTPPort returns the web UI and API port.
func (s *Server) HTTPPort() int { return s.httpPort }

// Pid returns Mailpit's process id.
func (s *Server) Pid() int { return s.proc.Pid() }

// Close stops Mailpit (SIGTERM to its process group, SIGKILL after 5 s),
// waits for it to exit and removes its database. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.proc.Stop(5 * time.Second)
		os.RemoveAll(s.dir)
	})
	return nil
}

// DefaultBin returns <repo>/.local/bin/mailpit, where <repo> is the nearest
// ancestor of the working directory holding go.mod.
func DefaultBin() (string, error) { return proc.LocalPath("bin", "mailpit") }

// httpClient is the Client's default HTTP client.
var httpClient = &http.Client{Timeout: 10 * time.Second}
