package lambdakit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/infra/jaegerlocal"
	"github.com/labchain/appointments/shared/config"
)

// TestInitExportsOnlyAllowedAttributes runs a handler through the Runtime
// that Init builds, exporting to a real Jaeger, and reads back what the
// collector stored: the allowlist must sit in the export path Init installs.
func TestInitExportsOnlyAllowedAttributes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs Jaeger")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*jaegerlocal.StartTimeout)
	defer cancel()
	var jlog bytes.Buffer
	j, err := jaegerlocal.Start(ctx, jaegerlocal.Options{Log: &jlog})
	if errors.Is(err, jaegerlocal.ErrNoBinary) {
		t.Fatalf("%v: run `make tools`", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = j.Close()
		if t.Failed() {
			t.Logf("jaeger output:\n%s", jlog.String())
		}
	})

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPEndpoint())
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var out bytes.Buffer
	rt, err := initRuntime(ctx, config.Config{ServiceName: "redact-test", Environment: "local", LogLevel: slog.LevelInfo}, &out, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })

	const phone = "0812345678"
	var traceID string
	h := rt.Wrap(HandlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		traceID = trace.SpanContextFromContext(ctx).TraceID().String()
		_, span := rt.TracerProvider.Tracer("test").Start(ctx, "book")
		span.SetAttributes(AttrAppointmentID.String("apt-1"), attribute.String("patient.phone", phone),
			attribute.String("http.request.body", `{"phone":"`+phone+`"}`), attribute.String("enduser.id", "patient-1"))
		span.End()
		return nil, fmt.Errorf("no slot for patient %s", phone)
	}))
	if _, err := h.Invoke(invokeCtx("req-j"), []byte(`{"phone":"`+phone+`"}`)); err == nil {
		t.Fatal("want the handler's error")
	}

	wait, cancelWait := context.WithTimeout(ctx, 30*time.Second)
	defer cancelWait()
	tr, err := j.Client().WaitTrace(wait, traceID, func(tr jaegerlocal.Trace) bool { return len(tr.Spans) == 2 })
	if err != nil {
		t.Fatal(err)
	}
	book := tr.SpansNamed("book")
	if len(book) != 1 || book[0].Attributes[string(AttrAppointmentID)] != "apt-1" || book[0].Service != "redact-test" {
		t.Errorf("book span = %+v, want app.appointment_id kept", book)
	}
	for _, s := range tr.Spans {
		for k, v := range s.Attributes {
			if !AllowedSpanAttribute(attribute.Key(k)) || strings.Contains(fmt.Sprint(v), phone) {
				t.Errorf("span %q exported %s = %v", s.Operation, k, v)
			}
		}
		for _, e := range s.Events {
			for k, v := range e.Attributes {
				if !AllowedSpanAttribute(attribute.Key(k)) {
					t.Errorf("span %q event %q exported %s = %v", s.Operation, e.Name, k, v)
				}
			}
		}
	}
	var invocation jaegerlocal.Span
	for _, s := range tr.Spans {
		if s.ParentSpanID == "" {
			invocation = s
		}
	}
	if invocation.StatusCode != "ERROR" || invocation.Attributes["faas.invocation_id"] != "req-j" {
		t.Errorf("invocation span = %+v, want ERROR with faas.invocation_id", invocation)
	}
	// By design the status keeps the error text (capped) for the operator;
	// the exception event carries the code only.
	if !strings.HasPrefix(invocation.StatusDescription, "no slot") {
		t.Errorf("invocation status description = %q, want the error text", invocation.StatusDescription)
	}
	if len(invocation.Events) != 1 || invocation.Events[0].Attributes[string(AttrErrorCode)] != "INTERNAL" {
		t.Errorf("invocation events = %+v, want the exception with app.error.code", invocation.Events)
	}
}
