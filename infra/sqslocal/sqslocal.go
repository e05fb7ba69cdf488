// Package sqslocal runs an SQS emulator (the npm package local-aws-sqs,
// installed by `make tools` into .local/sqs) as a child process, for tests and
// for the local platform. It speaks both the Query and the JSON protocol, so
// aws-sdk-go-v2's SQS client works against it unchanged.
//
// The emulator keeps queues in memory. It implements visibility timeouts,
// long polling, delays, message attributes and redrive to a dead-letter queue
// after maxReceiveCount receives; it does not emulate Lambda's event source
// mappings (infra/localdev does).
package sqslocal

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labchain/appointments/infra/proc"
)

// Region is the region of every local client and of the queue ARNs.
const Region = "ap-southeast-1"

// AccountID is the account id in queue URLs and ARNs (the local platform's).
const AccountID = "000000000000"

// Package is the npm package (and version) `make tools` installs.
const Package = "local-aws-sqs@2.0.2"

// StartTimeout bounds how long Start waits for the emulator to answer.
const StartTimeout = 30 * time.Second

// ErrNotInstalled is wrapped by Start's error when local-aws-sqs is not
// installed in Options.Dir.
var ErrNotInstalled = errors.New("SQS emulator (npm " + Package + ") not found: run `make tools`")

// Options configure Start. The zero value runs the emulator installed under
// <repo>/.local/sqs on a free port.
type Options struct {
	// Dir is the npm prefix holding node_modules/local-aws-sqs; default
	// <repo>/.local/sqs, where <repo> is the nearest ancestor of the working
	// directory that holds go.mod.
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free port.
	Port int
	// Stdout and Stderr receive node's output (default: discarded). The last
	// few kilobytes are kept anyway for error messages.
	Stdout, Stderr io.Writer
}

// Server is a running SQS emulator.
type Server struct {
	endpoint string
	port     int
	proc     *proc.Process
	client   *sqs.Client
	stopOnce sync.Once
}

// script runs the emulator behind a front that fixes ReceiveMessage's long
// polling and attribute names (see the comments in server.js).
//
//go:embed server.js
var script string

// Start runs the emulator with node and waits (up to StartTimeout, or ctx)
// until it answers ListQueues. The process runs in its own process group and
// (on Linux) is killed by the kernel if the calling process dies; callers
// still call Stop. The error wraps ErrNotInstalled when the package is
// missing, and includes the tail of node's output when it fails to start.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	pkg := filepath.Join(dir, "node_modules", "local-aws-sqs", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return nil, fmt.Errorf("sqslocal: %s: %w", pkg, ErrNotInstalled)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("sqslocal: node not on PATH (run `make tools`): %w", err)
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			p, err := proc.FreePort()
			if err != nil {
				return nil, fmt.Errorf("sqslocal: %w", err)
			}
			port = p
		}
		s, err := start(ctx, dir, port, opts)
		if errors.Is(err, errExited) && opts.Port == 0 && attempt < 3 && ctx.Err() == nil {
			continue // the port was taken in between
		}
		return s, err
	}
}

var errExited = proc.ErrExited

func start(ctx context.Context, dir string, port int, opts Options) (*Server, error) {
	tail := &proc.Tail{}
	cmd := exec.Command("node", "-e", script, strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SQSLOCAL_REGION="+Region, "SQSLOCAL_ACCOUNT="+AccountID)
	cmd.Stdout = writers(tail, opts.Stdout)
	cmd.Stderr = writers(tail, opts.Stderr)
	p, err := proc.Start(cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("sqslocal: start node: %w", err)
	}
	s := &Server{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), port: port, proc: p}
	s.client = NewClient(s.endpoint)
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sqslocal: %w\n--- output tail ---\n%s", err, tail.String())
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return s.proc.WaitReady(ctx, "the SQS emulator on "+s.endpoint+" (ListQueues)", 50*time.Millisecond, func(ctx context.Context) error {
		_, err := s.client.ListQueues(ctx, &sqs.ListQueuesInput{}, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
		return err
	})
}

// Endpoint returns the base URL, "http://127.0.0.1:<port>" (the value for
// AWS_ENDPOINT_URL_SQS).
func (s *Server) Endpoint() string { return s.endpoint }

// Port returns the TCP port the emulator listens on.
func (s *Server) Port() int { return s.port }

// Pid returns the emulator's process id.
func (s *Server) Pid() int { return s.proc.Pid() }

// Client returns the server's SQS client (see NewClient); it is shared and
// safe for concurrent use.
func (s *Server) Client() *sqs.Client { return s.client }

// Stop kills the process group (SIGTERM, then SIGKILL after 5 s) and waits
// for the process to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() { s.proc.Stop(5 * time.Second) })
}

// NewClient returns an SQS client for a local endpoint such as
// "http://127.0.0.1:9324": static credentials "local"/"local", region Region,
// and nothing read from the environment or ~/.aws.
func NewClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// QueueARN returns the ARN the emulator gives the queue with this name.
func QueueARN(name string) string {
	return "arn:aws:sqs:" + Region + ":" + AccountID + ":" + name
}

// DefaultDir returns <repo>/.local/sqs, where <repo> is the nearest ancestor
// of the working directory holding go.mod.
func DefaultDir() (string, error) { return proc.LocalPath("sqs") }

func writers(tail *proc.Tail, w io.Writer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(tail, w)
}
