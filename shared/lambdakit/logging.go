package lambdakit

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/labchain/appointments/shared/logctx"
)

// Log field names shared by every line, so queries work across functions.
const (
	// FieldRequestID is the Lambda request id (lambdacontext AwsRequestID).
	FieldRequestID = "requestId"
	// FieldFunction is the Lambda function name.
	FieldFunction = "function"
	// FieldColdStart is true on the first invocation of a process.
	FieldColdStart = "coldStart"
	// FieldTraceID is the OpenTelemetry trace id, when a span is active.
	FieldTraceID = logctx.FieldTraceID
	// FieldSpanID is the OpenTelemetry span id, when a span is active.
	FieldSpanID = logctx.FieldSpanID
)

// NewLogger returns a JSON logger writing one object per line to w, with the key
// names Lambda's JSON log format reads ("timestamp", "level", "message"), so
// Lambda's application log-level filtering sees the real level. Values of
// attributes with personal keys are replaced by Redacted (see
// RedactingHandler).
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(RedactingHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: lambdacontext.ReplaceAttr,
	})))
}

// WithLogger returns ctx carrying l, for Logger to find (logctx.With).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return logctx.With(ctx, l)
}

// Logger returns the invocation's logger put in ctx by the Logging middleware
// (its lines carry requestId, function and coldStart), or slog.Default() outside
// an invocation. When ctx has an active span, the logger also carries traceId
// and spanId so logs and traces join up (logctx.Logger).
func Logger(ctx context.Context) *slog.Logger { return logctx.Logger(ctx) }

// Logging logs the start and the end (with its duration and any error) of each
// invocation, and puts a logger carrying the request id, the function name and
// the cold start flag in ctx for Logger. It never logs payloads: they hold
// personal data.
func Logging(base *slog.Logger, functionName string) Middleware {
	var invoked atomic.Bool
	return func(next lambda.Handler) lambda.Handler {
		return HandlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
			cold := !invoked.Swap(true)
			l := base.With(FieldRequestID, requestID(ctx), FieldFunction, functionName, FieldColdStart, cold)
			ctx = WithLogger(ctx, l)

			start := time.Now()
			l.InfoContext(ctx, "invocation start")
			out, err := next.Invoke(ctx, payload)
			ms := durationMS(time.Since(start))
			if err != nil {
				l.ErrorContext(ctx, "invocation end", "durationMs", ms, "error", err.Error())
			} else {
				l.InfoContext(ctx, "invocation end", "durationMs", ms)
			}
			return out, err
		})
	}
}

// requestID returns the Lambda request id in ctx, or "" outside Lambda.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc != nil {
		return lc.AwsRequestID
	}
	return ""
}

func durationMS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
