package integrations_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/integrations"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// deadLetters records what a consumer dead-letters.
type deadLetters struct {
	mu  sync.Mutex
	got []consumer.DeadLetter
}

func (d *deadLetters) SendDeadLetter(_ context.Context, dl consumer.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, dl)
	return nil
}

func (d *deadLetters) reasons() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, dl := range d.got {
		if v := dl.Attributes[consumer.AttrFailureReason].StringValue; v != nil {
			out = append(out, *v)
		}
	}
	return out
}

var now = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)

// bookedVisit stores a booked appointment of branch br_1 and returns it.
func bookedVisit(t *testing.T, store *dynamo.Store, id string) domain.Appointment {
	t.Helper()
	bkk := time.FixedZone("ICT", 7*3600)
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, bkk)
	a := domain.Appointment{
		ID: id, Status: domain.StatusBooked, BranchID: "br_1", ServiceID: "svc_1",
		Start: start, End: start.Add(15 * time.Minute), Patient: domain.Patient{ID: "p-1", Name: "Somchai"},
		Resources: []string{"res_" + id}, Version: 1, CreatedAt: now, UpdatedAt: now,
		Cells: []domain.Cell{{ResourceID: "res_" + id, Start: start, Date: "2026-12-01"}},
	}
	h := domain.HistoryEntry{At: now, To: domain.StatusBooked, Actor: domain.ActorRef{ID: "u", Role: domain.RoleStaff}, Start: a.Start, End: a.End}
	if err := store.CreateAppointment(context.Background(), a, h, domain.AppointmentEvent("evt_"+id, domain.EventAppointmentBooked, now, a)); err != nil {
		t.Fatal(err)
	}
	return a
}

func sqsEvent(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m-%d", i), Body: b, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

func lisBody(eventID, apptID, status string, seq int) string {
	return lisOrderBody(eventID, apptID, "LO-1", status, seq)
}

func lisOrderBody(eventID, apptID, order, status string, seq int) string {
	appt := ""
	if apptID != "" {
		appt = fmt.Sprintf(`"appointmentId":%q,`, apptID)
	}
	return fmt.Sprintf(`{"schemaVersion":1,"eventId":%q,"type":"sample.status_changed","occurredAt":"2026-12-01T01:0%d:00Z",%s"labOrderId":%q,"sampleId":"S-1","status":%q,"sequence":%d}`,
		eventID, seq, appt, order, status, seq)
}

func posBody(eventID, apptID, branch, typ, value string) string {
	return fmt.Sprintf(`{"schemaVersion":1,"eventId":%q,"type":%q,"occurredAt":"2026-12-01T01:10:00Z","orderId":"ORD-1","appointmentId":%q,"branchId":%q,"amount":{"value":%q,"currency":"THB"},"items":[{"code":"CBC","name":"Complete blood count","qty":1,"price":%q}]}`,
		eventID, typ, apptID, branch, value, value)
}

// TestLISConsumerDedupes: the same eventId three times (in one batch and in
// a later one) has one effect; a malformed body is dead-lettered; an unknown
// appointment is reported as a batch item failure (retried).
func TestLISConsumerDedupes(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	a := bookedVisit(t, store, "apt_lis")
	dl := &deadLetters{}
	c := integrations.NewLISConsumer(store, dl, func() time.Time { return now })
	ctx := context.Background()

	b := lisBody("lis-1", a.ID, "collected", 1)
	resp, err := c.Handle(ctx, sqsEvent(b, b))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("first batch: %+v, %v", resp, err)
	}
	resp, err = c.Handle(ctx, sqsEvent(b))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %+v, %v", resp, err)
	}
	got, err := store.GetAppointment(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// One effect: the sample's entry and the two completion steps.
	if got.Version != a.Version+3 || got.Status != domain.StatusCompleted || len(got.LabOrders) != 1 {
		t.Fatalf("after 3 deliveries: v%d %s %+v", got.Version, got.Status, got.LabOrders)
	}
	hs, err := store.History(ctx, a.ID)
	if err != nil || len(hs) != 4 {
		t.Fatalf("history %d entries, %v", len(hs), err)
	}

	resp, err = c.Handle(ctx, sqsEvent(`{"schemaVersion":1,"eventId":"lis-bad"`, lisOrderBody("lis-2", "apt_missing", "LO-2", "collected", 1), lisBody("lis-3", "", "received", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-1" {
		t.Fatalf("failures %+v, want only the unknown appointment (m-1)", resp.BatchItemFailures)
	}
	if r := dl.reasons(); len(r) != 1 || r[0] != string(consumer.ReasonUndecodable) {
		t.Fatalf("dead letters %v", r)
	}
	if got, _ := store.GetAppointment(ctx, a.ID); got.LabOrders[0].Samples[0].Status != domain.SampleReceived {
		t.Fatalf("sample %+v", got.LabOrders[0].Samples[0])
	}
}

// TestPOSConsumerPermanentAndTransient: paid applies once however often it is
// delivered; a contradicting amount and another branch are dead-lettered
// with reason permanent; a refund before its payment is retried.
func TestPOSConsumerPermanentAndTransient(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	a := bookedVisit(t, store, "apt_pos")
	dl := &deadLetters{}
	c := integrations.NewPOSConsumer(store, dl, func() time.Time { return now })
	ctx := context.Background()

	paid := posBody("pos-1", a.ID, "br_1", "order.paid", "1250.00")
	for range 3 {
		if resp, err := c.Handle(ctx, sqsEvent(paid)); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("paid: %+v, %v", resp, err)
		}
	}
	got, err := store.GetAppointment(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != a.Version+1 || len(got.Billing) != 1 || got.Billing[0].Status != domain.BillingPaid {
		t.Fatalf("after 3 deliveries: v%d %+v", got.Version, got.Billing)
	}

	resp, err := c.Handle(ctx, sqsEvent(
		posBody("pos-2", a.ID, "br_1", "order.created", "999.00"),
		posBody("pos-3", a.ID, "br_other", "order.created", "1250.00"),
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("contradictions: %+v, %v", resp, err)
	}
	if r := dl.reasons(); fmt.Sprint(r) != "[permanent permanent]" {
		t.Fatalf("dead letters %v", r)
	}
	if again, _ := store.GetAppointment(ctx, a.ID); again.Version != got.Version {
		t.Fatalf("a contradiction was applied: v%d", again.Version)
	}

	other := bookedVisit(t, store, "apt_pos2")
	// With another record processed, the batch reports just the retry (a
	// batch whose every record failed also returns an error, as Powertools).
	resp, err = c.Handle(ctx, sqsEvent(posBody("pos-4", other.ID, "br_1", "order.refunded", "100.00"), paid))
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-0" {
		t.Fatalf("refund before payment: %+v, %v (want a retry of m-0)", resp, err)
	}
}

// TestUnknownAppointmentOnLastDelivery: an event for an appointment that
// does not exist is retried on early deliveries, and on the queue's last
// delivery dead-lettered by the consumer with a reason and a detail (not by
// SQS's redrive, which would carry neither); LIS and POS alike.
func TestUnknownAppointmentOnLastDelivery(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	ctx := context.Background()
	lisMsg := lisOrderBody("lis-x", "apt_missing", "LO-X", "collected", 1)
	posMsg := posBody("pos-x", "apt_missing", "br_1", "order.paid", "350.00")
	for name, mk := range map[string]func(dl *deadLetters) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error){
		"lis": func(dl *deadLetters) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return integrations.NewLISConsumer(store, dl, func() time.Time { return now }).Handle
		},
		"pos": func(dl *deadLetters) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return integrations.NewPOSConsumer(store, dl, func() time.Time { return now }).Handle
		},
	} {
		t.Run(name, func(t *testing.T) {
			body := lisMsg
			if name == "pos" {
				body = posMsg
			}
			dl := &deadLetters{}
			handle := mk(dl)
			for receive := 1; receive <= integrations.LastDelivery; receive++ {
				ev := sqsEvent(body)
				ev.Records[0].Attributes["ApproximateReceiveCount"] = fmt.Sprint(receive)
				// A batch whose every record failed is an invocation error.
				resp, err := handle(ctx, ev)
				last := receive == integrations.LastDelivery
				if failed := err != nil || len(resp.BatchItemFailures) == 1; failed == last {
					t.Fatalf("delivery %d: failures %+v (last %v)", receive, resp.BatchItemFailures, last)
				}
				if got := len(dl.reasons()); (got == 1) != last {
					t.Fatalf("delivery %d: %d dead letters", receive, got)
				}
			}
			if r := dl.reasons(); r[0] != string(consumer.ReasonPermanent) {
				t.Fatalf("reason %v", r)
			}
			detail := dl.got[0].Attributes[consumer.AttrFailureDetail].StringValue
			if detail == nil || !strings.Contains(*detail, "not found after 5 deliveries") {
				t.Fatalf("failure-detail %v", detail)
			}
		})
	}
}
