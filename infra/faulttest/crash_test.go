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

// kill -9 of the LIS consumer's instance in the middle of an SQS batch: five
// sample messages are sent at once and delivered by the platform's event
// source mapping; the proxy holds the first DynamoDB request naming the 4th
// message's lab order. Once that instance is the only busy one (any other
// batch has finished), the test kills it (bootstrap and emulator), sees the
// held request dropped, and releases it. The batch was not acknowledged, so
// SQS redelivers all of it after the visibility timeout to a new instance:
// every sample status is then applied exactly once.
//
// The positive control: messages of the killed batch applied before the
// crash come back and are acknowledged as duplicates. The mapping's five
// pollers may split the messages into several batches, so the 4th may be
// the first of its batch; such a round proves nothing about the mid-batch
// case and the test runs another (at most 3).
func TestCrashConsumerMidBatchAppliesEachMessageOnce(t *testing.T) {
	e := startCrashEnv(t, "LisConsumerFunction")
	// Above the function's 30 s Timeout: the killed invocation's claim lapses
	// at its deadline, before its messages come back.
	e.visibility(t, "LisEventsQueue", 35*time.Second)
	for round := range 3 {
		if dups := crashLISRound(t, e, round); dups > 0 || t.Failed() {
			return
		}
		t.Logf("round %d: the held message was the first of its batch; again", round)
	}
	t.Fatal("in 3 rounds the held message was never preceded by another of its batch: no mid-batch crash")
}

// crashLISRound runs one round and returns how many messages of the killed
// batch had been applied before the crash (acknowledged as duplicates on
// redelivery).
func crashLISRound(t *testing.T, e *crashEnv, round int) int {
	visits := seedVisits(t, e.direct, 5, func(i int) string { return fmt.Sprintf("+668%d00%04d", round+1, i) })
	const victim = 3
	order := func(i int) string { return fmt.Sprintf("LO-crash-%d-%d", round, i) }
	dupsBefore := e.duplicates("lis-sample-status")

	hold, reached, abandoned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(hold)
		}
	}()
	e.proxy.Add(faultproxy.Rule{BodyContains: `"` + order(victim) + `"`, Kind: faultproxy.Pass, Times: 1,
		Hold: hold, Reached: reached, Abandoned: abandoned})

	var entries []types.SendMessageBatchRequestEntry
	ts := time.Now().UTC().Format(time.RFC3339)
	for i, a := range visits {
		body := fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-crash-%d-%d","type":"sample.status_changed","occurredAt":%q,"appointmentId":%q,"labOrderId":%q,"sampleId":"S-1","status":"collected","sequence":1}`,
			round, i, ts, a.ID, order(i))
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body)})
	}
	out, err := e.sq.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(e.p.QueueURL("LisEventsQueue")), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("send: %v %+v", err, out)
	}

	wait(t, reached, 2*time.Minute, "the consumer never reached message "+fmt.Sprint(victim))
	busy := func() int {
		insts, err := e.p.Instances("LisConsumerFunction")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, in := range insts {
			if in.Busy {
				n++
			}
		}
		return n
	}
	poll(t, time.Minute, "LIS instances still busy besides the held one: %d", busy, func() bool { return busy() == 1 })
	if n := e.killBusy(t, "LisConsumerFunction"); n != 1 {
		t.Fatalf("killed %d busy instances, want the one whose request is held", n)
	}
	wait(t, abandoned, 30*time.Second, "the held request of the killed instance was not dropped")
	close(hold)
	released = true

	// Before the redelivery: what was applied, each message at most once
	// (each was delivered once). An applied visit's state is the control:
	// what one application of a message gives.
	var once lisState
	for i, a := range visits {
		if st := lisApplied(t, e, a.ID, order(i)); st.Steps > 0 {
			once = st
		}
	}
	if st := lisApplied(t, e, visits[victim].ID, order(victim)); st.Steps != 0 {
		t.Fatalf("the held message was applied (%+v) although its request was dropped", st)
	}

	poll(t, 3*time.Minute, "LisEventsQueue not drained after the redelivery", (func() any)(nil), func() bool {
		return e.queueIdle(t, "LisEventsQueue") && lisApplied(t, e, visits[victim].ID, order(victim)).Steps > 0
	})
	if once.Steps == 0 {
		once = lisApplied(t, e, visits[victim].ID, order(victim))
	}
	for i, a := range visits {
		got := lisApplied(t, e, a.ID, order(i))
		if got != once || got.Status != domain.SampleCollected {
			t.Errorf("visit %d (%s): %+v; once applied: %+v (sample collected)", i, a.ID, got, once)
		}
	}
	if !e.queueIdle(t, "LisEventsDLQ") {
		t.Error("messages dead-lettered")
	}
	dups := e.duplicates("lis-sample-status") - dupsBefore
	t.Logf("round %d: %d messages of the killed batch applied before the crash came back as duplicates; once applied: %+v", round, dups, once)
	return dups
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
	// A duplicate job that arrives while its original is in progress is
	// retried after the visibility timeout (180 s in the template); keep it
	// above the consumer's 30 s Timeout, as the template does.
	e.visibility(t, "NotificationsQueue", 35*time.Second)
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
	poll(t, 3*time.Minute, "confirmations not all sent, or NotificationsQueue not drained: SMS per phone %v", counts, func() bool {
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
