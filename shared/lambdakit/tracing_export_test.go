package lambdakit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// failingExporter refuses every export, like an unreachable collector.
type failingExporter struct{}

func (failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("collector unreachable")
}
func (failingExporter) Shutdown(context.Context) error { return nil }

// TestTraceExportFailureCounted: a failed span flush becomes one
// TraceExportFailed EMF line of the function; a successful one none.
func TestTraceExportFailureCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		exp  sdktrace.SpanExporter
		want int
	}{
		{"collector refuses", failingExporter{}, 1},
		{"collector accepts (control)", tracetest.NewInMemoryExporter(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tc.exp))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			var buf bytes.Buffer
			h := Chain(HandlerFunc(func(context.Context, []byte) ([]byte, error) { return []byte(`{}`), nil }),
				Metrics(&buf, "fn-under-test"), Tracing(tp))
			if _, err := h.Invoke(invokeCtx("req-x"), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range jsonLines(t, &buf) {
				if v, ok := l[MetricTraceExportFailed]; ok {
					d := checkEMF(t, l)
					if v != 1.0 || l[DimensionFunctionName] != "fn-under-test" || d.AWS.CloudWatchMetrics[0].Metrics[0].Unit != string(UnitCount) {
						t.Errorf("line %v", l)
					}
					n++
				}
			}
			if n != tc.want {
				t.Errorf("%d TraceExportFailed lines, want %d:\n%s", n, tc.want, strings.TrimSpace(buf.String()))
			}
		})
	}
}
