package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/messages"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/checkup"
)

// recordedDeadLetters records what a consumer dead-letters.
type recordedDeadLetters struct {
	mu  sync.Mutex
	got []consumer.DeadLetter
}

func (d *recordedDeadLetters) SendDeadLetter(_ context.Context, dl consumer.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, dl)
	return nil
}

func sqsBatch(prefix string, bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("%s-%d", prefix, i), Body: b, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

// drain receives and deletes every message of a queue.
func drain(t *testing.T, c *sqs.Client, url string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for empty := 0; empty < 2; {
		res, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		must(t, err)
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, m := range res.Messages {
			out = append(out, *m.Body)
			_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
			must(t, err)
		}
	}
	return out
}

// TestCheckupThroughTheConsumers runs a 300-participant roster for 36 starts
// through the real consumers, the SQS emulator and DynamoDB Local: the roster
// is delivered twice with the same eventId and once more with another, and
// every work message is delivered twice. Every start is filled once, the rest
// are no_capacity, nothing is dead-lettered.
func TestCheckupThroughTheConsumers(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	sqsC := testenv.SQS(t)
	workURL, _ := testenv.NewQueue(t, sqsC, false, 0)
	dl := &recordedDeadLetters{}
	work := &checkup.CheckupWorkSender{Sender: sqsx.NewBatchSender(sqsC), QueueURL: workURL}
	rosterC := checkup.NewCheckupRosterConsumer(f.dyn, dl, work, f.clock.Now)
	bookingC := checkup.NewCheckupBookingConsumer(f.dyn, dl, f.clock.Now)

	r := messages.CheckupRoster{SchemaVersion: 1, EventID: "roster-1", Type: messages.TypeCheckupRoster,
		OccurredAt: fixedNow, CampaignID: "acme-kit", BranchID: f.branch.ID, ServiceID: f.draw.ID,
		Window: domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"}}
	for i := range 300 {
		r.Participants = append(r.Participants, domain.RosterParticipant{ExternalID: fmt.Sprintf("emp-%03d", i),
			Name: "Employee", Phone: "+66812345678", Email: fmt.Sprintf("e%d@example.com", i), Locale: "th"})
	}
	body, err := json.Marshal(r)
	must(t, err)
	r.EventID = "roster-1-resent" // the producer sent the same roster again under a new id
	body2, err := json.Marshal(r)
	must(t, err)
	for i, b := range []string{string(body), string(body), string(body2)} {
		resp, err := rosterC.Handle(ctx, sqsBatch(fmt.Sprintf("roster%d", i), b))
		must(t, err)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("roster delivery %d failed: %+v", i, resp.BatchItemFailures)
		}
	}
	items := drain(t, sqsC, workURL)
	if len(items) != 600 { // roster-1 once (deduplicated), roster-1-resent once
		t.Fatalf("%d work messages, want 600", len(items))
	}
	for i := 0; i < len(items); i += 10 {
		batch := items[i:min(i+10, len(items))]
		for d := range 2 {
			resp, err := bookingC.Handle(ctx, sqsBatch(fmt.Sprintf("w%d-%d", i, d), batch...))
			must(t, err)
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("work batch %d failed: %+v", i, resp.BatchItemFailures)
			}
		}
	}
	if len(dl.got) != 0 {
		t.Fatalf("%d messages dead-lettered: %+v", len(dl.got), dl.got[0].Attributes)
	}

	chk := app.NewCheckup(f.svc, f.store, nil)
	rep, err := chk.CampaignReport(ctx, admin, "acme-kit")
	must(t, err)
	if len(rep.Placed) != 36 || len(rep.Unplaced) != 264 || rep.Pending != 0 {
		t.Fatalf("placed %d, unplaced %d, pending %d; want 36, 264, 0", len(rep.Placed), len(rep.Unplaced), rep.Pending)
	}
	seen := map[time.Time]bool{}
	for _, p := range rep.Placed {
		if seen[p.Start.UTC()] {
			t.Fatalf("start %v given twice", p.Start)
		}
		seen[p.Start.UTC()] = true
	}
	for _, u := range rep.Unplaced {
		if u.Reason != domain.PlacementNoCapacity {
			t.Fatalf("unplaced %+v, want no_capacity", u)
		}
	}
	page, err := f.svc.ListAppointments(ctx, admin, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01", Limit: 100})
	must(t, err)
	if len(page.Items) != 36 {
		t.Fatalf("appointments on the day = %d, want 36", len(page.Items))
	}
}
