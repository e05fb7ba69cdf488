// Package dynamolocal runs AWS's DynamoDB Local (the official jar installed by
// `make tools` into .local/dynamodb) as a child process, for tests and for the
// local platform, and creates tables in it.
//
// DynamoDB Local is the real engine (transactions, condition expressions, GSIs,
// streams) with a few documented differences: it never throws
// TransactionConflictException or throttling errors, ignores provisioned
// throughput and never deletes TTL-expired items.
package dynamolocal

import (
	"context"
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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/infra/proc"
)

// Region is the region every local client uses. With -sharedDb (always passed
// by Start) DynamoDB Local ignores region and credentials, so any value works;
// one fixed value keeps logs and ARNs predictable.
const Region = "ap-southeast-1"

// JarName is the file name of the DynamoDB Local jar inside Options.Dir.
const JarName = "DynamoDBLocal.jar"

// StartTimeout bounds how long Start waits for DynamoDB Local to answer.
const StartTimeout = 60 * time.Second

// DefaultJVMArgs favour start-up time, which dominates a test run: C1-only
// JIT and the serial collector halve the time to the first answer on a small
// machine (about 5 s instead of 10 s on 2 cores) at some cost in peak
// throughput. Set Options.JVMArgs to an empty slice to run the JVM's defaults.
var DefaultJVMArgs = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}

// ErrNoJar is wrapped by Start's error when the jar is not installed.
var ErrNoJar = errors.New("DynamoDB Local jar not found: run `make tools`")

// Options configure Start. The zero value runs an in-memory database on a free
// port using the jar under <repo>/.local/dynamodb.
type Options struct {
	// Dir is the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib; default
	// <repo>/.local/dynamodb, where <repo> is the nearest ancestor of the working
	// directory that holds go.mod.
	Dir string
	// Port is the TCP port to listen on; 0 picks a free port.
	Port int
	// InMemory keeps the data in memory only. It is implied when DataDir is "".
	InMemory bool
	// DataDir, when set and InMemory is false, is where the database file
	// (shared-local-instance.db) is kept across runs; it is created if needed.
	DataDir string
	// JVMArgs are passed to java before -jar; nil means DefaultJVMArgs.
	JVMArgs []string
	// Stdout and Stderr receive the JVM's output (default: discarded). The last
	// few kilobytes are kept anyway for error messages.
	Stdout, Stderr io.Writer
}

// Server is a running DynamoDB Local process.
type Server struct {
	endpoint string
	port     int
	pid      int
	proc     *proc.Process
	stopOnce sync.Once
}

// Start runs DynamoDB Local and waits (up to StartTimeout, or ctx) until it
// answers ListTables. The process is started with -sharedDb, in its own process
// group, and (on Linux) is killed by the kernel if the calling process dies;
// callers still call Stop when done. The error of a failed start includes the
// tail of the process's output; it wraps ErrNoJar when the jar is missing.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	jar := filepath.Join(dir, JarName)
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("dynamolocal: %s: %w", jar, ErrNoJar)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("dynamolocal: java not on PATH (run `make tools`): %w", err)
	}
	if !opts.InMemory && opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynamolocal: data dir: %w", err)
		}
	}
	// A free port picked here may be taken by someone else before the JVM
	// binds it; that shows as an early exit, so try a few ports.
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			p, err := freePort()
			if err != nil {
				return nil, fmt.Errorf("dynamolocal: pick a free port: %w", err)
			}
			port = p
		}
		s, err := start(ctx, dir, jar, port, opts)
		if errors.Is(err, errExited) && opts.Port == 0 && attempt < 3 && ctx.Err() == nil {
			continue
		}
		return s, err
	}
}

var errExited = proc.ErrExited

func start(ctx context.Context, dir, jar string, port int, opts Options) (*Server, error) {
	jvm := opts.JVMArgs
	if jvm == nil {
		jvm = DefaultJVMArgs
	}
	args := append(append([]string{}, jvm...), "-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"), "-jar", jar)
	if opts.InMemory || opts.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", opts.DataDir)
	}
	args = append(args, "-sharedDb", "-port", strconv.Itoa(port))

	tail := &proc.Tail{}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	cmd.Stdout = writers(tail, opts.Stdout)
	cmd.Stderr = writers(tail, opts.Stderr)
	p, err := proc.Start(cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: start java: %w", err)
	}
	s := &Server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		port:     port,
		pid:      p.Pid(),
		proc:     p,
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, fmt.Errorf("dynamolocal: %w (java %v)\n--- output tail ---\n%s", err, args, tail.String())
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	client := NewClient(s.endpoint)
	return s.proc.WaitReady(ctx, "DynamoDB Local on "+s.endpoint+" (ListTables)", 100*time.Millisecond, func(ctx context.Context) error {
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		return err
	})
}

// Endpoint returns the base URL, "http://127.0.0.1:<port>".
func (s *Server) Endpoint() string { return s.endpoint }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Client returns a new DynamoDB client for the server (see NewClient). Build it
// once and share it: clients are safe for concurrent use.
func (s *Server) Client(ctx context.Context) *dynamodb.Client { return NewClient(s.endpoint) }

// Stop kills the process group (SIGTERM, then SIGKILL after 5 s) and waits for
// the process to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() { s.proc.Stop(5 * time.Second) })
}

// NewClient returns a DynamoDB client for a local endpoint such as
// "http://127.0.0.1:8000": static credentials "local"/"local", region Region,
// and nothing read from the environment or ~/.aws.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// CreateTables creates each table and waits until it is ACTIVE. A table that
// already exists is left as it is (its definition is not compared).
func CreateTables(ctx context.Context, client *dynamodb.Client, inputs []*dynamodb.CreateTableInput) error {
	for _, in := range inputs {
		name := aws.ToString(in.TableName)
		if _, err := client.CreateTable(ctx, in); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("dynamolocal: create table %s: %w", name, err)
			}
		}
		w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay = 50 * time.Millisecond
			o.MaxDelay = time.Second
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute); err != nil {
			return fmt.Errorf("dynamolocal: wait for table %s: %w", name, err)
		}
	}
	return nil
}

// DefaultDir returns <repo>/.local/dynamodb, where <repo> is the nearest
// ancestor of the working directory holding go.mod.
func DefaultDir() (string, error) { return proc.LocalPath("dynamodb") }

// RepoRoot returns the nearest ancestor of the working directory (itself
// included) that holds a go.mod file.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("dynamolocal: no go.mod above %s", wd)
		}
		dir = parent
	}
}

func freePort() (int, error) { return proc.FreePort() }

func writers(tail *proc.Tail, w io.Writer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(tail, w)
}
