package lambdakit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/logctx"
)

// invokeCtx returns a context like the one the Lambda runtime passes.
func invokeCtx(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: "arn:aws:lambda:ap-southeast-1:123456789012:function:book",
	})
}

// jsonLines parses every line of buf as a JSON object.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not a JSON object: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// testRuntime builds a Runtime whose logs and metrics go to out and whose spans
// go to an in-memory exporter through a batcher, so a span is only visible if
// it was flushed.
func testRuntime(t *testing.T, out *bytes.Buffer) (*Runtime, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &Runtime{
		Config:         config.Config{ServiceName: "test-svc", LogLevel: slog.LevelDebug},
		Logger:         NewLogger(out, slog.LevelDebug),
		TracerProvider: tp,
		FunctionName:   "book-fn",
		out:            out,
	}, exp
}

func TestChainOrder(t *testing.T) {
	var trail []string
	mw := func(name string) Middleware {
		return func(next lambda.Handler) lambda.Handler {
			return HandlerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
				trail = append(trail, name+">")
				out, err := next.Invoke(ctx, p)
				trail = append(trail, "<"+name)
				return out, err
			})
		}
	}
	h := Chain(HandlerFunc(func(context.Context, []byte) ([]byte, error) {
		trail = append(trail, "handler")
		return []byte("ok"), nil
	}), mw("a"), mw("b"), mw("c"))
	out, err := h.Invoke(context.Background(), nil)
	if err != nil || string(out) != "ok" {
		t.Fatalf("Invoke = %q, %v", out, err)
	}
	want := "a> b> c> handler <c <b <a"
	if got := strings.Join(trail, " "); got != want {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestRuntimeMiddlewaresOrder(t *testing.T) {
	var buf bytes.Buffer
	rt, exp := testRuntime(t, &buf)
	// Inside the standard chain the logger, the metrics sink and the span are
	// all present.
	var sawLogger, sawSink, sawSpan bool
	h := rt.Wrap(HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		_, sawLogger = logctx.From(ctx)
		_, sawSink = ctx.Value(sinkKey{}).(*metricsSink)
		sawSpan = trace.SpanContextFromContext(ctx).IsValid()
		Logger(ctx).Info("in handler")
		return []byte(`{}`), nil
	}))
	if _, err := h.Invoke(invokeCtx("req-order"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if !sawLogger || !sawSink || !sawSpan {
		t.Errorf("inside the chain: logger=%v sink=%v span=%v, want all true", sawLogger, sawSink, sawSpan)
	}
	// Logging is outside Metrics (the EMF line comes between the start and end
	// lines); Tracing is inside Metrics (the span is flushed by the time the
	// invocation returns).
	var kinds []string
	for _, l := range jsonLines(t, &buf) {
		switch {
		case l["_aws"] != nil:
			kinds = append(kinds, "emf")
		default:
			kinds = append(kinds, l["message"].(string))
		}
	}
	want := "invocation start|in handler|emf|invocation end"
	if got := strings.Join(kinds, "|"); got != want {
		t.Errorf("output order = %q, want %q", got, want)
	}
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("flushed spans = %d, want 1", n)
	}
	if n := len(rt.Middlewares()); n != 5 {
		t.Errorf("standard chain has %d middlewares, want 5", n)
	}
}

func TestRecoverTurnsAPanicIntoAnError(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithLogger(invokeCtx("req-panic"), NewLogger(&buf, slog.LevelInfo).With(FieldRequestID, "req-panic"))
	h := Recover(HandlerFunc(func(context.Context, []byte) ([]byte, error) {
		var m map[string]int
		//lint:ignore SA5000 the test needs a runtime panic, not a panic() call
		m["boom"]++ // nil map write: a runtime panic
		return nil, nil
	}))
	out, err := h.Invoke(ctx, nil)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Invoke error = %v (%T), want *PanicError", err, err)
	}
	if out != nil {
		t.Errorf("output = %q, want nil", out)
	}
	if !strings.Contains(pe.Error(), "nil map") || len(pe.Stack) == 0 {
		t.Errorf("PanicError = %q with %d stack bytes", pe.Error(), len(pe.Stack))
	}
	lines := jsonLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1", len(lines))
	}
	l := lines[0]
	if l["level"] != "ERROR" || l["message"] != "panic recovered" || l[FieldRequestID] != "req-panic" {
		t.Errorf("panic log line = %v", l)
	}
	if st, _ := l["stack"].(string); !strings.Contains(st, "lambdakit_test.go") {
		t.Errorf("stack %q does not point at the panicking code", st)
	}
}

func TestRecoverPassesResultsThrough(t *testing.T) {
	want := errors.New("plain failure")
	h := Recover(HandlerFunc(func(context.Context, []byte) ([]byte, error) { return []byte("x"), want }))
	if out, err := h.Invoke(context.Background(), nil); err != want || string(out) != "x" {
		t.Errorf("Invoke = %q, %v", out, err)
	}
}

func TestLoggingLinesAreJSONWithRequestID(t *testing.T) {
	var buf bytes.Buffer
	base := NewLogger(&buf, slog.LevelInfo).With("service", "svc")
	h := Logging(base, "book-fn")(HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		Logger(ctx).Info("work", "n", 1)
		if requestID(ctx) == "req-2" {
			return nil, errors.New("failed")
		}
		return nil, nil
	}))
	if _, err := h.Invoke(invokeCtx("req-1"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(invokeCtx("req-2"), nil); err == nil {
		t.Fatal("want the handler's error")
	}
	lines := jsonLines(t, &buf)
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6 (start, work, end per invocation)", len(lines))
	}
	for i, l := range lines {
		wantID, wantCold := "req-1", true
		if i >= 3 {
			wantID, wantCold = "req-2", false
		}
		if l[FieldRequestID] != wantID || l[FieldFunction] != "book-fn" || l[FieldColdStart] != wantCold || l["service"] != "svc" {
			t.Errorf("line %d = %v: want requestId %q, function book-fn, coldStart %v, service svc", i, l, wantID, wantCold)
		}
		for _, k := range []string{"timestamp", "level", "message"} {
			if _, ok := l[k]; !ok {
				t.Errorf("line %d lacks %q (Lambda's JSON log keys): %v", i, k, l)
			}
		}
	}
	if lines[0]["message"] != "invocation start" || lines[2]["message"] != "invocation end" {
		t.Errorf("first invocation lines = %v", lines[:3])
	}
	if _, ok := lines[2]["durationMs"].(float64); !ok {
		t.Errorf("end line lacks durationMs: %v", lines[2])
	}
	if lines[5]["level"] != "ERROR" || lines[5]["error"] != "failed" {
		t.Errorf("failed invocation end line = %v", lines[5])
	}
}

func TestLoggerOutsideAnInvocationIsTheDefault(t *testing.T) {
	if Logger(context.Background()) != slog.Default() {
		t.Error("Logger(background) must be slog.Default()")
	}
}

// emfDoc is the parsed shape of an EMF line, as CloudWatch reads it.
type emfDoc struct {
	AWS *struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// checkEMF validates line against the EMF specification: the _aws block, every
// dimension and metric present as a top-level member of the right type.
func checkEMF(t *testing.T, line map[string]any) emfDoc {
	t.Helper()
	raw, _ := json.Marshal(line)
	var d emfDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("EMF line does not parse: %v", err)
	}
	if d.AWS == nil || d.AWS.Timestamp == nil || *d.AWS.Timestamp <= 0 {
		t.Fatalf("EMF line lacks _aws.Timestamp: %s", raw)
	}
	if len(d.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("EMF line has %d directives, want 1: %s", len(d.AWS.CloudWatchMetrics), raw)
	}
	dir := d.AWS.CloudWatchMetrics[0]
	if dir.Namespace != Namespace {
		t.Errorf("Namespace = %q, want %q", dir.Namespace, Namespace)
	}
	if len(dir.Dimensions) != 1 || len(dir.Dimensions[0]) == 0 || len(dir.Dimensions[0]) > 30 {
		t.Fatalf("Dimensions = %v, want one set of 1..30 names", dir.Dimensions)
	}
	for _, name := range dir.Dimensions[0] {
		if _, ok := line[name].(string); !ok {
			t.Errorf("dimension %q is not a top-level string member: %s", name, raw)
		}
	}
	if len(dir.Metrics) == 0 {
		t.Fatalf("no metrics: %s", raw)
	}
	for _, m := range dir.Metrics {
		if m.Name == "" || m.Unit == "" {
			t.Errorf("metric definition %+v lacks a name or unit", m)
		}
		if _, ok := line[m.Name].(float64); !ok {
			t.Errorf("metric %q is not a top-level number: %s", m.Name, raw)
		}
	}
	return d
}

func TestMetricsWritesOneEMFLinePerInvocation(t *testing.T) {
	var buf bytes.Buffer
	fail := false
	h := Metrics(&buf, "book-fn")(HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		EmitMetric(ctx, "AppointmentsBooked", UnitCount, 2, map[string]string{"BranchId": "br_1"})
		if fail {
			return nil, errors.New("x")
		}
		return nil, nil
	}))
	if _, err := h.Invoke(invokeCtx("req-m1"), nil); err != nil {
		t.Fatal(err)
	}
	fail = true
	_, _ = h.Invoke(invokeCtx("req-m2"), nil)

	lines := jsonLines(t, &buf)
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4 (custom + invocation, twice)", len(lines))
	}
	for _, l := range lines {
		checkEMF(t, l)
	}
	custom, inv := lines[0], lines[1]
	if custom["AppointmentsBooked"] != 2.0 || custom["BranchId"] != "br_1" || custom[DimensionFunctionName] != "book-fn" || custom[FieldRequestID] != "req-m1" {
		t.Errorf("custom metric line = %v", custom)
	}
	d := checkEMF(t, custom)
	if got := strings.Join(d.AWS.CloudWatchMetrics[0].Dimensions[0], ","); got != "BranchId,FunctionName" {
		t.Errorf("custom dimensions = %q", got)
	}
	d = checkEMF(t, inv)
	var names []string
	for _, m := range d.AWS.CloudWatchMetrics[0].Metrics {
		names = append(names, m.Name+"/"+m.Unit)
	}
	if got := strings.Join(names, ","); got != "Invocations/Count,Errors/Count,Duration/Milliseconds" {
		t.Errorf("invocation metrics = %q", got)
	}
	if got := d.AWS.CloudWatchMetrics[0].Dimensions; len(got[0]) != 1 || got[0][0] != DimensionFunctionName {
		t.Errorf("invocation dimensions = %v, want [[FunctionName]]", got)
	}
	if inv["Invocations"] != 1.0 || inv["Errors"] != 0.0 || inv[FieldColdStart] != true || inv[DimensionFunctionName] != "book-fn" {
		t.Errorf("first invocation line = %v", inv)
	}
	if lines[3]["Errors"] != 1.0 || lines[3][FieldColdStart] != false {
		t.Errorf("failed invocation line = %v", lines[3])
	}
}

func TestEmitMetricDropsNamelessMetrics(t *testing.T) {
	var buf bytes.Buffer
	ctx := context.WithValue(context.Background(), sinkKey{}, &metricsSink{w: &buf, functionName: "f"})
	EmitMetric(ctx, "", UnitCount, 1, nil)
	if buf.Len() != 0 {
		t.Errorf("wrote %q for a nameless metric", buf.String())
	}
	EmitMetric(ctx, "Odd", "", 1, nil)
	l := jsonLines(t, &buf)[0]
	if d := checkEMF(t, l); d.AWS.CloudWatchMetrics[0].Metrics[0].Unit != string(UnitNone) {
		t.Errorf("empty unit should become None: %v", l)
	}
}

func TestTracingRecordsAndFlushesASpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	// A batcher exports only on flush: seeing the span proves the flush.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	h := Tracing(tp)(HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		_, child := tp.Tracer("test").Start(ctx, "dynamodb.PutItem")
		child.End()
		return []byte(`{}`), nil
	}))
	if _, err := h.Invoke(invokeCtx("req-t"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("exported %d spans right after the invocation, want 2", len(spans))
	}
	var server, child tracetest.SpanStub
	for _, s := range spans {
		if s.Name == "dynamodb.PutItem" {
			child = s
		} else {
			server = s
		}
	}
	if child.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Error("the handler's span is not a child of the invocation span")
	}
	var hasInvocationID bool
	for _, a := range server.Attributes {
		if a.Key == "faas.invocation_id" && a.Value.AsString() == "req-t" {
			hasInvocationID = true
		}
	}
	if !hasInvocationID {
		t.Errorf("invocation span attributes %v lack faas.invocation_id", server.Attributes)
	}
}

func TestTracingMarksErrorsAndContinuesHTTPTraces(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	h := Tracing(tp, WithHTTPEventPropagation())(HandlerFunc(func(context.Context, []byte) ([]byte, error) {
		return nil, errors.New("store down")
	}))
	ev := `{"version":"2.0","routeKey":"POST /v1/appointments","headers":{"Traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}`
	if _, err := h.Invoke(invokeCtx("req-e"), []byte(ev)); err == nil {
		t.Fatal("want the handler's error")
	}
	s := exp.GetSpans()[0]
	if s.Status.Code != codes.Error || len(s.Events) == 0 {
		t.Errorf("span status %v with %d events, want Error with the error recorded", s.Status, len(s.Events))
	}
	if got := s.SpanContext.TraceID().String(); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace id = %s, want the caller's", got)
	}
	if got := s.Parent.SpanID().String(); got != "b7ad6b7169203331" {
		t.Errorf("parent span id = %s, want the caller's", got)
	}
}

func TestWrapRecoversAHandlerPanicVisibly(t *testing.T) {
	var buf bytes.Buffer
	rt, exp := testRuntime(t, &buf)
	h := rt.Wrap(HandlerFunc(func(context.Context, []byte) ([]byte, error) { panic("boom") }))
	_, err := h.Invoke(invokeCtx("req-p"), []byte(`{}`))
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *PanicError", err)
	}
	var sawPanicLog, sawErrorMetric, sawEndError bool
	for _, l := range jsonLines(t, &buf) {
		switch {
		case l["_aws"] != nil:
			sawErrorMetric = l["Errors"] == 1.0
		case l["message"] == "panic recovered":
			sawPanicLog = l[FieldRequestID] == "req-p" && l["stack"] != nil
		case l["message"] == "invocation end":
			sawEndError = l["level"] == "ERROR"
		}
	}
	if !sawPanicLog || !sawErrorMetric || !sawEndError {
		t.Errorf("panic log with request id=%v, Errors=1=%v, end line at ERROR=%v\n%s", sawPanicLog, sawErrorMetric, sawEndError, buf.String())
	}
	if s := exp.GetSpans(); len(s) != 1 || s[0].Status.Code != codes.Error {
		t.Errorf("spans = %v, want one marked Error", s)
	}
}

func TestTypedHandler(t *testing.T) {
	h := TypedHandler(func(_ context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: e.RouteKey}, nil
	})
	out, err := h.Invoke(context.Background(), []byte(`{"routeKey":"GET /v1/health","futureField":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || resp.Body != "GET /v1/health" {
		t.Errorf("response = %s (%v)", out, err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`[`)); err == nil {
		t.Error("a malformed event must be an error")
	}
}

func TestInit(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	for _, endpoint := range []string{"", "http://127.0.0.1:4318"} {
		t.Run("endpoint="+endpoint, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			var buf bytes.Buffer
			cfg := config.Config{ServiceName: "lab-test", Environment: "local", LogLevel: slog.LevelInfo}
			rt, err := initRuntime(context.Background(), cfg, &buf, os.LookupEnv)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rt.Shutdown(context.Background()) }()
			exp := tracetest.NewInMemoryExporter()
			rt.TracerProvider.RegisterSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp))
			_, span := rt.TracerProvider.Tracer("t").Start(context.Background(), "s")
			span.End()
			res := exp.GetSpans()[0].Resource
			got := map[string]string{}
			for _, kv := range res.Attributes() {
				got[string(kv.Key)] = kv.Value.String()
			}
			if got["service.name"] != "lab-test" || got["deployment.environment.name"] != "local" || got["cloud.region"] != "ap-southeast-1" {
				t.Errorf("resource = %v", got)
			}
			rt.Logger.Info("hello")
			if l := jsonLines(t, &buf); len(l) != 1 || l[0]["service"] != "lab-test" || l[0]["environment"] != "local" {
				t.Errorf("logger output = %s", buf.String())
			}
		})
	}
}

func TestExportsTraces(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if exportsTraces(env(nil)) {
		t.Error("no endpoint must mean no exporter")
	}
	if !exportsTraces(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"})) {
		t.Error("OTEL_EXPORTER_OTLP_ENDPOINT must enable the exporter")
	}
	if !exportsTraces(env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://localhost:4318/v1/traces"})) {
		t.Error("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must enable the exporter")
	}
}

func TestLoadAndInitAppliesChecks(t *testing.T) {
	env := map[string]string{"AWS_REGION": "ap-southeast-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := loadAndInit(context.Background(), &bytes.Buffer{}, lookup, config.Config.RequireTable)
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("loadAndInit without TABLE_NAME = %v, want an error naming it", err)
	}
	env["LOG_LEVEL"] = "chatty"
	if _, err := loadAndInit(context.Background(), &bytes.Buffer{}, lookup); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("loadAndInit with a bad LOG_LEVEL = %v", err)
	}
	delete(env, "LOG_LEVEL")
	env["TABLE_NAME"] = "appointments"
	rt, err := loadAndInit(context.Background(), &bytes.Buffer{}, lookup, config.Config.RequireTable)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Shutdown(context.Background()) }()
	if rt.Config.TableName != "appointments" {
		t.Errorf("config = %+v", rt.Config)
	}
}
