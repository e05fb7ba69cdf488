package faulttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/infra/faultproxy"
	"github.com/labchain/appointments/infra/localdev"
	"github.com/labchain/appointments/shared/domain"
)

// lisState is what a visit's state says about how often its LIS message
// applied: the history entries naming its lab order, the visit's version,
// and the sample's status.
type lisState struct {
	Steps   int
	Version int
	Status  domain.SampleStatus
}

func lisApplied(t *testing.T, e *crashEnv, id, labOrder string) lisState {
	t.Helper()
	hs, err := e.direct.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var st lisState
	for _, h := range hs {
		if strings.Contains(h.Reason, labOrder) {
			st.Steps++
		}
	}
	a, err := e.direct.GetAppointment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	st.Version = a.Version
	for _, o := range a.LabOrders {
		if o.ID == labOrder && len(o.Samples) > 0 {
			st.Status = o.Samples[0].Status
		}
	}
	return st
}

// kill -9 of the LIS consumer's instance in the middle of an SQS batch: the
// batch of 5 sample messages is delivered by the platform's event source
// mapping; the proxy holds the first DynamoDB request of the 4th message's
// lab order, so messages before it have been applied and the 4th has begun
// (its dedupe claim is taken). The test kills the busy instance (bootstrap and
// emulator), sees the held request dropped, and releases it. The batch was
// not acknowledged, so SQS redelivers all of it after the visibility timeout
// to a new instance: every sample status is then applied exactly once, the
// messages applied before the crash coming back as duplicates.
func TestCrashConsumerMidBatchAppliesEachMessageOnce(t *testing.T) {
	e := startCrashEnv(t, "LisConsumerFunction")
	// Above the function's 30 s Timeout: the killed invocation's claim lapses
	// at its deadline, before its messages come back.
	e.visibility(t, "LisEventsQueue", 35*time.Second)
	visits := seedVisits(t, e.direct, 5, func(i int) string { return fmt.Sprintf("+6681000%04d", i) })
	const victim = 3
	order := func(i int) string { return fmt.Sprintf("LO-crash-%d", i) }

	hold, reached, abandoned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(hold)
		}
	}()
	e.proxy.Add(faultproxy.Rule{BodyContains: order(victim), Kind: faultproxy.Pass, Times: 1,
		Hold: hold, Reached: reached, Abandoned: abandoned})

	// One SendMessageBatch: the mapping receives the five together (batch
	// size 10, 1 s window) and the consumer applies them in order.
	var entries []types.SendMessageBatchRequestEntry
	ts := time.Now().UTC().Format(time.RFC3339)
	for i, a := range visits {
		body := fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-crash-%d","type":"sample.status_changed","occurredAt":%q,"appointmentId":%q,"labOrderId":%q,"sampleId":"S-1","status":"collected","sequence":1}`,
			i, ts, a.ID, order(i))
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body)})
	}
	out, err := e.sq.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(e.p.QueueURL("LisEventsQueue")), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("send: %v %+v", err, out)
	}

	wait(t, reached, 2*time.Minute, "the consumer never reached message "+fmt.Sprint(victim))
	if n := e.killBusy(t, "LisConsumerFunction"); n == 0 {
		t.Fatal("no busy LIS consumer instance to kill while its request is held")
	}
	wait(t, abandoned, 30*time.Second, "the held request of the killed instance was not dropped")
	close(hold)
	released = true

	// Before the redelivery: what the killed invocation had applied, each
	// message at most once (it was delivered once). An applied visit's state
	// is the control: what one application of a message gives.
	before := make([]lisState, len(visits))
	appliedBefore := 0
	var once lisState
	for i, a := range visits {
		before[i] = lisApplied(t, e, a.ID, order(i))
		if before[i].Steps > 0 {
			appliedBefore++
			once = before[i]
		}
	}
	if before[victim].Steps != 0 {
		t.Fatalf("the held message was applied (%+v) although its request was dropped", before[victim])
	}
	t.Logf("killed mid-batch: %d of %d messages applied before the crash; once applied: %+v", appliedBefore, len(visits), once)
	if appliedBefore == 0 {
		t.Fatal("nothing was applied before the crash: the kill was not mid-batch")
	}

	poll(t, 3*time.Minute, "LisEventsQueue not drained after the redelivery", (func() any)(nil), func() bool {
		if !e.queueIdle(t, "LisEventsQueue") {
			return false
		}
		return lisApplied(t, e, visits[victim].ID, order(victim)).Steps > 0
	})
	for i, a := range visits {
		got := lisApplied(t, e, a.ID, order(i))
		if got != once || got.Status != domain.SampleCollected {
			t.Errorf("visit %d (%s): %+v; once applied: %+v (sample collected)", i, a.ID, got, once)
		}
	}
	if !e.queueIdle(t, "LisEventsDLQ") {
		t.Error("messages dead-lettered")
	}
	// The positive control: messages applied before the crash came back
	// with the redelivered batch and were acknowledged as duplicates.
	if d := e.duplicates("lis-sample-status"); d < appliedBefore {
		t.Errorf("%d duplicates acknowledged, want at least the %d messages applied before the crash", d, appliedBefore)
	}
}

// kill -9 of the batch publisher between the SQS send and the
// mark-published write: bookings commit outbox records, the table's stream
// feeds them to the publisher, which sends every event to its queues and is
// then held at its first MarkPublished UpdateItem and killed. The stream
// mapping retries the batch on a new instance, which sends the events again
// (same ce-id) and marks them. Every event reaches AppointmentEventsQueue
// (drained here, as the outside systems do), every outbox record ends
// PUBLISHED, and the notification consumer, which receives the duplicates,
// sends each patient's confirmation exactly once.
func TestCrashPublisherBetweenSendAndMarkDeliversEveryEventOnce(t *testing.T) {
	e := startCrashEnv(t, "BatchPublisherFunction", "NotificationConsumerFunction")
	hold, reached, abandoned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(hold)
		}
	}()
	e.proxy.Add(faultproxy.Rule{Op: "UpdateItem", BodyContains: ":published", Kind: faultproxy.Pass, Times: 1,
		Hold: hold, Reached: reached, Abandoned: abandoned})
	phone := func(i int) string { return fmt.Sprintf("+6682000%04d", i) }
	visits := seedVisits(t, e.direct, 4, phone)

	wait(t, reached, 2*time.Minute, "the publisher never marked an event published")
	if n := e.killBusy(t, "BatchPublisherFunction"); n == 0 {
		t.Fatal("no busy publisher instance to kill while its mark is held")
	}
	wait(t, abandoned, 30*time.Second, "the held mark of the killed publisher was not dropped")
	close(hold)
	released = true

	poll(t, 2*time.Minute, "outbox records still PENDING after the stream retried the batch", (func() any)(nil), func() bool {
		left, err := e.direct.PendingOutbox(context.Background(), time.Now().Add(time.Hour), 100)
		return err == nil && len(left) == 0
	})
	ids := receiveEventIDs(t, e.sq, e.p.QueueURL("AppointmentEventsQueue"))
	resent := 0
	for _, a := range visits {
		switch n := ids[a.ID]; {
		case n == 0:
			t.Errorf("the booking of %s never reached AppointmentEventsQueue", a.ID)
		case n > 1:
			resent++
		}
	}
	// The positive control: the kill came after the sends, so the retried
	// batch sent its events a second time.
	if resent == 0 {
		t.Fatalf("no event was sent twice (%v): the publisher was not killed after its sends", ids)
	}

	counts := func() map[string]int {
		out := map[string]int{}
		for i := range visits {
			out[phone(i)] = sinkConfirmations(e.p, phone(i))
		}
		return out
	}
	poll(t, 2*time.Minute, "confirmations not all sent, or NotificationsQueue not drained: SMS per phone %v", counts, func() bool {
		for i := range visits {
			if sinkConfirmations(e.p, phone(i)) == 0 {
				return false
			}
		}
		return e.queueIdle(t, "NotificationsQueue")
	})
	for i, a := range visits {
		if n := sinkConfirmations(e.p, phone(i)); n != 1 {
			t.Errorf("%s: %d confirmation SMS, want exactly 1", a.ID, n)
		}
	}
	if !e.queueIdle(t, "NotificationsDLQ") {
		t.Error("notification jobs dead-lettered")
	}
	d := e.duplicates("notifications")
	t.Logf("%d of %d events sent twice; %d duplicate jobs acknowledged by the notification consumer", resent, len(visits), d)
	if d == 0 {
		t.Error("the notification consumer saw no duplicate job although events were sent twice")
	}
}

// sinkConfirmations counts the confirmation SMS the local sink received for
// a phone number.
func sinkConfirmations(p *localdev.Platform, phone string) int {
	n := 0
	for _, m := range p.Messages(localdev.SinkFilter{Channel: "sms", To: phone}) {
		if m.Kind == "confirmation" {
			n++
		}
	}
	return n
}
