package lambdakit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/apperr"
)

// redactedProvider returns a tracer provider whose spans reach exp through
// RedactSpans, synchronously.
func redactedProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(RedactSpans(sdktrace.NewSimpleSpanProcessor(exp))))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func keys(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func TestRedactSpansKeepsAllowedKeysAndDropsTheRest(t *testing.T) {
	tp, exp := redactedProvider(t)
	allowed := []attribute.KeyValue{
		semconv.FaaSInvocationID("req-1"),
		semconv.CloudRegion("ap-southeast-1"),
		semconv.HTTPRoute("/v1/appointments/{id}"),
		semconv.HTTPResponseStatusCode(201),
		semconv.AWSDynamoDBTableNames("Booking"),
		semconv.MessagingMessageID("m-1"),
		AttrAppointmentID.String("apt-1"),
		AttrBranchID.String("br-1"),
		AttrNotificationChannel.String("sms"),
	}
	denied := []attribute.KeyValue{
		attribute.String("patient.name", "สมชาย ใจดี"),
		attribute.String("http.request.body", `{"phone":"0812345678"}`),
		attribute.String("enduser.id", "patient-42"),
		attribute.String("app.patient_name", "Somchai"),
		attribute.String("url.full", "https://api.example/v1?token=abc"),
		attribute.String("client.address", "203.0.113.9"),
		attribute.String("http.request.header.authorization", "Bearer x"),
	}
	_, span := tp.Tracer("t").Start(context.Background(), "POST /v1/appointments",
		trace.WithAttributes(allowed[:4]...),
		trace.WithLinks(trace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}),
			Attributes:  []attribute.KeyValue{attribute.String("link.kind", "invocation"), attribute.String("patient.phone", "0812345678")},
		}))
	span.SetAttributes(allowed[4:]...)
	span.SetAttributes(denied...)
	span.AddEvent("exception", trace.WithAttributes(
		semconv.ExceptionType("*errors.errorString"),
		semconv.ExceptionMessage("no patient 0812345678"),
		AttrErrorCode.String("NOT_FOUND"),
	))
	span.End()

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("exported %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "POST /v1/appointments" {
		t.Errorf("span name = %q, want it kept", s.Name)
	}
	got := keys(s.Attributes)
	for _, kv := range allowed {
		if got[string(kv.Key)] != kv.Value.String() {
			t.Errorf("allowed %s = %q, want %q", kv.Key, got[string(kv.Key)], kv.Value.String())
		}
	}
	for _, kv := range denied {
		if v, ok := got[string(kv.Key)]; ok {
			t.Errorf("%s = %q exported, want it dropped", kv.Key, v)
		}
	}
	if len(got) != len(allowed) || s.DroppedAttributes != len(denied) {
		t.Errorf("exported %d attributes with %d dropped, want %d and %d: %v", len(got), s.DroppedAttributes, len(allowed), len(denied), got)
	}

	if len(s.Events) != 1 {
		t.Fatalf("events = %v, want 1", s.Events)
	}
	ev := keys(s.Events[0].Attributes)
	if _, ok := ev["exception.message"]; ok || ev["exception.type"] == "" || ev["app.error.code"] != "NOT_FOUND" || s.Events[0].DroppedAttributeCount != 1 {
		t.Errorf("exception event attributes = %v (dropped %d), want type and code without message", ev, s.Events[0].DroppedAttributeCount)
	}
	if len(s.Links) != 1 {
		t.Fatalf("links = %v, want 1", s.Links)
	}
	if l := keys(s.Links[0].Attributes); len(l) != 1 || l["link.kind"] != "invocation" || s.Links[0].DroppedAttributeCount != 1 {
		t.Errorf("link attributes = %v, want only link.kind", l)
	}
}

func TestRedactSpansCapsTheStatusDescription(t *testing.T) {
	tp, exp := redactedProvider(t)
	long := strings.Repeat("ข้อผิดพลาด ", 100) // Thai: multi-byte runes
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	span.SetStatus(codes.Error, long)
	span.End()
	_, short := tp.Tracer("t").Start(context.Background(), "s2")
	short.SetStatus(codes.Error, "INTERNAL: store down")
	short.End()

	spans := exp.GetSpans()
	d := spans[0].Status.Description
	if len(d) > MaxStatusDescription || !strings.HasSuffix(d, "…") || !utf8.ValidString(d) || !strings.HasPrefix(long, strings.TrimSuffix(d, "…")) {
		t.Errorf("capped description (%d bytes) = %q", len(d), d)
	}
	if spans[0].Status.Code != codes.Error {
		t.Errorf("status code = %v, want Error", spans[0].Status.Code)
	}
	if got := spans[1].Status.Description; got != "INTERNAL: store down" {
		t.Errorf("short description = %q, want it unchanged", got)
	}
}

func TestTracingRecordsTheErrorCodeNotItsText(t *testing.T) {
	tp, exp := redactedProvider(t)
	h := Tracing(tp)(HandlerFunc(func(context.Context, []byte) ([]byte, error) {
		return nil, apperr.Wrap(errors.New("dial tcp: refused"), "load patient 0812345678")
	}))
	if _, err := h.Invoke(invokeCtx("req-x"), []byte(`{"phone":"0812345678"}`)); err == nil {
		t.Fatal("want the handler's error")
	}
	s := exp.GetSpans()[0]
	var ex map[string]string
	for _, e := range s.Events {
		if e.Name == semconv.ExceptionEventName {
			ex = keys(e.Attributes)
		}
	}
	if ex == nil || ex["app.error.code"] != string(apperr.Internal) || ex["exception.type"] != "*apperr.Error" {
		t.Errorf("exception event = %v, want app.error.code INTERNAL and the type", ex)
	}
	if _, ok := ex["exception.message"]; ok {
		t.Errorf("exception.message exported: %v", ex)
	}
	for k, v := range keys(s.Attributes) {
		if strings.Contains(v, "0812345678") {
			t.Errorf("attribute %s carries the payload: %q", k, v)
		}
	}
}

// TestAllowlistCoversWhatTheInstrumentationSets builds the attributes with the
// instrumentation's own functions, so an upgrade that renames a key fails here
// instead of silently losing it in production.
func TestAllowlistCoversWhatTheInstrumentationSets(t *testing.T) {
	var attrs []attribute.KeyValue
	// AWS calls: see TestAttributesAreAllowed in shared/awssdk.
	// otellambda (lambda.go of v0.70.0).
	attrs = append(attrs, semconv.FaaSInvocationID("r"), semconv.AWSLambdaInvokedARN("arn"), semconv.CloudAccountID("1"))
	// shared/consumer, shared/outbox, shared/httpapi.
	attrs = append(attrs, semconv.MessagingSystemAWSSQS, semconv.MessagingOperationTypeProcess, semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationName("process"), semconv.MessagingMessageID("m"), semconv.MessagingConsumerGroupName("c"),
		semconv.MessagingDestinationName("q"), attribute.String("outcome", "done"), attribute.String("link.kind", "invocation"),
		attribute.String("cloudevents.event_id", "e"), attribute.String("cloudevents.event_type", "t"),
		attribute.String("cloudevents.event_subject", "s"),
		semconv.HTTPRoute("/v1/x"), semconv.HTTPRequestMethodKey.String("GET"))
	for _, kv := range attrs {
		if !AllowedSpanAttribute(kv.Key) {
			t.Errorf("%s is set by our instrumentation but not allowed", kv.Key)
		}
	}
	if AllowedSpanAttribute("messaging.message.body") || AllowedSpanAttribute("cloudy") || AllowedSpanAttribute("exception.message") {
		t.Error("a key outside the allowlist was allowed")
	}
}
