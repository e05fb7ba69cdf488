package consumer

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the consumer's spans.
const tracerName = "github.com/labchain/appointments/shared/consumer"

// attrOutcome is the span attribute holding the record's Outcome.
var attrOutcome = attribute.Key("outcome")

// startSpan starts the record's span "process <Name>". Its parent is the
// producer's span when the message carries W3C trace context in its message
// attributes (read with the global propagator), with a link to the Lambda
// invocation's span; otherwise the invocation's span. An X-Ray
// AWSTraceHeader system attribute becomes a link as well.
func (c *Consumer[T]) startSpan(ctx context.Context, r events.SQSMessage) (context.Context, trace.Span) {
	tp := c.opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	invocation := trace.SpanContextFromContext(ctx)
	parent := otel.GetTextMapPropagator().Extract(ctx, attributeCarrier(r.MessageAttributes))

	var links []trace.Link
	if sc := trace.SpanContextFromContext(parent); sc.IsValid() && invocation.IsValid() && !sc.Equal(invocation) {
		links = append(links, trace.Link{SpanContext: invocation, Attributes: []attribute.KeyValue{attribute.String("link.kind", "invocation")}})
	}
	if l, ok := xrayLink(r.Attributes["AWSTraceHeader"]); ok {
		links = append(links, l)
	}
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemAWSSQS,
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingOperationName("process"),
		semconv.MessagingMessageID(r.MessageId),
		semconv.MessagingConsumerGroupName(c.opts.Name),
	}
	if q := queueName(r.EventSourceARN); q != "" {
		attrs = append(attrs, semconv.MessagingDestinationName(q))
	}
	return tp.Tracer(tracerName).Start(parent, "process "+c.opts.Name,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(links...),
		trace.WithAttributes(attrs...),
	)
}

// queueName returns the last part of a queue ARN, its name.
func queueName(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

// attributeCarrier reads trace context from SQS message attributes (string
// values; names matched exactly, else ignoring case).
type attributeCarrier map[string]events.SQSMessageAttribute

// Get returns the string value of the attribute named key, or "".
func (c attributeCarrier) Get(key string) string {
	if a, ok := c[key]; ok && a.StringValue != nil {
		return *a.StringValue
	}
	for k, a := range c {
		if strings.EqualFold(k, key) && a.StringValue != nil {
			return *a.StringValue
		}
	}
	return ""
}

// Set does nothing: the consumer only reads trace context.
func (c attributeCarrier) Set(string, string) {}

// Keys returns the attribute names.
func (c attributeCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// xrayLink turns an X-Ray trace header
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
// into a link; ok is false when the header is absent or malformed.
func xrayLink(h string) (trace.Link, bool) {
	if h == "" {
		return trace.Link{}, false
	}
	var root, parent string
	var flags trace.TraceFlags
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			if v == "1" {
				flags = trace.FlagsSampled
			}
		}
	}
	// Root is "1-<8 hex digits of epoch seconds>-<24 hex digits>".
	if len(root) != 35 || root[:2] != "1-" || root[10] != '-' {
		return trace.Link{}, false
	}
	tid, err := trace.TraceIDFromHex(root[2:10] + root[11:])
	if err != nil {
		return trace.Link{}, false
	}
	sid, err := trace.SpanIDFromHex(parent)
	if err != nil {
		return trace.Link{}, false
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	return trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("link.kind", "AWSTraceHeader")}}, sc.IsValid()
}
