package lambdakit

import (
	"context"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// MaxStatusDescription is the longest span status description exported, in
// bytes; a longer one is cut (at a character boundary) and ends in "…". Status
// descriptions hold error text for operators (err.Error() of a function error
// or a failed AWS call) and must stay short and free of personal data.
const MaxStatusDescription = 512

// RedactSpans returns a span processor that hands next a redacted view of
// every ended span: span, event and link attributes whose keys
// AllowedSpanAttribute rejects are removed (and counted as dropped), and the
// status description is cut to MaxStatusDescription bytes. Span names, event
// names, ids, timing, kind, status code and the resource are kept as they are.
//
// It must wrap every processor that exports (lambdakit's tracer provider wraps
// its batcher with it); a processor registered beside it sees unredacted
// spans. OnStart is passed through unchanged.
//
// Decision on errors: exception.message is not allowed, because error text can
// quote request input; exception.type stays, and Tracing adds the apperr code
// (AttrErrorCode) to the exception event. The status description keeps the
// error text, capped, for the operator.
func RedactSpans(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
	return redactingProcessor{next: next}
}

type redactingProcessor struct{ next sdktrace.SpanProcessor }

var _ sdktrace.SpanProcessor = redactingProcessor{}

// OnStart passes the span on unchanged: attributes set later would not be
// seen here anyway, so redaction happens at OnEnd.
func (p redactingProcessor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	p.next.OnStart(parent, s)
}

// OnEnd hands next the redacted view of s.
func (p redactingProcessor) OnEnd(s sdktrace.ReadOnlySpan) { p.next.OnEnd(redactSpan(s)) }

// Shutdown shuts next down.
func (p redactingProcessor) Shutdown(ctx context.Context) error { return p.next.Shutdown(ctx) }

// ForceFlush flushes next.
func (p redactingProcessor) ForceFlush(ctx context.Context) error { return p.next.ForceFlush(ctx) }

// redactedSpan is a ReadOnlySpan whose attributes, events, links and status
// were filtered; everything else comes from the embedded original.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs   []attribute.KeyValue
	dropped int
	events  []sdktrace.Event
	links   []sdktrace.Link
	status  sdktrace.Status
}

func (s *redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (s *redactedSpan) DroppedAttributes() int           { return s.dropped }
func (s *redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s *redactedSpan) Links() []sdktrace.Link           { return s.links }
func (s *redactedSpan) Status() sdktrace.Status          { return s.status }

func redactSpan(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	attrs, n := allowedAttrs(s.Attributes())
	r := &redactedSpan{
		ReadOnlySpan: s,
		attrs:        attrs,
		dropped:      s.DroppedAttributes() + n,
		status:       s.Status(),
	}
	r.status.Description = capText(r.status.Description, MaxStatusDescription)
	if evs := s.Events(); len(evs) > 0 {
		r.events = make([]sdktrace.Event, len(evs))
		for i, e := range evs {
			e.Attributes, n = allowedAttrs(e.Attributes)
			e.DroppedAttributeCount += n
			r.events[i] = e
		}
	}
	if ls := s.Links(); len(ls) > 0 {
		r.links = make([]sdktrace.Link, len(ls))
		for i, l := range ls {
			l.Attributes, n = allowedAttrs(l.Attributes)
			l.DroppedAttributeCount += n
			r.links[i] = l
		}
	}
	return r
}

// allowedAttrs returns the allowed attributes of in (a new slice) and how many
// were removed.
func allowedAttrs(in []attribute.KeyValue) ([]attribute.KeyValue, int) {
	out := make([]attribute.KeyValue, 0, len(in))
	for _, kv := range in {
		if AllowedSpanAttribute(kv.Key) {
			out = append(out, kv)
		}
	}
	return out, len(in) - len(out)
}

// capText cuts s to at most max bytes at a character boundary, ending in "…"
// when cut.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
