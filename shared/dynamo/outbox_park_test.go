package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/outbox"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
)

// putPoison writes n PENDING outbox records too large for any queue message
// (as records committed before the size check could be), created one
// millisecond apart from first, and returns their ids.
func putPoison(t *testing.T, raw *dynamodb.Client, table string, n int, first time.Time) []string {
	t.Helper()
	d := events.AppointmentData{ID: "apt_poison", Status: string(domain.StatusBooked), BranchID: "br_1", ServiceID: "svc_1",
		Start: first, End: first, Patient: events.PatientRef{ID: "pat_1"}, Version: 1, CreatedAt: first, UpdatedAt: first}
	for i := 0; len(d.Resources)*128 <= events.MaxEventBytes; i++ {
		d.Resources = append(d.Resources, fmt.Sprintf("res_%0124d", i))
	}
	data, err := json.Marshal(d)
	ok(t, err)
	var ids []string
	var batch []types.WriteRequest
	flush := func() {
		if len(batch) == 0 {
			return
		}
		_, err := raw.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
		ok(t, err)
		batch = nil
	}
	for i := range n {
		ce := events.CloudEvent{SpecVersion: events.SpecVersion, ID: fmt.Sprintf("evt_poison_%03d", i), Source: events.Source,
			Type: domain.EventAppointmentBooked, Time: first.Add(time.Duration(i) * time.Millisecond).UTC(), Subject: "apt_poison",
			DataContentType: events.ContentTypeJSON, Data: data}
		body, err := json.Marshal(ce)
		ok(t, err)
		ids = append(ids, ce.ID)
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: outboxItemOf(ce, body)}})
		if len(batch) == 25 {
			flush()
		}
	}
	flush()
	return ids
}

// TestSweepPastPoisonRecords: 200 PENDING records that can never be
// published (over the queue message limit), all older than one good record,
// do not starve the sweep: one run publishes the good record and parks the
// 200 (out of the sweep's index, listed as PARKED with the reason).
func TestSweepPastPoisonRecords(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	sqsClient := testenv.SQS(t)
	notifications, _ := testenv.NewQueue(t, sqsClient, true, 5)
	appointmentEvents, _ := testenv.NewQueue(t, sqsClient, true, 5)
	routes, err := outbox.DefaultRoutes()
	ok(t, err)
	pub, err := outbox.NewPublisher(routes, map[string]string{outbox.TargetNotifications: notifications, outbox.TargetAppointmentEvents: appointmentEvents},
		sqsx.NewBatchSender(sqsClient), s)
	ok(t, err)

	a := appt("apt_good", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	good := booked(a)
	poison := putPoison(t, raw, s.Table(), 200, good.Time.Add(-24*time.Hour))
	ok(t, s.CreateAppointment(ctx, a, booking(a), good))

	now := good.Time.Add(time.Hour)
	sw := outbox.NewSweeper(pub, s, 2*time.Minute, 100, func() time.Time { return now })
	res, err := sw.Handle(ctx, outbox.SweepRequest{})
	if err == nil {
		t.Fatal("a run with unpublishable records must count as failed")
	}
	if res.Published != 1 || res.Failed != 200 || res.Parked != 200 {
		t.Fatalf("result %+v, want 1 published, 200 failed and parked", res)
	}
	out, err := sqsClient.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(appointmentEvents), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	ok(t, err)
	if len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), good.ID) {
		t.Fatalf("appointment events queue holds %d messages, want the good event", len(out.Messages))
	}
	if it := rawItem(t, raw, s.Table(), outboxPK(good.ID), skEvent); str(it, attrOutboxStatus) != OutboxPublished {
		t.Fatalf("good record is %s", str(it, attrOutboxStatus))
	}
	it := rawItem(t, raw, s.Table(), outboxPK(poison[0]), skEvent)
	if str(it, attrOutboxStatus) != OutboxParked || num(it, attrOutboxAttempts) != 1 || !strings.Contains(str(it, attrOutboxLastError), "256 KiB") ||
		str(it, attrGSI1PK) != gsi1Parked {
		t.Fatalf("poison record: status %s, attempts %d, lastError %q, GSI1PK %q", str(it, attrOutboxStatus), num(it, attrOutboxAttempts),
			str(it, attrOutboxLastError), str(it, attrGSI1PK))
	}
	left, err := s.PendingOutbox(ctx, now.Add(365*24*time.Hour), 10)
	ok(t, err)
	if len(left) != 0 {
		t.Fatalf("%d records still pending after the run", len(left))
	}
}

// TestOutboxFailureBackoffAndPark: a record that keeps failing for a
// transient reason waits longer after each failure (it is not listed before
// its retry time) and is parked at OutboxMaxAttempts; a record published
// meanwhile is left alone.
func TestOutboxFailureBackoffAndPark(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ev := booked(a)
	ok(t, s.CreateAppointment(ctx, a, booking(a), ev))
	listed := func(before time.Time) bool {
		evs, err := s.PendingOutbox(ctx, before, 10)
		ok(t, err)
		return len(evs) == 1
	}
	when := ev.Time
	for n := 1; n < OutboxMaxAttempts; n++ {
		parked, err := s.RecordOutboxFailure(ctx, ev.ID, "outbox: notifications: sqs down", when, false)
		ok(t, err)
		if parked {
			t.Fatalf("parked after %d failures", n)
		}
		retry := when.Add(OutboxRetryBase << (n - 1))
		if listed(retry) || !listed(retry.Add(time.Millisecond)) {
			t.Fatalf("after failure %d: listed before its retry time %v, or not after it", n, retry)
		}
		when = retry
	}
	parked, err := s.RecordOutboxFailure(ctx, ev.ID, "outbox: notifications: sqs down", when, false)
	ok(t, err)
	it := rawItem(t, raw, s.Table(), outboxPK(ev.ID), skEvent)
	if !parked || str(it, attrOutboxStatus) != OutboxParked || num(it, attrOutboxAttempts) != OutboxMaxAttempts || listed(when.Add(24*time.Hour)) {
		t.Fatalf("after %d failures: parked %v, status %s, attempts %d", OutboxMaxAttempts, parked, str(it, attrOutboxStatus), num(it, attrOutboxAttempts))
	}

	// Published meanwhile: a late failure report changes nothing.
	b := appt("apt_2", "br_1", "pat_1", at(2, 10, 0), 1, "res_a")
	ev2 := booked(b)
	ok(t, s.CreateAppointment(ctx, b, booking(b), ev2))
	ok(t, s.MarkPublished(ctx, ev2.ID, ev2.Time))
	if parked, err := s.RecordOutboxFailure(ctx, ev2.ID, "late", ev2.Time, true); err != nil || parked {
		t.Fatalf("failure of a published record: parked %v, %v", parked, err)
	}
	if it := rawItem(t, raw, s.Table(), outboxPK(ev2.ID), skEvent); str(it, attrOutboxStatus) != OutboxPublished || num(it, attrOutboxAttempts) != 0 {
		t.Fatalf("published record changed: %s, attempts %d", str(it, attrOutboxStatus), num(it, attrOutboxAttempts))
	}
}
