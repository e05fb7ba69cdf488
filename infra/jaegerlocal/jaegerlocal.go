// Package jaegerlocal runs Jaeger (v1.76.0, the OpenTelemetry-Collector-based
// binary built by infra/scripts/install-jaeger.sh into .local/bin/jaeger) as a
// child process: a real OTLP collector and in-memory trace store for tests and
// the local platform, with a client for its JSON query API.
//
// Jaeger is started with the embedded config.yaml (passed as
// `--config env:JAEGERLOCAL_CONFIG`): an OTLP receiver on gRPC and HTTP, the
// memory store and the query extension, all on 127.0.0.1; no Jaeger/Zipkin
// receivers, no sampling server, no metrics endpoint. Ports are free ones
// unless Options fixes them (the conventional ones are DefaultOTLPHTTPPort,
// DefaultOTLPGRPCPort and DefaultQueryPort).
//
// # Pointing functions at it
//
// lambdakit.Init exports spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and only then; it does not read
// OTEL_TRACES_EXPORTER. So give each function process
//
//	OTEL_EXPORTER_OTLP_ENDPOINT=<Server.OTLPEndpoint()>   // e.g. http://127.0.0.1:4318
//
// (Server.Env returns exactly that). The exporter appends /v1/traces and uses
// plain HTTP for an http:// endpoint. lambdakit flushes after every
// invocation, so a function's spans reach Jaeger before its response is
// returned, and the collector's batch processor makes them queryable within
// about 100 ms; still, poll (Client.WaitTrace) rather than query once.
// Spans arrive already filtered by lambdakit.RedactSpans (the attribute
// allowlist).
//
// Then find the spans with the Client: Services, Traces(service) or
// Trace(traceID) — the trace id is in every log line of the invocation
// (traceId) and, for HTTP calls that sent a traceparent header, is the
// caller's.
//
// The web UI is not available: the UI assets are not part of the Go module,
// so the query port serves the JSON API (/api/services, /api/traces, ...) and
// a placeholder page.
package jaegerlocal

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/labchain/appointments/infra/proc"
)

// The conventional Jaeger ports, for Options that want fixed ones.
const (
	// DefaultOTLPHTTPPort is the standard OTLP/HTTP port.
	DefaultOTLPHTTPPort = 4318
	// DefaultOTLPGRPCPort is the standard OTLP/gRPC port.
	DefaultOTLPGRPCPort = 4317
	// DefaultQueryPort is Jaeger's query API (and UI) port.
	DefaultQueryPort = 16686
	// DefaultQueryGRPCPort is Jaeger's query gRPC port.
	DefaultQueryGRPCPort = 16685
)

// StartTimeout bounds how long Start waits for Jaeger to listen on all its
// ports (about a second is usual).
const StartTimeout = 60 * time.Second

// DefaultMaxTraces is how many traces the memory store keeps by default; the
// oldest are evicted beyond it.
const DefaultMaxTraces = 100000

// ErrNoBinary is wrapped by Start's error when the jaeger binary is missing.
var ErrNoBinary = errors.New("jaeger binary not found: run `make tools` (infra/scripts/install-jaeger.sh)")

//go:embed config.yaml
var configYAML string

// Options configure Start. The zero value runs <repo>/.local/bin/jaeger on
// free ports, logging at "warn" into a discarded writer.
type Options struct {
	// Bin is the jaeger binary; default DefaultBin().
	Bin string
	// Log receives Jaeger's stdout and stderr (default: discarded). The last
	// few kilobytes are kept anyway for error messages.
	Log io.Writer
	// LogLevel is the collector's log level: debug, info, warn or error;
	// default "warn".
	LogLevel string
	// OTLPHTTPPort is the OTLP/HTTP receiver's port; 0 picks a free port.
	OTLPHTTPPort int
	// OTLPGRPCPort is the OTLP/gRPC receiver's port; 0 picks a free port.
	OTLPGRPCPort int
	// QueryPort is the query API's HTTP port; 0 picks a free port.
	QueryPort int
	// QueryGRPCPort is the query API's gRPC port (unused by this package but
	// always opened by Jaeger); 0 picks a free port.
	QueryGRPCPort int
	// MaxTraces bounds the memory store; 0 means DefaultMaxTraces.
	MaxTraces int
}

// Server is a running Jaeger process.
type Server struct {
	otlpHTTP, otlpGRPC, query, queryGRPC int
	proc                                 *proc.Process
	closeOnce                            sync.Once
}

// Start runs Jaeger and waits (up to StartTimeout, or ctx) until its query
// API answers and both OTLP ports accept connections. The process runs in its
// own process group and (on Linux) is killed by the kernel if the calling
// process dies; callers still call Close. The error of a failed start includes
// the tail of Jaeger's output; it wraps ErrNoBinary when the binary is
// missing, and it is returned at once when a fixed port is in use. When any
// port was left to be picked and Jaeger exits early (a
// picked port was taken meanwhile), Start tries again with new ports, up to
// three times.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := proc.Binary(opts.Bin, DefaultBin, ErrNoBinary)
	if err != nil {
		return nil, fmt.Errorf("jaegerlocal: %w", err)
	}
	// A fixed port already in use would let the readiness probe reach the
	// other listener before this Jaeger fails to bind and exits.
	for _, port := range []int{opts.OTLPHTTPPort, opts.OTLPGRPCPort, opts.QueryPort, opts.QueryGRPCPort} {
		if port == 0 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("jaegerlocal: port %d is not free: %w", port, err)
		}
		l.Close()
	}
	picked := opts.OTLPHTTPPort == 0 || opts.OTLPGRPCPort == 0 || opts.QueryPort == 0 || opts.QueryGRPCPort == 0
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, bin, opts)
		if errors.Is(err, errExited) && picked && attempt < 3 && ctx.Err() == nil {
			continue
		}
		return s, err
	}
}

var errExited = proc.ErrExited

func start(ctx context.Context, bin string, opts Options) (*Server, error) {
	free, err := proc.FreePorts(4)
	if err != nil {
		return nil, fmt.Errorf("jaegerlocal: %w", err)
	}
	s := &Server{
		otlpHTTP:  orPort(opts.OTLPHTTPPort, free[0]),
		otlpGRPC:  orPort(opts.OTLPGRPCPort, free[1]),
		query:     orPort(opts.QueryPort, free[2]),
		queryGRPC: orPort(opts.QueryGRPCPort, free[3]),
	}
	level := opts.LogLevel
	if level == "" {
		level = "warn"
	}
	maxTraces := opts.MaxTraces
	if maxTraces <= 0 {
		maxTraces = DefaultMaxTraces
	}

	tail := &proc.Tail{}
	var out io.Writer = tail
	if opts.Log != nil {
		out = io.MultiWriter(tail, opts.Log)
	}
	cmd := exec.Command(bin, "--config", "env:JAEGERLOCAL_CONFIG")
	cmd.Env = append(os.Environ(),
		"JAEGERLOCAL_CONFIG="+configYAML,
		"JAEGERLOCAL_HOST=127.0.0.1",
		"JAEGERLOCAL_LOG_LEVEL="+level,
		"JAEGERLOCAL_MAX_TRACES="+strconv.Itoa(maxTraces),
		"JAEGERLOCAL_OTLP_HTTP_PORT="+strconv.Itoa(s.otlpHTTP),
		"JAEGERLOCAL_OTLP_GRPC_PORT="+strconv.Itoa(s.otlpGRPC),
		"JAEGERLOCAL_QUERY_HTTP_PORT="+strconv.Itoa(s.query),
		"JAEGERLOCAL_QUERY_GRPC_PORT="+strconv.Itoa(s.queryGRPC),
	)
	cmd.Stdout = out
	cmd.Stderr = out
	p, err := proc.Start(cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("jaegerlocal: start %s: %w", bin, err)
	}
	s.proc = p
	if err := s.waitReady(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("jaegerlocal: %w\n--- output tail ---\n%s", err, tail.String())
	}
	return s, nil
}

func orPort(fixed, free int) int {
	if fixed != 0 {
		return fixed
	}
	return free
}

// waitReady polls until the query API answers /api/services with 200 and
// both OTLP ports accept TCP connections (the collector starts its receivers
// last).
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	return s.proc.WaitReady(ctx, "jaeger", 50*time.Millisecond, func(ctx context.Context) error { return s.probe(ctx, client) })
}

func (s *Server) probe(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.QueryURL()+"/api/services", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/services: %s", resp.Status)
	}
	for _, port := range []int{s.otlpHTTP, s.otlpGRPC} {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		c.Close()
	}
	return nil
}

// OTLPEndpoint returns the OTLP/HTTP base URL, "http://127.0.0.1:<port>", the
// value for OTEL_EXPORTER_OTLP_ENDPOINT (exporters append /v1/traces).
func (s *Server) OTLPEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.otlpHTTP) }

// OTLPGRPCEndpoint returns the OTLP/gRPC address, "127.0.0.1:<port>".
func (s *Server) OTLPGRPCEndpoint() string { return "127.0.0.1:" + strconv.Itoa(s.otlpGRPC) }

// QueryURL returns the query API's base URL, "http://127.0.0.1:<port>".
func (s *Server) QueryURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.query) }

// Env returns the environment entries that make a lambdakit function export
// its spans here: OTEL_EXPORTER_OTLP_ENDPOINT=OTLPEndpoint().
func (s *Server) Env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + s.OTLPEndpoint()}
}

// Client returns a query client for the server.
func (s *Server) Client() *Client { return NewClient(s.QueryURL()) }

// Close stops Jaeger: SIGTERM to its process group, SIGKILL after 5 s, and
// waits for it to exit. It is safe to call more than once and always returns
// nil (the error is there for io.Closer and t.Cleanup-style use).
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.proc.Stop(5 * time.Second) })
	return nil
}

// DefaultBin returns <repo>/.local/bin/jaeger, where <repo> is the nearest
// ancestor of the working directory holding go.mod — the module root whose
// .local/ `make tools` fills. From a nested module (infra/tools/...) it is
// that module's folder instead; pass Options.Bin there.
func DefaultBin() (string, error) { return proc.LocalPath("bin", "jaeger") }
