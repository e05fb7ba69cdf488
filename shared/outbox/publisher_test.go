package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/sqsx"
)

const (
	notificationsURL = "https://sqs.test/1/notifications"
	eventsURL        = "https://sqs.test/1/appointment-events"
	// The traceparent of the API request that booked (recorded in the outbox).
	requestTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

var (
	t0     = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	queues = map[string]string{TargetNotifications: notificationsURL, TargetAppointmentEvents: eventsURL}
)

// cloudEvent returns a valid CloudEvent of type typ about appointment n.
func cloudEvent(t testing.TB, n int, typ string) events.CloudEvent {
	t.Helper()
	a := domain.Appointment{ID: fmt.Sprintf("apt_%d", n), Status: domain.StatusBooked, Resources: []string{}, Version: 1,
		Patient: domain.Patient{ID: "p-1", Name: "Somchai"}}
	ce, err := events.New(domain.AppointmentEvent(fmt.Sprintf("evt_%d", n), typ, t0.Add(-time.Duration(n)*time.Second), a), requestTraceParent)
	if err != nil {
		t.Fatal(err)
	}
	return ce
}

// sent is one message a fake sender accepted.
type sent struct {
	queue string
	entry sqsx.Entry
}

// fakeSender accepts every entry except those whose ce-id and queue are in
// fail (with that error); if reqErr is set, SendAll fails as a whole for
// queue reqErrQueue with nothing sent.
type fakeSender struct {
	mu          sync.Mutex
	fail        map[string]error // "<queue> <event id>" → error
	reqErr      error
	reqErrQueue string
	accepted    []sent
	calls       int
}

func (f *fakeSender) SendAll(_ context.Context, queueURL string, entries []sqsx.Entry) (map[string]error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.reqErr != nil && queueURL == f.reqErrQueue {
		return nil, f.reqErr
	}
	failed := map[string]error{}
	for _, e := range entries {
		if err := f.fail[queueURL+" "+e.Attributes[events.AttrID]]; err != nil {
			failed[e.ID] = err
			continue
		}
		f.accepted = append(f.accepted, sent{queueURL, e})
	}
	return failed, nil
}

// messages returns "queue-name:event-id" of the accepted messages, sorted.
func (f *fakeSender) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.accepted {
		out = append(out, s.queue[strings.LastIndexByte(s.queue, '/')+1:]+":"+s.entry.Attributes[events.AttrID])
	}
	sort.Strings(out)
	return out
}

// fakeMarker records marks; fail makes MarkPublished of an id fail.
type fakeMarker struct {
	mu     sync.Mutex
	fail   map[string]bool
	marked map[string]time.Time
}

func (m *fakeMarker) MarkPublished(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail[id] {
		return errors.New("dynamo: throttled")
	}
	if m.marked == nil {
		m.marked = map[string]time.Time{}
	}
	if _, again := m.marked[id]; !again {
		m.marked[id] = at
	}
	return nil
}

func (m *fakeMarker) ids() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id := range m.marked {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// testCtx returns a context whose logs and metrics go to buffers.
func testCtx() (context.Context, *bytes.Buffer, *bytes.Buffer) {
	var logs, metrics bytes.Buffer
	ctx := lambdakit.WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)))
	return lambdakit.WithMetricsWriter(ctx, &metrics, "batch-publisher"), &logs, &metrics
}

// metric returns the value of the named metric in the EMF lines (the last
// one), and whether it was emitted.
func metric(t *testing.T, emf *bytes.Buffer, name string) (float64, bool) {
	t.Helper()
	var v float64
	found := false
	for _, line := range strings.Split(strings.TrimSpace(emf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		if x, ok := m[name].(float64); ok {
			v, found = x, true
		}
	}
	return v, found
}

func newPublisher(t *testing.T, s Sender, m Marker, opts ...Option) *Publisher {
	t.Helper()
	r, err := DefaultRoutes()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(r, queues, s, m, append([]Option{WithClock(func() time.Time { return t0 })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishSendsEachEventToItsTargetsAndMarksIt(t *testing.T) {
	s, m := &fakeSender{}, &fakeMarker{}
	p := newPublisher(t, s, m)
	ctx, _, emf := testCtx()
	booked := cloudEvent(t, 1, domain.EventAppointmentBooked)
	checkedIn := cloudEvent(t, 2, domain.EventAppointmentCheckedIn)
	failed := p.Publish(ctx, []events.CloudEvent{booked, checkedIn, booked}) // a duplicate is sent once
	if len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	want := []string{"appointment-events:evt_1", "appointment-events:evt_2", "notifications:evt_1"}
	if got := s.messages(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if s.calls != 2 {
		t.Fatalf("%d SendAll calls, want one per target", s.calls)
	}
	body, _ := events.Encode(booked)
	for _, msg := range s.accepted {
		if msg.entry.Attributes[events.AttrID] != booked.ID {
			continue
		}
		if msg.entry.Body != string(body) {
			t.Fatalf("body %s, want the CloudEvent JSON %s", msg.entry.Body, body)
		}
		if msg.entry.Attributes[events.AttrType] != domain.EventAppointmentBooked || !events.ValidTraceParent(msg.entry.Attributes[events.AttrTraceParent]) {
			t.Fatalf("attributes %v", msg.entry.Attributes)
		}
	}
	if got := m.ids(); strings.Join(got, " ") != "evt_1 evt_2" || !m.marked["evt_1"].Equal(t0) {
		t.Fatalf("marked %v", m.marked)
	}
	if v, _ := metric(t, emf, MetricPublished); v != 2 {
		t.Fatalf("OutboxPublished = %v", v)
	}
	if v, _ := metric(t, emf, MetricPublishLag); v != 2000 {
		t.Fatalf("OutboxPublishLag = %v, want 2000 (the older event)", v)
	}
	if len(p.Publish(ctx, nil)) != 0 {
		t.Fatal("nothing to publish failed")
	}
}

func TestPartialFailureFailsOnlyThoseEvents(t *testing.T) {
	s := &fakeSender{fail: map[string]error{notificationsURL + " evt_2": &sqsx.EntryError{ID: "x", Code: "InternalError"}}}
	m := &fakeMarker{}
	p := newPublisher(t, s, m)
	ctx, logs, emf := testCtx()
	evs := []events.CloudEvent{
		cloudEvent(t, 1, domain.EventAppointmentBooked),
		cloudEvent(t, 2, domain.EventAppointmentCancelled), // notifications refuses it
		cloudEvent(t, 3, domain.EventAppointmentRescheduled),
	}
	failed := p.Publish(ctx, evs)
	if len(failed) != 1 || failed["evt_2"] == nil || !strings.Contains(failed["evt_2"].Error(), "notifications") {
		t.Fatalf("failed %v, want only evt_2 on notifications", failed)
	}
	// evt_2 did reach appointment-events; it is not marked, so it is sent
	// again later (consumers dedupe by id).
	if got := strings.Join(m.ids(), " "); got != "evt_1 evt_3" {
		t.Fatalf("marked %s", got)
	}
	if !strings.Contains(logs.String(), `"eventId":"evt_2"`) {
		t.Fatalf("failure not logged: %s", logs)
	}
	if v, _ := metric(t, emf, MetricPublishFailed); v != 1 {
		t.Fatalf("OutboxPublishFailed = %v", v)
	}

	// A whole request failing (nothing sent to that queue) fails every event
	// routed there, and only those.
	s2 := &fakeSender{reqErr: errors.New("sqsx: SendMessageBatch: AccessDenied"), reqErrQueue: notificationsURL}
	m2 := &fakeMarker{}
	failed = newPublisher(t, s2, m2).Publish(ctx, append(evs, cloudEvent(t, 4, domain.EventAppointmentCompleted)))
	if len(failed) != 3 || failed["evt_4"] != nil {
		t.Fatalf("failed %v, want the three routed to notifications", failed)
	}
	if got := strings.Join(m2.ids(), " "); got != "evt_4" {
		t.Fatalf("marked %s", got)
	}
}

func TestMarkFailureIsTolerated(t *testing.T) {
	s, m := &fakeSender{}, &fakeMarker{fail: map[string]bool{"evt_1": true}}
	p := newPublisher(t, s, m)
	ctx, logs, emf := testCtx()
	failed := p.Publish(ctx, []events.CloudEvent{cloudEvent(t, 1, domain.EventAppointmentBooked), cloudEvent(t, 2, domain.EventAppointmentBooked)})
	if len(failed) != 0 {
		t.Fatalf("a failed mark made the event fail: %v", failed)
	}
	if len(s.accepted) != 4 || strings.Join(m.ids(), " ") != "evt_2" {
		t.Fatalf("sent %d, marked %v", len(s.accepted), m.ids())
	}
	if !strings.Contains(logs.String(), "published but not marked") {
		t.Fatalf("not logged: %s", logs)
	}
	if v, _ := metric(t, emf, MetricMarkFailed); v != 1 {
		t.Fatalf("OutboxMarkFailed = %v", v)
	}
}

func TestUnroutedAndUnencodableEventsFail(t *testing.T) {
	s, m := &fakeSender{}, &fakeMarker{}
	p := newPublisher(t, s, m)
	ctx, _, _ := testCtx()
	unrouted := cloudEvent(t, 1, "lis.sample_collected")
	broken := cloudEvent(t, 2, domain.EventAppointmentBooked)
	broken.SpecVersion = "0.3"
	ok := cloudEvent(t, 3, domain.EventAppointmentNoShow)
	failed := p.Publish(ctx, []events.CloudEvent{unrouted, broken, ok})
	if !errors.Is(failed["evt_1"], ErrUnrouted) || !errors.Is(failed["evt_2"], events.ErrInvalid) || len(failed) != 2 {
		t.Fatalf("failed %v", failed)
	}
	if got := strings.Join(s.messages(), " "); got != "appointment-events:evt_3" {
		t.Fatalf("sent %s", got)
	}
	if got := strings.Join(m.ids(), " "); got != "evt_3" {
		t.Fatalf("marked %s", got)
	}
}

func TestNewPublisherNeedsEveryRoutedQueue(t *testing.T) {
	r, _ := DefaultRoutes()
	_, err := NewPublisher(r, map[string]string{TargetAppointmentEvents: eventsURL}, &fakeSender{}, &fakeMarker{})
	if err == nil || !strings.Contains(err.Error(), "notifications") {
		t.Fatalf("err = %v", err)
	}
}

// TestPublishSpanContinuesTheRequestTrace: each event gets a producer span
// whose parent is the span of the request that recorded it, linked to the
// invocation; the message carries that span's traceparent.
func TestPublishSpanContinuesTheRequestTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := &fakeSender{}
	p := newPublisher(t, s, &fakeMarker{}, WithTracerProvider(tp))
	ctx, _, _ := testCtx()
	ctx, inv := tp.Tracer("test").Start(ctx, "invocation")
	untraced := cloudEvent(t, 2, domain.EventAppointmentCompleted)
	untraced.TraceParent = ""
	p.Publish(ctx, []events.CloudEvent{cloudEvent(t, 1, domain.EventAppointmentBooked), untraced})
	inv.End()

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		spans[sp.Name()] = sp
	}
	pub := spans["publish appointment.booked"]
	if pub == nil {
		t.Fatalf("spans %v", spans)
	}
	if pub.SpanKind() != trace.SpanKindProducer || pub.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		pub.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("publish span kind %v parent %v", pub.SpanKind(), pub.Parent())
	}
	if links := pub.Links(); len(links) != 1 || links[0].SpanContext.SpanID() != inv.SpanContext().SpanID() {
		t.Fatalf("links %v, want the invocation span", links)
	}
	want := fmt.Sprintf("00-%s-%s-01", pub.SpanContext().TraceID(), pub.SpanContext().SpanID())
	for _, msg := range s.accepted {
		if msg.entry.Attributes[events.AttrID] == "evt_1" && msg.entry.Attributes[events.AttrTraceParent] != want {
			t.Fatalf("message traceparent %s, want the publish span's %s", msg.entry.Attributes[events.AttrTraceParent], want)
		}
	}
	// An event recorded without a trace continues the invocation's.
	if sp := spans["publish appointment.completed"]; sp == nil || sp.Parent().SpanID() != inv.SpanContext().SpanID() {
		t.Fatalf("untraced event span parent %v", sp)
	}
}

// batchAPI is a fake SendMessageBatch that refuses chosen entries a number of
// times (retryable, service fault) or for good (sender fault), by ce-id.
type batchAPI struct {
	mu        sync.Mutex
	transient map[string]int // ce-id → failures left
	permanent map[string]bool
	requests  [][]string // ce-ids of each request
	accepted  map[string]int
}

func (b *batchAPI) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	var ids []string
	for _, e := range in.Entries {
		id := aws.ToString(e.MessageAttributes[events.AttrID].StringValue)
		ids = append(ids, id)
		switch {
		case b.permanent[id]:
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), SenderFault: true})
		case b.transient[id] > 0:
			b.transient[id]--
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
		default:
			b.accepted[id]++
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + id)})
		}
	}
	b.requests = append(b.requests, ids)
	return out, nil
}

// TestWithBatchSenderOnlyFailedEntriesAreRetried runs the publisher over the
// real sqsx.BatchSender: 12 events to one queue go in chunks of 10 and 2; the
// entry refused once is the only one sent again; the one refused for good is
// the only event reported.
func TestWithBatchSenderOnlyFailedEntriesAreRetried(t *testing.T) {
	api := &batchAPI{transient: map[string]int{"evt_3": 1}, permanent: map[string]bool{"evt_7": true}, accepted: map[string]int{}}
	bs := sqsx.NewBatchSender(api)
	bs.BaseDelay, bs.MaxDelay = time.Millisecond, time.Millisecond
	m := &fakeMarker{}
	p := newPublisher(t, bs, m)
	ctx, _, _ := testCtx()
	var evs []events.CloudEvent
	for i := 1; i <= 12; i++ {
		evs = append(evs, cloudEvent(t, i, domain.EventAppointmentCheckedIn)) // appointment-events only
	}
	failed := p.Publish(ctx, evs)
	if len(failed) != 1 || failed["evt_7"] == nil {
		t.Fatalf("failed %v, want only evt_7", failed)
	}
	if len(api.requests) != 3 || len(api.requests[0]) != 10 || len(api.requests[1]) != 2 ||
		strings.Join(api.requests[2], ",") != "evt_3" {
		t.Fatalf("requests %v, want 10 + 2 entries, then only evt_3", api.requests)
	}
	for i := 1; i <= 12; i++ {
		id := fmt.Sprintf("evt_%d", i)
		if want := map[bool]int{true: 0, false: 1}[id == "evt_7"]; api.accepted[id] != want {
			t.Errorf("%s accepted %d times, want %d", id, api.accepted[id], want)
		}
	}
	if len(m.ids()) != 11 {
		t.Fatalf("marked %v", m.ids())
	}
}
