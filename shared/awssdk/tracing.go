package awssdk

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the AWS call spans.
const ScopeName = "github.com/labchain/appointments/shared/awssdk"

// Attribute keys of the AWS call spans beyond the semantic conventions' own
// (the same keys otelaws sets).
const (
	// RegionKey is the AWS region of the call.
	RegionKey = attribute.Key("aws.region")
	// RequestIDKey is the AWS request id of the answer.
	RequestIDKey = attribute.Key("aws.request_id")
)

// AppendTracing adds middlewares to apiOptions that make every AWS call a
// client span named "<Service>.<Operation>" on tp, with the attributes
// otelaws v0.70.0 sets (rpc.system.name, rpc.method, aws.region,
// aws.request_id, http.response.status_code, error.type, and the DynamoDB and
// SQS attributes of Attributes), and that inject the trace context into the
// HTTP request through prop.
//
// This replaces otelaws, whose attribute builders import the SNS and SQS
// clients and so linked them into every function, the health check included.
func AppendTracing(apiOptions *[]func(*middleware.Stack) error, tp trace.TracerProvider, prop propagation.TextMapPropagator) {
	m := tracing{tracer: tp.Tracer(ScopeName), prop: prop}
	*apiOptions = append(*apiOptions, m.initialize, m.finalize, m.deserialize)
}

type tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

type startKey struct{}

// initialize notes the start of the call before any other middleware runs,
// and opens the span after the initialize step (as otelaws does), so the span
// starts when the call starts.
func (m tracing) initialize(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("AppTraceStart", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (middleware.InitializeOutput, middleware.Metadata, error) {
		return next.HandleInitialize(context.WithValue(ctx, startKey{}, time.Now()), in)
	}), middleware.Before)
	if err != nil {
		return err
	}
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("AppTraceSpan", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (out middleware.InitializeOutput, md middleware.Metadata, err error) {
		service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
		name := service
		if op != "" {
			name += "." + op
		}
		start, ok := ctx.Value(startKey{}).(time.Time)
		if !ok {
			start = time.Now()
		}
		ctx, span := m.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(semconv.RPCSystemNameKey.String("aws-api"), semconv.RPCMethod(method(service, op)),
				RegionKey.String(awsmiddleware.GetRegion(ctx))))
		defer span.End()
		out, md, err = next.HandleInitialize(ctx, in)
		span.SetAttributes(Attributes(service, in.Parameters, out.Result)...)
		if err != nil {
			span.SetAttributes(semconv.ErrorType(err))
			span.SetStatus(codes.Error, err.Error())
		}
		return out, md, err
	}), middleware.After)
}

// finalize injects the trace context into the HTTP request.
func (m tracing) finalize(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("AppTracePropagation", func(
		ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
	) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			m.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
		}
		return next.HandleFinalize(ctx, in)
	}), middleware.After)
}

// deserialize records the HTTP status and the AWS request id of the answer.
func (tracing) deserialize(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("AppTraceResponse", func(
		ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
	) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
			span := trace.SpanFromContext(ctx)
			span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
			if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
				span.SetAttributes(RequestIDKey.String(id))
			}
		}
		return out, md, err
	}), middleware.Before)
}

// method is the rpc.method value: "<Service>/<Operation>".
func method(service, op string) string {
	switch {
	case service == "":
		return op
	case op == "":
		return service
	}
	return service + "/" + op
}
