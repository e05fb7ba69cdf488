// Package logctx carries an invocation's logger in a context. It is the
// one piece of lambdakit's logging that use cases and jobs need, kept apart
// so that they log with the request's fields without linking the Lambda
// runtime kit (and through it the AWS SDK and the OTel exporter).
package logctx

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Field names of the trace ids on a log line, so logs and traces join up.
const (
	// FieldTraceID is the OpenTelemetry trace id, when a span is active.
	FieldTraceID = "traceId"
	// FieldSpanID is the OpenTelemetry span id, when a span is active.
	FieldSpanID = "spanId"
)

type loggerKey struct{}

// With returns ctx carrying l, for Logger to find.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger put in ctx by With (lambdakit's Logging
// middleware puts one whose lines carry requestId, function and coldStart),
// or slog.Default() outside an invocation. When ctx has an active span, the
// logger also carries traceId and spanId.
func Logger(ctx context.Context) *slog.Logger {
	l, ok := ctx.Value(loggerKey{}).(*slog.Logger)
	if !ok || l == nil {
		l = slog.Default()
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		l = l.With(FieldTraceID, sc.TraceID().String(), FieldSpanID, sc.SpanID().String())
	}
	return l
}

// From returns the logger put in ctx by With, and whether there is one.
func From(ctx context.Context) (*slog.Logger, bool) {
	l, ok := ctx.Value(loggerKey{}).(*slog.Logger)
	return l, ok && l != nil
}
