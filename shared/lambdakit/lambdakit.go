// Package lambdakit is the plumbing every Lambda function of the project shares:
// a middleware chain over the byte-level lambda.Handler (recovery, structured
// logging, CloudWatch metrics, OpenTelemetry tracing), the Runtime built once per
// cold start, and the Start helpers a main function calls. It holds no business
// logic and knows nothing of HTTP beyond trace propagation from API Gateway
// events.
//
// A function's main looks like:
//
//	func main() {
//		rt := lambdakit.MustInit(context.Background(), config.Config.RequireTable)
//		// ... build stores and services from rt.Config and, for AWS clients,
//		// an awssdk.Load configuration (see shared/wiring) ...
//		lambdakit.StartHTTP(rt, handler)
//	}
package lambdakit

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// Middleware wraps a byte-level Lambda handler, like net/http middleware wraps
// an http.Handler, so the same cross-cutting concerns serve HTTP, SQS and
// scheduled functions alike.
type Middleware func(lambda.Handler) lambda.Handler

// HandlerFunc adapts a function to lambda.Handler.
type HandlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Chain wraps h in mws so that the first middleware is the outermost: Chain(h,
// a, b) invokes a, which invokes b, which invokes h.
func Chain(h lambda.Handler, mws ...Middleware) lambda.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
