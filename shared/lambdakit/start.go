package lambdakit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// shutdownTimeout bounds the final flush when Lambda stops the environment; the
// runtime allows about 500 ms after SIGTERM.
const shutdownTimeout = 400 * time.Millisecond

// HTTPHandler is an API Gateway HTTP API (payload 2.0) handler.
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// TypedHandler adapts a typed handler to the byte-level lambda.Handler: it
// decodes the event from JSON (lenient: AWS may add fields to events), calls h,
// and encodes the result. A malformed event is returned as an error.
func TypedHandler[TIn, TOut any](h func(context.Context, TIn) (TOut, error)) lambda.Handler {
	return HandlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		var in TIn
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("lambdakit: decode %T event: %w", in, err)
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	})
}

// StartHTTP runs an API Gateway HTTP API handler (such as the one returned by
// httpapi.Server.Handle) under the standard middleware chain, continuing the
// caller's W3C trace from the request headers. It never returns. Build the
// function with -tags lambda.norpc.
func StartHTTP(rt *Runtime, h HTTPHandler) {
	start(rt, rt.Wrap(TypedHandler(h), WithHTTPEventPropagation()))
}

// Start runs a byte-level handler under the standard middleware chain; it is
// meant for SQS, stream and scheduled functions. It never returns.
func Start(rt *Runtime, handler lambda.Handler) {
	start(rt, rt.Wrap(handler))
}

// StartTyped runs a typed handler (JSON in and out) under the standard
// middleware chain, e.g. StartTyped(rt, func(ctx context.Context, e
// events.SQSEvent) (events.SQSEventResponse, error) {...}). It never returns.
func StartTyped[TIn, TOut any](rt *Runtime, h func(context.Context, TIn) (TOut, error)) {
	Start(rt, TypedHandler(h))
}

func start(rt *Runtime, h lambda.Handler) {
	lambda.StartWithOptions(h, lambda.WithEnableSIGTERM(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			rt.Logger.Warn("tracer shutdown failed", "error", err.Error())
		}
	}))
}
