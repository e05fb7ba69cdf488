package jaegerlocal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/infra/proc"
)

// startJaeger starts a Jaeger on free ports for one test, or skips the test in
// -short mode; a missing binary fails it (run `make tools`).
func startJaeger(t *testing.T, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs Jaeger")
	}
	var log bytes.Buffer
	if opts.Log == nil {
		opts.Log = &log
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*StartTimeout)
	defer cancel()
	s, err := Start(ctx, opts)
	if errors.Is(err, ErrNoBinary) {
		t.Fatalf("%v: run `make tools` (or infra/scripts/install-jaeger.sh)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("jaeger output:\n%s", log.String())
		}
	})
	return s
}

// linked is the span context the child span of exportSpans links to.
var linked = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0xa1, 0xb2, 15: 0x01},
	SpanID:     trace.SpanID{0xc3, 7: 0x02},
	TraceFlags: trace.FlagsSampled,
})

// exportSpans sends spans of service to endpoint with the OTel SDK's OTLP/HTTP
// exporter, as lambdakit does, and returns the parent's and the child's span
// contexts.
func exportSpans(t *testing.T, endpoint, service string) (parent, child trace.SpanContext) {
	t.Helper()
	ctx := context.Background()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(service), semconv.CloudRegion("ap-southeast-1"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	tr := tp.Tracer("jaegerlocal-test")

	pctx, p := tr.Start(ctx, "POST /v1/appointments", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.HTTPRoute("/v1/appointments"), attribute.Int("http.response.status_code", 201)))
	_, c := tr.Start(pctx, "DynamoDB.TransactWriteItems", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(trace.Link{SpanContext: linked}),
		trace.WithAttributes(attribute.StringSlice("aws.dynamodb.table_names", []string{"Booking"}), attribute.Bool("aws.dynamodb.consistent_read", true)))
	c.AddEvent("exception", trace.WithAttributes(attribute.String("exception.type", "*smithy.OperationError")))
	c.SetStatus(codes.Error, "ConditionalCheckFailed")
	c.End()
	p.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export to %s: %v", endpoint, err)
	}
	return p.SpanContext(), c.SpanContext()
}

func TestStartExportAndQuery(t *testing.T) {
	s := startJaeger(t, Options{})
	parent, child := exportSpans(t, s.OTLPEndpoint(), "book-appointment")
	client := s.Client()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr, err := client.WaitTrace(ctx, parent.TraceID().String(), func(tr Trace) bool { return len(tr.Spans) == 2 })
	if err != nil {
		t.Fatal(err)
	}
	if tr.TraceID != parent.TraceID().String() {
		t.Errorf("trace id = %s, want %s", tr.TraceID, parent.TraceID())
	}
	p, ok := tr.Span(parent.SpanID().String())
	if !ok {
		t.Fatalf("no parent span %s in %+v", parent.SpanID(), tr.Spans)
	}
	c, ok := tr.Span(child.SpanID().String())
	if !ok {
		t.Fatalf("no child span %s in %+v", child.SpanID(), tr.Spans)
	}
	if p.Service != "book-appointment" || p.Operation != "POST /v1/appointments" || p.ParentSpanID != "" || p.Kind != "server" {
		t.Errorf("parent = %+v", p)
	}
	if p.Attributes["http.route"] != "/v1/appointments" || p.Attributes["http.response.status_code"] != int64(201) || len(p.Attributes) != 2 {
		t.Errorf("parent attributes = %v, want exactly http.route and the status code", p.Attributes)
	}
	if p.Resource["cloud.region"] != "ap-southeast-1" || p.Resource["service.name"] != "book-appointment" {
		t.Errorf("parent resource = %v", p.Resource)
	}
	if c.ParentSpanID != p.SpanID || c.Operation != "DynamoDB.TransactWriteItems" || c.Kind != "client" || c.Scope != "jaegerlocal-test" {
		t.Errorf("child = %+v, want a client span under %s", c, p.SpanID)
	}
	if c.StatusCode != "ERROR" || c.StatusDescription != "ConditionalCheckFailed" {
		t.Errorf("child status = %q %q", c.StatusCode, c.StatusDescription)
	}
	if c.Attributes["aws.dynamodb.consistent_read"] != true || c.Attributes["aws.dynamodb.table_names"] != `["Booking"]` || len(c.Attributes) != 2 {
		t.Errorf("child attributes = %v", c.Attributes)
	}
	if len(c.Events) != 1 || c.Events[0].Name != "exception" || c.Events[0].Attributes["exception.type"] != "*smithy.OperationError" {
		t.Errorf("child events = %+v", c.Events)
	}
	if len(c.Links) != 1 || c.Links[0] != (SpanRef{TraceID: linked.TraceID().String(), SpanID: linked.SpanID().String()}) || len(p.Links) != 0 {
		t.Errorf("child links = %+v, parent links = %+v, want the child's one link", c.Links, p.Links)
	}
	if !p.Start.Before(time.Now()) || c.Duration < 0 {
		t.Errorf("timing: parent start %v, child duration %v", p.Start, c.Duration)
	}

	services, err := client.Services(ctx)
	if err != nil || !slices.Contains(services, "book-appointment") {
		t.Errorf("services = %v (%v), want book-appointment", services, err)
	}
	traces, err := client.Traces(ctx, "book-appointment")
	if err != nil || len(traces) != 1 || traces[0].TraceID != tr.TraceID || len(traces[0].Spans) != 2 {
		t.Errorf("traces of book-appointment = %+v (%v), want the one trace", traces, err)
	}
	if none, err := client.Traces(ctx, "no-such-service"); err != nil || len(none) != 0 {
		t.Errorf("traces of an unknown service = %+v (%v), want none", none, err)
	}
	if _, err := client.Trace(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("unknown trace: err = %v, want ErrTraceNotFound", err)
	}
	if got := s.Env(); len(got) != 1 || got[0] != "OTEL_EXPORTER_OTLP_ENDPOINT="+s.OTLPEndpoint() {
		t.Errorf("Env() = %v", got)
	}
}

func TestWaitTraceGivesUpAtTheDeadline(t *testing.T) {
	s := startJaeger(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := s.Client().WaitTrace(ctx, "0123456789abcdef0123456789abcdef", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
}

func TestFixedPortsAndCloseLeavesNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs Jaeger")
	}
	free, err := proc.FreePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	s := startJaeger(t, Options{OTLPHTTPPort: free[0], OTLPGRPCPort: free[1], QueryPort: free[2], QueryGRPCPort: free[3], LogLevel: "info"})
	if want := "http://127.0.0.1:" + strconv.Itoa(free[0]); s.OTLPEndpoint() != want {
		t.Errorf("OTLPEndpoint = %s, want %s", s.OTLPEndpoint(), want)
	}
	if want := "127.0.0.1:" + strconv.Itoa(free[1]); s.OTLPGRPCEndpoint() != want {
		t.Errorf("OTLPGRPCEndpoint = %s, want %s", s.OTLPGRPCEndpoint(), want)
	}
	if want := "http://127.0.0.1:" + strconv.Itoa(free[2]); s.QueryURL() != want {
		t.Errorf("QueryURL = %s, want %s", s.QueryURL(), want)
	}
	// A second Jaeger on the same fixed ports cannot start, and says so
	// instead of retrying on other ports.
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s2, err := Start(ctx, Options{OTLPHTTPPort: free[0], OTLPGRPCPort: free[1], QueryPort: free[2], QueryGRPCPort: free[3]})
	if err == nil {
		_ = s2.Close()
		t.Error("a second Jaeger started on ports in use")
	} else if !strings.Contains(err.Error(), "not free") {
		t.Errorf("second start: %v, want a port-in-use error", err)
	}

	pid := s.proc.Pid()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // idempotent
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after Close (kill 0: %v)", pid, err)
	}
}

func TestStartWithoutTheBinary(t *testing.T) {
	_, err := Start(context.Background(), Options{Bin: filepath.Join(t.TempDir(), "jaeger")})
	if !errors.Is(err, ErrNoBinary) {
		t.Errorf("err = %v, want ErrNoBinary", err)
	}
}

func TestDefaultBinIsUnderTheModuleRoot(t *testing.T) {
	bin, err := DefaultBin()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(bin)))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil || filepath.Base(bin) != "jaeger" {
		t.Errorf("DefaultBin = %s, want <module root>/.local/bin/jaeger", bin)
	}
}
