package lambdakit

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/apperr"
)

// FlushTimeout bounds the span export at the end of each invocation, so an
// unreachable collector costs at most this much per request instead of the
// whole Lambda timeout. Spans not exported in time stay queued for the next
// flush.
const FlushTimeout = 2 * time.Second

// ForceFlusher is a tracer provider that can export its finished spans on
// demand, such as *sdktrace.TracerProvider.
type ForceFlusher interface {
	trace.TracerProvider
	ForceFlush(ctx context.Context) error
}

// MetricTraceExportFailed counts invocations whose span flush failed: the
// collector refused or could not be reached, or the flush took longer than
// FlushTimeout (trace collection lag). Dimension FunctionName.
const MetricTraceExportFailed = "TraceExportFailed"

// boundedFlusher flushes tp with a deadline of at most FlushTimeout.
type boundedFlusher struct{ tp ForceFlusher }

// ForceFlush flushes the provider within FlushTimeout and counts a failure
// as MetricTraceExportFailed (the error itself reaches otel's error handler,
// which Init makes a warning log line).
func (f boundedFlusher) ForceFlush(ctx context.Context) error {
	// The invocation ctx may already be past its deadline when a handler ran
	// long; flush on a fresh context so the spans of a slow request still go out.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FlushTimeout)
	defer cancel()
	err := f.tp.ForceFlush(fctx)
	if err != nil {
		EmitMetric(ctx, MetricTraceExportFailed, UnitCount, 1, nil)
	}
	return err
}

// Tracing wraps each invocation in a server span created by otellambda and
// flushes tp when the invocation ends. The flusher matters: otellambda's default
// flusher does nothing, and Lambda freezes the process right after the response,
// so unflushed spans would be lost or arrive minutes late. An error returned by
// the handler is recorded on the span (see recordError). opts are passed to
// otellambda after the tracer provider and flusher, for example
// WithHTTPEventPropagation.
//
// otellambda v0.70.0 sets faas.invocation_id, aws.lambda.invoked_arn and
// cloud.account.id on the span and nothing from the event (no body, no
// headers); the headers are only read for trace context. Never pass
// otellambda.WithTraceAttributeFn with event fields: the provider built by
// Init drops every attribute outside the allowlist anyway (RedactSpans).
func Tracing(tp ForceFlusher, opts ...otellambda.Option) Middleware {
	all := append([]otellambda.Option{
		otellambda.WithTracerProvider(tp),
		otellambda.WithFlusher(boundedFlusher{tp}),
		// Set explicitly rather than read from the global at wrap time, which
		// may still be the no-op propagator.
		otellambda.WithPropagator(Propagator()),
	}, opts...)
	return func(next lambda.Handler) lambda.Handler {
		return otellambda.WrapHandler(recordError(next), all...)
	}
}

// Propagator returns the propagators the project uses: W3C trace context and
// baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// recordError marks the active span as failed when next returns an error: an
// "exception" event carrying the error's apperr code (AttrErrorCode; the error
// text in exception.message is removed by RedactSpans) and the status Error
// with the error text as description (capped by RedactSpans).
func recordError(next lambda.Handler) lambda.Handler {
	return HandlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		out, err := next.Invoke(ctx, payload)
		if err != nil {
			span := trace.SpanFromContext(ctx)
			span.RecordError(err, trace.WithAttributes(AttrErrorCode.String(string(apperr.CodeOf(err)))))
			span.SetStatus(codes.Error, err.Error())
		}
		return out, err
	})
}

// WithHTTPEventPropagation makes the invocation span continue a W3C trace
// started by the HTTP caller: it reads traceparent/tracestate/baggage from the
// headers of an API Gateway event. Without it every invocation starts a new
// trace.
func WithHTTPEventPropagation() otellambda.Option {
	return otellambda.WithEventToCarrier(httpHeadersCarrier)
}

// httpHeadersCarrier returns the event's headers with lower-cased names (API
// Gateway payload 2.0 already lower-cases them; tests and other callers may
// not), which is how the W3C propagators look them up.
func httpHeadersCarrier(eventJSON []byte) propagation.TextMapCarrier {
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	carrier := propagation.MapCarrier{}
	if err := json.Unmarshal(eventJSON, &ev); err != nil {
		return carrier
	}
	for k, v := range ev.Headers {
		carrier[strings.ToLower(k)] = v
	}
	return carrier
}
