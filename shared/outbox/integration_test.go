package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/infra/streamevent"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/outbox"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
)

// Integration tests: the real DynamoDB Local (stream-enabled table) and the
// real SQS emulator. The stream records are read with the DynamoDB Streams
// API and handed to the stream handler as Lambda's event source mapping
// would.

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// fixedNow is the clock of the booking use cases: 2026-11-25 17:00 Bangkok.
var fixedNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type world struct {
	ddb          *dynamodb.Client
	table        string
	store        *dynamo.Store
	svc          *app.Service
	branch       domain.Branch
	draw         domain.Service
	sqs          *sqs.Client
	queues       map[string]string
	sender       *flakySender
	pub          *outbox.Publisher
	stream       *outbox.StreamHandler
	streams      *dynamodbstreams.Client
	streamARN    string
	streamCursor map[string]string // shard → next iterator
	tracer       trace.Tracer
}

// flakySender is the real BatchSender, or "SQS down" while down is set.
type flakySender struct {
	real *sqsx.BatchSender
	down atomic.Bool
}

func (f *flakySender) SendAll(ctx context.Context, queueURL string, entries []sqsx.Entry) (map[string]error, error) {
	if f.down.Load() {
		return nil, errors.New("sqsx: SendMessageBatch: connection refused")
	}
	return f.real.SendAll(ctx, queueURL, entries)
}

var admin = domain.Actor{ID: "u-admin", Role: domain.RoleAdmin}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{}
	w.ddb, w.table = testenv.Table(t, testenv.WithStream())
	w.sqs = testenv.SQS(t)
	notifications, _ := testenv.NewQueue(t, w.sqs, true, 5)
	appointmentEvents, _ := testenv.NewQueue(t, w.sqs, true, 5)
	w.queues = map[string]string{outbox.TargetNotifications: notifications, outbox.TargetAppointmentEvents: appointmentEvents}
	w.store = dynamo.New(w.ddb, w.table)
	w.svc = app.New(w.store, func() time.Time { return fixedNow })
	ctx := context.Background()
	var err error
	w.branch, err = w.svc.CreateBranch(ctx, admin, domain.Branch{Name: "Sukhumvit"})
	must(t, err)
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	_, err = w.svc.PutHours(ctx, admin, w.branch.ID, domain.Hours{Weekly: weekly})
	must(t, err)
	_, err = w.svc.CreateResource(ctx, admin, w.branch.ID, domain.Resource{Name: "Station 1", Type: domain.ResourceCollectionStation})
	must(t, err)
	w.draw, err = w.svc.CreateService(ctx, admin, w.branch.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	must(t, err)

	routes, err := outbox.DefaultRoutes()
	must(t, err)
	bs := sqsx.NewBatchSender(w.sqs)
	bs.BaseDelay, bs.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	w.sender = &flakySender{real: bs}
	// Traced as in Lambda: lambdakit.Init installs the W3C propagator (the
	// store reads the request's traceparent through it) and a provider.
	otel.SetTextMapPropagator(lambdakit.Propagator())
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	w.tracer = tp.Tracer("test")
	w.pub, err = outbox.NewPublisher(routes, w.queues, w.sender, w.store, outbox.WithTracerProvider(tp))
	must(t, err)
	w.stream = outbox.NewStreamHandler(w.pub, dynamo.OutboxEventFromStreamImage)

	o := w.ddb.Options()
	w.streams = dynamodbstreams.New(dynamodbstreams.Options{Region: o.Region, Credentials: o.Credentials, BaseEndpoint: o.BaseEndpoint})
	desc, err := w.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(w.table)})
	must(t, err)
	w.streamARN = aws.ToString(desc.Table.LatestStreamArn)
	if w.streamARN == "" {
		t.Fatal("the table has no stream")
	}
	w.streamCursor = map[string]string{}
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func quietCtx() context.Context {
	return lambdakit.WithMetricsWriter(lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))), io.Discard, "test")
}

func (w *world) book(t *testing.T, start string, patient string) domain.Appointment {
	t.Helper()
	s, err := time.Parse(time.RFC3339, start)
	must(t, err)
	ctx, span := w.tracer.Start(context.Background(), "POST /v1/appointments")
	defer span.End()
	a, err := w.svc.Book(ctx, domain.Actor{ID: "u-" + patient, Role: domain.RolePatient, PatientID: patient},
		app.BookInput{BranchID: w.branch.ID, ServiceID: w.draw.ID, Start: s, Patient: domain.Patient{Name: "Somchai Jaidee", Locale: "th"}})
	must(t, err)
	return a
}

// readStream returns the stream records written since the last call, as
// the Lambda event source mapping delivers them (one event, shard order).
func (w *world) readStream(t *testing.T) lambdaevents.DynamoDBEvent {
	t.Helper()
	ctx := context.Background()
	desc, err := w.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(w.streamARN)})
	must(t, err)
	var ev lambdaevents.DynamoDBEvent
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, ok := w.streamCursor[id]
		if !ok {
			out, err := w.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(w.streamARN), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
			must(t, err)
			it = aws.ToString(out.ShardIterator)
		}
		for it != "" {
			out, err := w.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it)})
			must(t, err)
			for _, r := range out.Records {
				ev.Records = append(ev.Records, streamevent.Record(r, w.streamARN, aws.ToString(r.AwsRegion)))
			}
			next := aws.ToString(out.NextShardIterator)
			if len(out.Records) == 0 || next == "" {
				if next != "" {
					w.streamCursor[id] = next
				}
				break
			}
			it = next
		}
	}
	return ev
}

// message is one received SQS message.
type message struct {
	body  string
	attrs map[string]string
}

// drain receives every message of a queue (deleting them) until a receive
// comes back empty.
func (w *world) drain(t *testing.T, target string) []message {
	t.Helper()
	var out []message
	for {
		res, err := w.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.queues[target]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		must(t, err)
		if len(res.Messages) == 0 {
			return out
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range res.Messages {
			msg := message{body: aws.ToString(m.Body), attrs: map[string]string{}}
			for k, v := range m.MessageAttributes {
				msg.attrs[k] = aws.ToString(v.StringValue)
			}
			out = append(out, msg)
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), ReceiptHandle: m.ReceiptHandle})
		}
		_, err = w.sqs.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(w.queues[target]), Entries: del})
		must(t, err)
	}
}

// committedJSON is the event data (contract v1) of the appointment as
// stored now.
func (w *world) committedJSON(t *testing.T, id string) string {
	t.Helper()
	a, err := w.store.GetAppointment(context.Background(), id)
	must(t, err)
	b, err := json.Marshal(events.AppointmentDataOf(a))
	must(t, err)
	return string(b)
}

// checkBooked checks msgs is exactly one appointment.booked message for a,
// with data equal to the committed appointment, and returns its event.
func (w *world) checkBooked(t *testing.T, msgs []message, a domain.Appointment) events.CloudEvent {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want exactly 1", len(msgs))
	}
	ce, err := events.Decode([]byte(msgs[0].body))
	must(t, err)
	if ce.Type != domain.EventAppointmentBooked || ce.Subject != a.ID || msgs[0].attrs[events.AttrType] != ce.Type ||
		msgs[0].attrs[events.AttrID] != ce.ID || !events.ValidTraceParent(msgs[0].attrs[events.AttrTraceParent]) {
		t.Fatalf("message %+v", msgs[0])
	}
	if got, want := string(ce.Data), w.committedJSON(t, a.ID); got != want {
		t.Fatalf("event data:\n%s\ncommitted:\n%s", got, want)
	}
	// The trace continues from the booking request: same trace id, and the
	// message's parent is the publish span, not the request's span.
	if tp := msgs[0].attrs[events.AttrTraceParent]; !events.ValidTraceParent(ce.TraceParent) || tp[3:35] != ce.TraceParent[3:35] || tp == ce.TraceParent {
		t.Fatalf("message traceparent %s, event traceparent %s", tp, ce.TraceParent)
	}
	return ce
}

func (w *world) pending(t *testing.T) []events.CloudEvent {
	t.Helper()
	evs, err := w.store.PendingOutbox(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 100)
	must(t, err)
	return evs
}

// TestBookingIsPublishedOnceFromTheStream: a booking's stream records go
// through the batch publisher; the notifications queue gets exactly one
// appointment.booked message whose data is the committed appointment, and the
// record is no longer pending.
func TestBookingIsPublishedOnceFromTheStream(t *testing.T) {
	w := newWorld(t)
	a := w.book(t, "2026-12-01T08:00:00+07:00", "p-1001")
	batch := w.readStream(t)
	outboxInserts := 0
	for _, r := range batch.Records {
		if e, ok := r.Change.NewImage["entity"]; ok && r.EventName == "INSERT" && e.String() == "outbox" {
			outboxInserts++
		}
	}
	if outboxInserts != 1 {
		t.Fatalf("%d outbox INSERTs in the stream, want 1 (of %d records)", outboxInserts, len(batch.Records))
	}
	resp, err := w.stream.Handle(quietCtx(), batch)
	must(t, err)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	ce := w.checkBooked(t, w.drain(t, outbox.TargetNotifications), a)
	other := w.drain(t, outbox.TargetAppointmentEvents)
	if len(other) != 1 || other[0].attrs[events.AttrID] != ce.ID {
		t.Fatalf("appointment-events got %v", other)
	}
	if p := w.pending(t); len(p) != 0 {
		t.Fatalf("still pending: %v", p)
	}
	// The MODIFY that marked it published is not published again.
	resp, err = w.stream.Handle(quietCtx(), w.readStream(t))
	must(t, err)
	if len(resp.BatchItemFailures) != 0 || len(w.drain(t, outbox.TargetNotifications)) != 0 {
		t.Fatal("marking the record published produced a message")
	}

	// A cancellation goes to both queues with its own event.
	_, err = w.svc.Cancel(context.Background(), admin, a.ID, "patient called")
	must(t, err)
	_, err = w.stream.Handle(quietCtx(), w.readStream(t))
	must(t, err)
	msgs := w.drain(t, outbox.TargetNotifications)
	if len(msgs) != 1 || msgs[0].attrs[events.AttrType] != domain.EventAppointmentCancelled {
		t.Fatalf("after cancel: %v", msgs)
	}
	c, err := events.Decode([]byte(msgs[0].body))
	must(t, err)
	if string(c.Data) != w.committedJSON(t, a.ID) {
		t.Fatalf("cancel data %s", c.Data)
	}
}

// TestCrashBetweenCommitAndPublish: the stream publisher fails (SQS down) or
// never runs; the sweep delivers the event, once.
func TestCrashBetweenCommitAndPublish(t *testing.T) {
	w := newWorld(t)
	sweep := func(now time.Time) outbox.SweepResult {
		t.Helper()
		res, err := outbox.NewSweeper(w.pub, w.store, 2*time.Minute, 100, func() time.Time { return now }).Handle(quietCtx(), outbox.SweepRequest{})
		must(t, err)
		return res
	}

	// 1. The first send fails: the record is reported, so Lambda would retry
	// from it; suppose its retries are exhausted.
	a := w.book(t, "2026-12-01T08:00:00+07:00", "p-1001")
	w.sender.down.Store(true)
	batch := w.readStream(t)
	resp, err := w.stream.Handle(quietCtx(), batch)
	must(t, err)
	var outboxSeq string
	for _, r := range batch.Records {
		if r.Change.NewImage["entity"].DataType() == lambdaevents.DataTypeString && r.Change.NewImage["entity"].String() == "outbox" {
			outboxSeq = r.Change.SequenceNumber
		}
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != outboxSeq {
		t.Fatalf("failures %v, want exactly the outbox record %s", resp.BatchItemFailures, outboxSeq)
	}
	w.sender.down.Store(false)

	// 2. The publisher never ran for a second booking.
	b := w.book(t, "2026-12-01T09:00:00+07:00", "p-1002")
	if p := w.pending(t); len(p) != 2 {
		t.Fatalf("%d pending, want 2", len(p))
	}

	// The sweep leaves records younger than its minimum age to the stream...
	if res := sweep(fixedNow.Add(time.Minute)); res.Pending != 0 {
		t.Fatalf("young records swept: %+v", res)
	}
	if len(w.drain(t, outbox.TargetNotifications)) != 0 {
		t.Fatal("messages before the sweep")
	}
	// ...and publishes older ones, once.
	if res := sweep(fixedNow.Add(3 * time.Minute)); res != (outbox.SweepResult{Pending: 2, Published: 2}) {
		t.Fatalf("sweep %+v", res)
	}
	if res := sweep(fixedNow.Add(4 * time.Minute)); res.Pending != 0 {
		t.Fatalf("second sweep found %+v", res)
	}
	msgs := w.drain(t, outbox.TargetNotifications)
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].attrs[events.AttrID] < msgs[j].attrs[events.AttrID] })
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	bySubject := map[string][]message{}
	for _, m := range msgs {
		ce, err := events.Decode([]byte(m.body))
		must(t, err)
		bySubject[ce.Subject] = append(bySubject[ce.Subject], m)
	}
	w.checkBooked(t, bySubject[a.ID], a)
	w.checkBooked(t, bySubject[b.ID], b)
	if n := len(w.drain(t, outbox.TargetAppointmentEvents)); n != 2 {
		t.Fatalf("appointment-events got %d, want 2", n)
	}
}

// TestPublisherTwiceOnTheSameRecord: Lambda may deliver a stream batch twice
// (a retry after a timeout); both runs send, with the same ce-id, and neither
// sends nothing.
func TestPublisherTwiceOnTheSameRecord(t *testing.T) {
	w := newWorld(t)
	a := w.book(t, "2026-12-01T08:00:00+07:00", "p-1001")
	batch := w.readStream(t)
	for range 2 {
		resp, err := w.stream.Handle(quietCtx(), batch)
		must(t, err)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %v", resp.BatchItemFailures)
		}
	}
	msgs := w.drain(t, outbox.TargetNotifications)
	if len(msgs) != 2 || msgs[0].attrs[events.AttrID] != msgs[1].attrs[events.AttrID] || msgs[0].body != msgs[1].body {
		t.Fatalf("messages %v, want two identical ones", msgs)
	}
	w.checkBooked(t, msgs[:1], a)
}
