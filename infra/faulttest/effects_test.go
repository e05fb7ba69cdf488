package faulttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/faultproxy"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	cloudevents "github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/messages"
	"github.com/labchain/appointments/shared/outbox"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

// seedBooked books n visits directly (no faults) on a branch of n stations
// and returns them.
func seedBooked(t *testing.T, store *dynamo.Store, n int) []domain.Appointment {
	t.Helper()
	svc := app.New(store, func() time.Time { return now })
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	ctx := context.Background()
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Asok", TimeZone: "Asia/Bangkok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: []domain.DayHours{{Day: "tue", Open: "07:00", Close: "16:00"}}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprintf("S%d", i), Type: domain.ResourceCollectionStation}); err != nil {
			t.Fatal(err)
		}
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := time.Parse(time.RFC3339, slot)
	var out []domain.Appointment
	for i := range n {
		p := fmt.Sprintf("p%d", i)
		a, err := svc.Book(ctx, domain.Actor{ID: "u-" + p, Role: domain.RolePatient, PatientID: p},
			app.BookInput{BranchID: br.ID, ServiceID: draw.ID, Start: start, Patient: domain.Patient{Name: "Somchai " + p, Phone: "+66812345678"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// The sweep publishes through the real SQS emulator while the mark-published
// UpdateItem is throttled beyond retries, fails, or is applied with its
// answer lost: no event is lost (each is on the queue, and a record whose
// mark failed is still pending and sent again with the same ce-id, which
// consumers deduplicate), and once the faults end every record is marked.
func TestPublisherLosesNoEventWhenMarkingFails(t *testing.T) {
	p, client, table := proxied(t)
	direct := dynamo.New(testenv.DynamoDB(t), table)
	visits := seedBooked(t, direct, 6)
	store := dynamo.New(client, table)

	sq := testenv.SQS(t)
	notifications, _ := testenv.NewQueue(t, sq, true, 5)
	apptEvents, _ := testenv.NewQueue(t, sq, true, 5)
	routes, err := outbox.DefaultRoutes()
	if err != nil {
		t.Fatal(err)
	}
	sender := sqsx.NewBatchSender(sq)
	pub, err := outbox.NewPublisher(routes, map[string]string{outbox.TargetNotifications: notifications, outbox.TargetAppointmentEvents: apptEvents}, sender, store)
	if err != nil {
		t.Fatal(err)
	}
	sweep := outbox.NewSweeper(pub, store, 2*time.Minute, 100, func() time.Time { return now.Add(time.Hour) })

	// 13 > 6 marks × 2: however the concurrent marks interleave, at least one
	// mark is throttled on all 3 of its SDK attempts, so the positive control
	// below cannot be defeated by scheduling.
	p.Add(faultproxy.Rule{Op: "UpdateItem", Kind: faultproxy.Throttle, BodyContains: ":published", Times: 13})
	p.Add(faultproxy.Rule{Op: "UpdateItem", Kind: faultproxy.ServerError, BodyContains: ":published", Times: 3})
	p.Add(faultproxy.Rule{Op: "UpdateItem", Kind: faultproxy.DropAfterWrite, BodyContains: ":published", Times: 2})
	res, _ := sweep.Handle(quietCtx(), outbox.SweepRequest{})
	if res.Pending != len(visits) {
		t.Fatalf("first sweep %+v, want %d pending", res, len(visits))
	}
	if p.Faults("UpdateItem") == 0 {
		t.Fatal("no mark was faulted")
	}
	left, err := direct.PendingOutbox(context.Background(), now.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Fatal("every mark succeeded: the faults outlasting the retries did not bite")
	}
	p.Clear()
	for range 3 {
		if res, err := sweep.Handle(quietCtx(), outbox.SweepRequest{}); err != nil || res.Pending == 0 {
			break
		}
	}
	if left, _ := direct.PendingOutbox(context.Background(), now.Add(time.Hour), 100); len(left) != 0 {
		t.Fatalf("%d records still pending", len(left))
	}
	ids := receiveEventIDs(t, sq, notifications)
	for _, a := range visits {
		if ids[a.ID] == 0 {
			t.Errorf("the booking of %s was never published", a.ID)
		}
	}
	t.Logf("%d mark faults; messages per appointment %v", p.Faults("UpdateItem"), ids)
}

// receiveEventIDs drains a queue and counts messages per subject, checking
// that every copy of one subject carries the same ce-id.
func receiveEventIDs(t *testing.T, sq *sqs.Client, url string) map[string]int {
	t.Helper()
	count, ceID := map[string]int{}, map[string]string{}
	for empty := 0; empty < 2; {
		out, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, m := range out.Messages {
			ce, err := cloudevents.Decode([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := ceID[ce.Subject]; ok && prev != ce.ID {
				t.Errorf("%s published as two different events %s and %s", ce.Subject, prev, ce.ID)
			}
			ceID[ce.Subject] = ce.ID
			count[ce.Subject]++
			if _, err := sq.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return count
}

// dropDeadLetters fails the test on any dead letter: under transient faults
// nothing is permanent.
type dropDeadLetters struct {
	t  *testing.T
	mu sync.Mutex
}

func (d *dropDeadLetters) SendDeadLetter(_ context.Context, dl consumer.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t.Errorf("dead-lettered under transient faults: %+v", dl.Attributes)
	return nil
}

// LIS messages delivered as SQS would under DynamoDB faults (failed items
// redelivered, and the whole batch delivered once more after it succeeded):
// each sample status is applied exactly once.
func TestLISConsumerUnderFaultsAppliesEachMessageOnce(t *testing.T) {
	p, client, table := proxied(t)
	direct := dynamo.New(testenv.DynamoDB(t), table)
	visits := seedBooked(t, direct, 4)
	store := dynamo.New(client, table)
	// Each delivery is 20 minutes after the last, as SQS redeliveries are
	// (visibility timeout), so a dedupe claim whose answer was lost lapses
	// as it would.
	var clock atomic.Int64
	clock.Store(now.Add(time.Hour).UnixNano())
	c := integrations.NewLISConsumer(store, &dropDeadLetters{t: t}, func() time.Time { return time.Unix(0, clock.Load()) })
	deliver := func(batch []events.SQSMessage) map[string]bool {
		clock.Add(int64(20 * time.Minute))
		return deliver(c, batch)
	}

	var msgs []events.SQSMessage
	for i, a := range visits {
		for seq, status := range []string{"collected", "received"} {
			body := fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-%d-%d","type":"sample.status_changed","occurredAt":"2026-12-01T01:0%d:00Z","appointmentId":%q,"labOrderId":"LO-%d","sampleId":"S-1","status":%q,"sequence":%d}`,
				i, seq, seq, a.ID, i, status, seq+1)
			msgs = append(msgs, events.SQSMessage{MessageId: fmt.Sprintf("m-%d-%d", i, seq), Body: body, EventSource: "aws:sqs",
				Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
		}
	}
	p.Add(faultproxy.Rule{Kind: faultproxy.Throttle, Rate: 0.2})
	p.Add(faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.TxConflict, Rate: 0.2})
	p.Add(faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.DropAfterWrite, Rate: 0.2})
	p.Add(faultproxy.Rule{Op: "PutItem", Kind: faultproxy.DropAfterWrite, Rate: 0.2})
	p.Add(faultproxy.Rule{Op: "UpdateItem", Kind: faultproxy.DropAfterWrite, Rate: 0.2})
	p.Add(faultproxy.Rule{Kind: faultproxy.ServerError, Rate: 0.05})

	todo := msgs
	for round := 1; len(todo) > 0; round++ {
		if round > 30 {
			t.Fatalf("%d messages still failing after 30 deliveries", len(todo))
		}
		failed := deliver(todo)
		var next []events.SQSMessage
		for _, m := range todo {
			if failed[m.MessageId] {
				m.Attributes = map[string]string{"ApproximateReceiveCount": fmt.Sprint(round + 1)}
				next = append(next, m)
			}
		}
		todo = next
	}
	// Redelivery of everything (a visibility timeout lapsed after success),
	// faults still on, until the whole batch succeeds.
	for i := 0; len(deliver(msgs)) > 0; i++ {
		if i == 30 {
			t.Fatal("the redelivered batch still fails after 30 deliveries")
		}
	}
	if p.Faults("") == 0 {
		t.Fatal("no fault was injected")
	}
	// The controls: the same messages once each, without faults, on fresh
	// tables, in both orders. Redelivery under faults may apply a sample's
	// "received" before its "collected"; statuses only move forward, so the
	// late "collected" is then rightly a no-op. Exactly once means the result
	// equals one of the once-each orders; applied twice would add steps.
	inOrder := lisControl(t, msgs, visits, false)
	reversed := lisControl(t, msgs, visits, true)
	for i, a := range visits {
		got, err := direct.GetAppointment(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := direct.History(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.LabOrders) != 1 || len(got.LabOrders[0].Samples) != 1 || got.LabOrders[0].Samples[0].Status != domain.SampleReceived {
			t.Errorf("%s lab orders %+v", a.ID, got.LabOrders)
		}
		res := lisOutcome{got.Version, len(hs), got.Status}
		if res != inOrder[i] && res != reversed[i] {
			t.Errorf("%s: %+v; once each without faults: %+v in order, %+v received first", a.ID, res, inOrder[i], reversed[i])
		}
	}
	t.Logf("%d faults injected", p.Faults(""))
}

// deliver hands a batch to the consumer as Lambda would and returns the
// message ids to redeliver: the reported item failures, or the whole batch
// when the handler fails as a whole (it does when every record failed).
func deliver(c *consumer.Consumer[messages.LISSampleStatus], batch []events.SQSMessage) map[string]bool {
	failed := map[string]bool{}
	resp, err := c.Handle(quietCtx(), events.SQSEvent{Records: batch})
	if err != nil {
		for _, m := range batch {
			failed[m.MessageId] = true
		}
		return failed
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	return failed
}

// lisOutcome is what a visit's state says about how often LIS steps applied.
type lisOutcome struct {
	Version int
	History int
	Status  domain.Status
}

// lisControl applies msgs (two per visit: collected, received) once each,
// without faults, to fresh visits on a fresh table, each visit's pair in
// order or reversed, and returns each visit's outcome.
func lisControl(t *testing.T, msgs []events.SQSMessage, visits []domain.Appointment, reverse bool) []lisOutcome {
	t.Helper()
	ctlDB := testenv.DynamoDB(t)
	ctl := dynamo.New(ctlDB, testenv.NewTable(t, ctlDB))
	ctlVisits := seedBooked(t, ctl, len(visits))
	c := integrations.NewLISConsumer(ctl, &dropDeadLetters{t: t}, func() time.Time { return now.Add(time.Hour) })
	for i := 0; i < len(msgs); i += 2 {
		pair := []events.SQSMessage{msgs[i], msgs[i+1]}
		if reverse {
			pair[0], pair[1] = pair[1], pair[0]
		}
		for _, m := range pair {
			m.Body = strings.Replace(m.Body, visits[i/2].ID, ctlVisits[i/2].ID, 1)
			if resp, err := c.Handle(quietCtx(), events.SQSEvent{Records: []events.SQSMessage{m}}); err != nil || len(resp.BatchItemFailures) > 0 {
				t.Fatalf("control: %+v %v", resp, err)
			}
		}
	}
	out := make([]lisOutcome, len(ctlVisits))
	for i, v := range ctlVisits {
		a, err := ctl.GetAppointment(context.Background(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := ctl.History(context.Background(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = lisOutcome{a.Version, len(hs), a.Status}
	}
	return out
}
