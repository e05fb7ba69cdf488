package consumer

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/lambdakit"
)

func TestRecordSpans(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(lambdakit.Propagator())
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var eff effects
	c, _, _ := newTestConsumer(t, Options{Name: "notify", TracerProvider: tp}, &eff)

	const producerTrace = "0af7651916cd43dd8448eb211c80319c"
	tpv := "00-" + producerTrace + "-b7ad6b7169203331-01"
	withParent := record("m1", body("e1", ""))
	withParent.MessageAttributes["traceparent"] = events.SQSMessageAttribute{DataType: "String", StringValue: &tpv}
	plain := record("m2", body("e2", "transient"))
	xray := record("m3", body("e3", ""))
	xray.Attributes["AWSTraceHeader"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

	ctx, inv := tp.Tracer("test").Start(bg(), "invocation")
	if _, err := c.Handle(ctx, event(withParent, plain, xray)); err != nil {
		t.Fatal(err)
	}
	inv.End()

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		for _, a := range s.Attributes {
			if a.Key == "messaging.message.id" {
				spans[a.Value.AsString()] = s
			}
		}
	}
	if len(spans) != 3 {
		t.Fatalf("record spans = %d, want 3", len(spans))
	}
	invSC := inv.SpanContext()

	s1 := spans["m1"]
	if s1.Name != "process notify" || s1.SpanKind != trace.SpanKindConsumer {
		t.Errorf("span = %q kind %v", s1.Name, s1.SpanKind)
	}
	if s1.Parent.TraceID().String() != producerTrace || s1.Parent.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("m1 parent = %v, want the producer's traceparent", s1.Parent)
	}
	if len(s1.Links) != 1 || !s1.Links[0].SpanContext.Equal(invSC) {
		t.Errorf("m1 links = %v, want the invocation span", s1.Links)
	}

	s2 := spans["m2"]
	if s2.Parent.SpanID() != invSC.SpanID() {
		t.Errorf("m2 parent = %v, want the invocation span", s2.Parent)
	}
	if s2.Status.Code != codes.Error {
		t.Errorf("m2 (retried) status = %v", s2.Status)
	}

	s3 := spans["m3"]
	if len(s3.Links) != 1 || s3.Links[0].SpanContext.TraceID().String() != "5759e988bd862e3fe1be46a994272793" ||
		s3.Links[0].SpanContext.SpanID().String() != "53995c3f42cd8ad8" || !s3.Links[0].SpanContext.IsSampled() {
		t.Errorf("m3 links = %v, want the X-Ray trace", s3.Links)
	}

	want := map[string]map[string]string{
		"m1": {"messaging.system": "aws_sqs", "outcome": "processed", "messaging.destination.name": "bookings"},
		"m2": {"messaging.system": "aws_sqs", "outcome": "retried"},
		"m3": {"outcome": "processed"},
	}
	for id, attrs := range want {
		got := map[string]string{}
		for _, a := range spans[id].Attributes {
			got[string(a.Key)] = a.Value.String()
			if strings.Contains(a.Value.String(), secret) {
				t.Errorf("%s: attribute %s holds the body", id, a.Key)
			}
		}
		for k, v := range attrs {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", id, k, got[k], v)
			}
		}
	}
}

func TestXRayHeaderParsing(t *testing.T) {
	for _, h := range []string{
		"", "Root=1-5759e988-bd862e3fe1be46a994272793", "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
		"Root=1-5759e988-bd862e3fe1be46a99427279z;Parent=53995c3f42cd8ad8", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz",
	} {
		if _, ok := xrayLink(h); ok {
			t.Errorf("xrayLink(%q) accepted", h)
		}
	}
	l, ok := xrayLink("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a:1")
	if !ok || l.SpanContext.IsSampled() || !l.SpanContext.IsRemote() {
		t.Errorf("link = %+v, %v", l, ok)
	}
}
