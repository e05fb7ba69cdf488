package outbox

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
)

// TestStreamHandlerReportsExactlyTheFailedRecords feeds a Lambda DynamoDB
// stream event (testdata: outbox INSERTs, an appointment INSERT, a MODIFY of
// an outbox record, a REMOVE of a cell, a malformed outbox record) through the
// byte-level handler, as Lambda would.
func TestStreamHandlerReportsExactlyTheFailedRecords(t *testing.T) {
	payload, err := os.ReadFile("testdata/dynamodb-stream-outbox.json")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSender{fail: map[string]error{eventsURL + " evt_04": errors.New("sqs down")}}
	m := &fakeMarker{}
	h := NewStreamHandler(newPublisher(t, s, m), dynamo.OutboxEventFromStreamImage)
	ctx, logs, emf := testCtx()
	out, err := lambdakit.TypedHandler(h.Handle).Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batchItemFailures":[{"itemIdentifier":"100000000000000000007"}]}`; string(out) != want {
		t.Fatalf("response %s, want %s", out, want)
	}
	want := "appointment-events:evt_01 appointment-events:evt_02 notifications:evt_01 notifications:evt_02"
	if got := strings.Join(s.messages(), " "); got != want {
		t.Fatalf("sent %s, want %s", got, want)
	}
	if got := strings.Join(m.ids(), " "); got != "evt_01 evt_02" {
		t.Fatalf("marked %s", got)
	}
	if v, _ := metric(t, emf, MetricMalformed); v != 1 || !strings.Contains(logs.String(), "malformed outbox record skipped") {
		t.Fatalf("malformed record: metric %v, logs %s", v, logs)
	}

	// All good: an empty list (not null), which Lambda reads as "all done".
	s.fail = nil
	out, err = lambdakit.TypedHandler(h.Handle).Invoke(ctx, payload)
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Fatalf("response %s, %v", out, err)
	}
	// The rerun sent evt_01 and evt_02 again (same ce-id: consumers dedupe)
	// and evt_04 once.
	if got := len(s.messages()); got != 4+5 {
		t.Fatalf("%d messages after the rerun, want 9", got)
	}
}

// TestRecordsBeforeV1LeaveInV1: the stream fixture holds outbox records
// written before event contract v1 (data: the whole appointment, with the
// patient's name and phone). They are published, in v1: no personal member,
// the same id.
func TestRecordsBeforeV1LeaveInV1(t *testing.T) {
	payload, err := os.ReadFile("testdata/dynamodb-stream-outbox.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(payload), "Somchai Jaidee") {
		t.Fatal("the fixture no longer holds a record before v1")
	}
	s := &fakeSender{}
	h := NewStreamHandler(newPublisher(t, s, &fakeMarker{}), dynamo.OutboxEventFromStreamImage)
	ctx, _, _ := testCtx()
	if _, err := lambdakit.TypedHandler(h.Handle).Invoke(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if len(s.accepted) == 0 {
		t.Fatal("nothing published")
	}
	for _, m := range s.accepted {
		for _, p := range []string{"Somchai", "+66812345678", `"locale"`, "preparation"} {
			if strings.Contains(m.entry.Body, p) {
				t.Fatalf("published %s", m.entry.Body)
			}
		}
		ce, err := events.Decode([]byte(m.entry.Body))
		if err != nil {
			t.Fatal(err)
		}
		var d events.AppointmentData
		if err := ce.DecodeData(&d); err != nil || d.ID != ce.Subject || d.Patient.ID != "p-1001" || ce.ID != m.entry.Attributes[events.AttrID] {
			t.Fatalf("published %s: %+v %v", m.entry.Body, d, err)
		}
	}
}
