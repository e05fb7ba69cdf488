package lambdakit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/labchain/appointments/shared/config"
)

// Runtime is what a function builds once per cold start and shares between
// invocations: never build AWS clients or exporters per request.
type Runtime struct {
	// Config is the function's configuration.
	Config config.Config
	// Logger is the base JSON logger (also installed as slog.Default).
	// Handlers use Logger(ctx) instead, whose lines carry the request id.
	Logger *slog.Logger
	// TracerProvider creates and exports spans; flushed after every invocation.
	TracerProvider *sdktrace.TracerProvider
	// FunctionName is the Lambda function name (the service name outside Lambda).
	FunctionName string

	out io.Writer // where logs and EMF lines go
}

// Init builds the Runtime: a JSON logger on stdout at cfg.LogLevel; a tracer
// provider with service.name cfg.ServiceName that exports over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set
// (the exporter reads the standard OTEL_EXPORTER_OTLP_* variables, see otlpClient) and records
// without exporting otherwise; the W3C trace-context and baggage propagators,
// installed globally with the provider. It loads no AWS SDK configuration:
// functions that call AWS build it with shared/awssdk (through wiring), so a
// function that calls none links no AWS SDK.
func Init(ctx context.Context, cfg config.Config) (*Runtime, error) {
	return initRuntime(ctx, cfg, os.Stdout, os.LookupEnv)
}

func initRuntime(ctx context.Context, cfg config.Config, out io.Writer, lookup func(string) (string, bool)) (*Runtime, error) {
	fn := lambdacontext.FunctionName
	if fn == "" {
		fn = cfg.ServiceName
	}
	logger := NewLogger(out, cfg.LogLevel).With("service", cfg.ServiceName, "environment", cfg.Environment)

	tp, err := newTracerProvider(ctx, cfg, fn, lookup)
	if err != nil {
		return nil, err
	}
	prop := Propagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(prop)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		// Exporter failures are worth a warning, never a failed request.
		logger.Warn("opentelemetry error", "error", err.Error())
	}))

	slog.SetDefault(logger)
	return &Runtime{
		Config:         cfg,
		Logger:         logger,
		TracerProvider: tp,
		FunctionName:   fn,
		out:            out,
	}, nil
}

func newTracerProvider(ctx context.Context, cfg config.Config, fn string, lookup func(string) (string, bool)) (*sdktrace.TracerProvider, error) {
	attrs := []resource.Option{
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(
			semconv.ServiceName(cfg.ServiceName),
			semconv.DeploymentEnvironmentNameKey.String(cfg.Environment),
			semconv.FaaSName(fn),
			semconv.CloudProviderAWS,
		),
		resource.WithTelemetrySDK(),
	}
	if region, ok := lookup("AWS_REGION"); ok && region != "" {
		attrs = append(attrs, resource.WithAttributes(semconv.CloudRegion(region)))
	}
	res, err := resource.New(ctx, attrs...)
	if err != nil {
		return nil, fmt.Errorf("lambdakit: build trace resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exportsTraces(lookup) {
		client, err := newOTLPClient(lookup)
		if err != nil {
			return nil, err
		}
		exp, err := otlptrace.New(ctx, client)
		if err != nil {
			return nil, fmt.Errorf("lambdakit: create OTLP trace exporter: %w", err)
		}
		// A batcher plus the per-invocation flush sends each invocation's spans
		// in one request instead of one per span. RedactSpans drops every
		// attribute outside the allowlist before the batcher sees the span.
		opts = append(opts, sdktrace.WithSpanProcessor(RedactSpans(sdktrace.NewBatchSpanProcessor(exp))))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}

func exportsTraces(lookup func(string) (string, bool)) bool {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := lookup(k); ok && v != "" {
			return true
		}
	}
	return false
}

// MustInit loads the configuration from the environment, applies checks (for
// example config.Config.RequireTable), and calls Init. On failure it logs one
// JSON error line and exits the process with status 1, so a misconfigured
// function fails its cold start visibly. Only main may call it.
func MustInit(ctx context.Context, checks ...func(config.Config) error) *Runtime {
	rt, err := loadAndInit(ctx, os.Stdout, os.LookupEnv, checks...)
	if err != nil {
		NewLogger(os.Stdout, slog.LevelInfo).Error("cold start failed", FieldFunction, lambdacontext.FunctionName, "error", err.Error())
		os.Exit(1)
	}
	return rt
}

func loadAndInit(ctx context.Context, out io.Writer, lookup func(string) (string, bool), checks ...func(config.Config) error) (*Runtime, error) {
	cfg, err := config.LoadFrom(lookup)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, check := range checks {
		if err := check(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return initRuntime(ctx, cfg, out, lookup)
}

// Middlewares returns the standard chain, outermost first: Recover (a last net
// for the kit's own code), Logging, Metrics, Tracing, and Recover again
// innermost so that a handler panic reaches the outer layers as an error: it is
// logged with the request id, counted in Errors and marked on the span.
// tracingOpts are passed to Tracing.
func (rt *Runtime) Middlewares(tracingOpts ...otellambda.Option) []Middleware {
	return []Middleware{
		Recover,
		Logging(rt.Logger, rt.FunctionName),
		Metrics(rt.out, rt.FunctionName),
		Tracing(rt.TracerProvider, tracingOpts...),
		Recover,
	}
}

// Wrap applies the standard middleware chain to h. Start helpers call it; tests
// and local runners may call it to invoke a handler exactly as Lambda would.
func (rt *Runtime) Wrap(h lambda.Handler, tracingOpts ...otellambda.Option) lambda.Handler {
	return Chain(h, rt.Middlewares(tracingOpts...)...)
}

// Shutdown flushes and stops the tracer provider. Start helpers call it when
// Lambda sends SIGTERM before the execution environment goes away.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	return rt.TracerProvider.Shutdown(ctx)
}
