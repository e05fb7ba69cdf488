// Package outbox publishes the events that appointment changes record in the
// transactional outbox (see shared/dynamo/outbox.go) to the queues of their
// targets: the batch publisher (old system's wrk--batch-publisher), fed by the
// table's stream, and the sweep, which publishes records the stream path left
// PENDING.
//
// Publication is at least once: an event is marked PUBLISHED only after every
// target accepted it, and a crash, a failed send or a failed mark leads to a
// resend with the same CloudEvent id. Consumers deduplicate by that id.
//
// Where each event type goes is data: routes.json, embedded and validated at
// load (see ParseRoutes).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/sqsx"
)

// Sender sends messages to one queue, retrying entries that failed, and
// reports the entries that finally were not accepted (by entry id). err is
// non-nil when the call did not run to the end; failed then lists every entry
// not known to be accepted, or is nil if nothing was sent.
// *sqsx.BatchSender implements it.
type Sender interface {
	SendAll(ctx context.Context, queueURL string, entries []sqsx.Entry) (failed map[string]error, err error)
}

// Marker records that an event was published to every target; it must be
// idempotent. *dynamo.Store implements it.
type Marker interface {
	MarkPublished(ctx context.Context, eventID string, at time.Time) error
}

// ErrUnrouted is the failure of an event whose type has no route. It is not
// marked published, so the sweep publishes it once a publisher that knows
// the type is deployed.
var ErrUnrouted = errors.New("outbox: no route for the event type")

// markParallelism bounds the concurrent MarkPublished calls of one Publish.
const markParallelism = 8

// Metric names the publisher emits (CloudWatch EMF, namespace
// lambdakit.Namespace).
const (
	// MetricPublished counts events accepted by every target.
	MetricPublished = "OutboxPublished"
	// MetricPublishFailed counts events not accepted by every target.
	MetricPublishFailed = "OutboxPublishFailed"
	// MetricMarkFailed counts published events whose MarkPublished failed.
	MetricMarkFailed = "OutboxMarkFailed"
	// MetricPublishLag is the largest delay, in milliseconds, between an
	// event's time and its publication in one call.
	MetricPublishLag = "OutboxPublishLag"
)

// Publisher publishes outbox events to the queues of their targets. Build it
// once per cold start; it is safe for concurrent use.
type Publisher struct {
	routes Routes
	queues map[string]string
	sender Sender
	marker Marker
	now    func() time.Time
	tracer trace.Tracer
}

// Option configures a Publisher.
type Option func(*Publisher)

// WithTracerProvider sets where the per-event spans go (default: the global
// provider, which lambdakit.Init installs).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(p *Publisher) { p.tracer = tp.Tracer(tracerName) }
}

// WithClock sets the clock of publishedAt (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(p *Publisher) { p.now = now }
}

const tracerName = "github.com/labchain/appointments/shared/outbox"

// NewPublisher returns a publisher over a routing table and the queue URL of
// each target (see QueueURLs). It is an error for a routed target to have no
// queue URL.
func NewPublisher(routes Routes, queues map[string]string, sender Sender, marker Marker, opts ...Option) (*Publisher, error) {
	var missing []string
	for typ, targets := range routes {
		for _, t := range targets {
			if queues[t] == "" {
				missing = append(missing, typ+"→"+t)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("outbox: no queue URL for %s", strings.Join(missing, ", "))
	}
	p := &Publisher{
		routes: routes,
		queues: queues,
		sender: sender,
		marker: marker,
		now:    time.Now,
		tracer: otel.GetTracerProvider().Tracer(tracerName),
	}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Sender returns the sender the publisher sends with.
func (p *Publisher) Sender() Sender { return p.sender }

// pending is one event being published.
type pending struct {
	ce      events.CloudEvent
	entry   sqsx.Entry // ID is unique within one Publish call
	targets []string
	span    trace.Span
	err     error // why it was not accepted by every target
}

// Publish sends each event (once per id; later duplicates in evs are ignored)
// to every target of its type as one SQS message: body the CloudEvent JSON
// with its data in event contract v1 (events.Upgrade),
// message attributes ce-id, ce-type and traceparent (of the event's publish
// span, a child of the request that made the change). Events accepted by
// every target are then marked published; a failure to mark is logged and
// counted, not returned, since the sweep may only resend what consumers
// deduplicate anyway. It returns, by event id, the events that were not
// accepted by every target and why (ErrUnrouted for an unrouted type); those
// are not marked.
func (p *Publisher) Publish(ctx context.Context, evs []events.CloudEvent) map[string]error {
	failed := map[string]error{}
	if len(evs) == 0 {
		return failed
	}
	log := lambdakit.Logger(ctx)
	var items []*pending
	seen := make(map[string]bool, len(evs))
	byTarget := map[string][]*pending{}
	for _, ce := range evs {
		if seen[ce.ID] {
			continue
		}
		seen[ce.ID] = true
		it := &pending{ce: ce, targets: p.routes.Targets(ce.Type)}
		it.span = p.startSpan(ctx, ce, it)
		it.entry.ID = "e" + strconv.Itoa(len(items))
		items = append(items, it)
		if it.err != nil {
			continue
		}
		if len(it.targets) == 0 {
			it.err = fmt.Errorf("%w %q", ErrUnrouted, ce.Type)
			continue
		}
		for _, t := range it.targets {
			byTarget[t] = append(byTarget[t], it)
		}
	}

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for target, its := range byTarget {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries := make([]sqsx.Entry, len(its))
			for i, it := range its {
				entries[i] = it.entry
			}
			bad, err := p.sender.SendAll(ctx, p.queues[target], entries)
			mu.Lock()
			defer mu.Unlock()
			for _, it := range its {
				e, isBad := bad[it.entry.ID]
				if !isBad && err != nil && bad == nil {
					e, isBad = err, true // nothing was sent
				}
				if isBad {
					it.err = errors.Join(it.err, fmt.Errorf("outbox: %s: %w", target, e))
				}
			}
		}()
	}
	wg.Wait()

	now := p.now()
	var (
		published  []*pending
		lag        time.Duration
		markFailed int
		markMu     sync.Mutex
		sem        = make(chan struct{}, markParallelism)
		markWG     sync.WaitGroup
	)
	for _, it := range items {
		if it.err != nil {
			failed[it.ce.ID] = it.err
			log.ErrorContext(ctx, "outbox event not published", "eventId", it.ce.ID, "eventType", it.ce.Type, "error", it.err.Error())
			continue
		}
		published = append(published, it)
		lag = max(lag, now.Sub(it.ce.Time))
		markWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer markWG.Done()
			defer func() { <-sem }()
			if err := p.marker.MarkPublished(ctx, it.ce.ID, now); err != nil {
				markMu.Lock()
				markFailed++
				markMu.Unlock()
				it.span.AddEvent("mark published failed", trace.WithAttributes(attribute.String("error", err.Error())))
				log.WarnContext(ctx, "outbox event published but not marked; the sweep may publish it again",
					"eventId", it.ce.ID, "eventType", it.ce.Type, "error", err.Error())
			}
		}()
	}
	markWG.Wait()
	for _, it := range items {
		if it.err != nil {
			it.span.RecordError(it.err)
			it.span.SetStatus(codes.Error, "not published to every target")
		}
		it.span.End()
	}

	lambdakit.EmitMetric(ctx, MetricPublished, lambdakit.UnitCount, float64(len(published)), nil)
	lambdakit.EmitMetric(ctx, MetricPublishFailed, lambdakit.UnitCount, float64(len(failed)), nil)
	if markFailed > 0 {
		lambdakit.EmitMetric(ctx, MetricMarkFailed, lambdakit.UnitCount, float64(markFailed), nil)
	}
	if len(published) > 0 {
		lambdakit.EmitMetric(ctx, MetricPublishLag, lambdakit.UnitMilliseconds, float64(lag.Milliseconds()), nil)
	}
	return failed
}

// startSpan starts the event's producer span, a child of the request that
// recorded the event (its outbox traceparent) and linked to the invocation's
// span, and prepares its message (body and attributes, with the span's
// traceparent). An event that cannot be encoded gets it.err.
func (p *Publisher) startSpan(ctx context.Context, ce events.CloudEvent, it *pending) trace.Span {
	parent := ctx
	if ce.TraceParent != "" {
		parent = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{events.AttrTraceParent: ce.TraceParent})
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "aws_sqs"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", strings.Join(it.targets, ",")),
			attribute.String("cloudevents.event_id", ce.ID),
			attribute.String("cloudevents.event_type", ce.Type),
			attribute.String("cloudevents.event_subject", ce.Subject),
		),
	}
	if inv := trace.SpanContextFromContext(ctx); inv.IsValid() && parent != ctx {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: inv}))
	}
	sctx, span := p.tracer.Start(parent, "publish "+ce.Type, opts...)

	// A record written before event contract v1 leaves in v1 (no personal
	// data); a v1 record is unchanged.
	ce, err := events.Upgrade(ce)
	if err != nil {
		it.err = err
		return span
	}
	body, err := events.Encode(ce)
	if err != nil {
		it.err = err
		return span
	}
	attrs := map[string]string{events.AttrID: ce.ID, events.AttrType: ce.Type}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(sctx, carrier)
	if tp := carrier.Get(events.AttrTraceParent); tp != "" {
		attrs[events.AttrTraceParent] = tp
	}
	it.entry = sqsx.Entry{Body: string(body), Attributes: attrs}
	return span
}
