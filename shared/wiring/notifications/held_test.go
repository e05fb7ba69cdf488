package notifications_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/notifications"
)

// esm is Lambda's SQS event source mapping over a real queue, for one
// batch: it receives what is visible, invokes the consumer, deletes the
// records it acknowledged and leaves the reported failures (with the
// visibility the consumer set) in the queue.
type esm struct {
	t   *testing.T
	sqs *sqs.Client
	url string
	c   *consumer.Consumer[notify.Job]
}

func (e esm) poll(ctx context.Context) (received int, resp lambdaevents.SQSEventResponse, err error) {
	e.t.Helper()
	out, rerr := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if rerr != nil {
		e.t.Fatal(rerr)
	}
	var ev lambdaevents.SQSEvent
	for _, m := range out.Messages {
		r := lambdaevents.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			EventSource: "aws:sqs", Attributes: m.Attributes, MessageAttributes: map[string]lambdaevents.SQSMessageAttribute{}}
		for k, v := range m.MessageAttributes {
			r.MessageAttributes[k] = lambdaevents.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue}
		}
		ev.Records = append(ev.Records, r)
	}
	if len(ev.Records) == 0 {
		return 0, resp, nil
	}
	resp, err = e.c.Handle(ctx, ev)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if err == nil && !failed[r.MessageId] {
			if _, derr := e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.url), ReceiptHandle: aws.String(r.ReceiptHandle)}); derr != nil {
				e.t.Fatal(derr)
			}
		}
	}
	return len(ev.Records), resp, err
}

// inQueue returns how many messages the queue holds, visible or not.
func inQueue(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	return n
}

// TestHeldJobsWaitOutsideTheQueue: results-ready and recollection-needed
// jobs consumed at 02:30 branch time are acknowledged (a batch of only held
// jobs reports no failure) and leave NotificationsQueue, so its age alarm
// sees no lag; the release at 07:00 sends them back and each goes out once,
// even when a release is repeated (a crash between send and delete).
func TestHeldJobsWaitOutsideTheQueue(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	sq := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, sq, true, 5)
	ctx := context.Background()
	if err := store.PutBranch(ctx, domain.Branch{ID: "br_1", Name: "Silom", TimeZone: "Asia/Bangkok", SlotMinutes: 15}); err != nil {
		t.Fatal(err)
	}
	a := bookedVisit(t, store, "apt_night")
	a, err := store.UpdateAppointment(ctx, a.ID, func(a domain.Appointment) (app.Change, error) {
		next := a
		next.Patient.Phone, next.Version = "+66810000099", a.Version+1
		h := domain.HistoryEntry{At: now, From: a.Status, To: a.Status, Actor: domain.ActorRef{ID: "u", Role: domain.RoleStaff}, Start: a.Start, End: a.End}
		return app.One(next, h, domain.AppointmentEvent("evt_phone", domain.EventAppointmentRescheduled, now, next)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sender := sqsx.NewBatchSender(sq)
	var entries []sqsx.Entry
	for i, typ := range []string{domain.EventAppointmentResultsReady, domain.EventAppointmentRecollectionNeeded} {
		ce, err := events.New(domain.AppointmentEvent("evt_held_"+strconv.Itoa(i), typ, now, a), "")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := events.Encode(ce)
		entries = append(entries, sqsx.Entry{ID: "e" + strconv.Itoa(i), Body: string(body), Attributes: map[string]string{events.AttrID: ce.ID, events.AttrType: ce.Type}})
	}
	if failed, err := sender.SendAll(ctx, url, entries); err != nil || len(failed) > 0 {
		t.Fatalf("send: %v %v", failed, err)
	}

	bkk, _ := time.LoadLocation("Asia/Bangkok")
	clock := time.Date(2026, 12, 2, 2, 30, 0, 0, bkk)
	sms := &countingSender{}
	opts, err := notifications.NotifyOptionsFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return clock }
	c := notifications.NewNotificationConsumer(store, &deadLetters{}, sqsx.NewDelayer(sq, url), map[notify.Channel]notify.Sender{notify.ChannelSMS: sms}, opts)
	lambda := esm{t: t, sqs: sq, url: url, c: c}

	n, resp, err := lambda.poll(ctx)
	if n != 2 || err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch of %d held jobs: %d failures, %v", n, len(resp.BatchItemFailures), err)
	}
	if left := inQueue(t, sq, url); left != 0 || sms.n != 0 {
		t.Fatalf("%d held jobs still in NotificationsQueue, %d SMS sent at night", left, sms.n)
	}

	release := sqsx.NewReleaser(store.Holds(dynamo.HoldsNotifications), sender, url)
	// Not yet due at 06:59.
	if rep, err := release.Run(ctx, time.Date(2026, 12, 2, 6, 59, 0, 0, bkk)); err != nil || rep.Released != 0 {
		t.Fatalf("release before 07:00: %+v %v", rep, err)
	}
	// At 07:00 both go back, and a repeated release sends copies.
	end := time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)
	held, err := store.Holds(dynamo.HoldsNotifications).Due(ctx, end.Add(time.Second), 10)
	if err != nil || len(held) != 2 {
		t.Fatalf("holds due at 07:00: %d, %v", len(held), err)
	}
	if rep, err := release.Run(ctx, end.Add(time.Second)); err != nil || rep.Released != 2 {
		t.Fatalf("release at 07:00: %+v %v", rep, err)
	}
	for _, m := range held { // a crash between the send and the delete
		if err := store.Holds(dynamo.HoldsNotifications).Hold(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := release.Run(ctx, end.Add(time.Second)); err != nil || rep.Released != 2 {
		t.Fatalf("repeated release: %+v %v", rep, err)
	}
	clock = end
	for deadline := time.Now().Add(20 * time.Second); inQueue(t, sq, url) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left in the queue", inQueue(t, sq, url))
		}
		if _, resp, err := lambda.poll(ctx); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("at 07:00: %d failures, %v", len(resp.BatchItemFailures), err)
		}
	}
	if sms.n != 2 {
		t.Fatalf("%d SMS for 2 jobs, each released twice; want one each", sms.n)
	}
	if due, _ := store.Holds(dynamo.HoldsNotifications).Due(ctx, end.Add(24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("%d holds left", len(due))
	}
}
