package e2e

import (
	"context"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/localdev"
)

// published is one message read from a queue.
type published struct {
	ID, Type, Subject string
	Data              map[string]any
	Attributes        map[string]string
}

func sqsClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "ap-southeast-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// collect drains a queue for d, deleting what it reads, and returns the
// messages whose CloudEvent subject is subject.
func collect(t *testing.T, c *sqs.Client, url, subject string, d time.Duration) []published {
	t.Helper()
	var out []published
	ctx := context.Background()
	for end := time.Now().Add(d); time.Now().Before(end); {
		res, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			var ev struct {
				SpecVersion string         `json:"specversion"`
				ID          string         `json:"id"`
				Type        string         `json:"type"`
				Subject     string         `json:"subject"`
				Data        map[string]any `json:"data"`
			}
			if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil || ev.SpecVersion != "1.0" {
				t.Fatalf("not a CloudEvent: %s (%v)", *m.Body, err)
			}
			if c, err := eventContract(); err != nil {
				t.Fatal(err)
			} else if err := c.Validate([]byte(*m.Body)); err != nil {
				t.Errorf("a published event breaks the event contract: %v\n%s", err, *m.Body)
			}
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			if ev.Subject != subject {
				continue
			}
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			out = append(out, published{ID: ev.ID, Type: ev.Type, Subject: ev.Subject, Data: ev.Data, Attributes: attrs})
		}
	}
	return out
}

// TestBookingPublishesItsEventOnce: a booking → exactly one appointment.booked
// message on the outbound appointment-events queue, carrying the appointment
// as committed, in event contract v1 (no personal data). (The notifications queue gets the same publication,
// but its consumer runs here: notifications_test.go shows that job's effect,
// exactly one message per channel.)
func TestBookingPublishesItsEventOnce(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay()
	a := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-ev", PatientID: "p-ev"})
	var booked appt
	a.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, at(day, "13:00"), ""), "Idempotency-Key", "k-events-1").decode(t, &booked)
	var committed map[string]any
	a.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+booked.ID, nil).decode(t, &committed)

	c := sqsClient(platform.SQSEndpoint())
	for _, q := range []string{"AppointmentEventsQueue"} {
		msgs := collect(t, c, platform.QueueURL(q), booked.ID, 8*time.Second)
		if len(msgs) != 1 {
			t.Fatalf("%s: %d messages for the booking, want exactly 1: %+v", q, len(msgs), msgs)
		}
		m := msgs[0]
		if m.Type != "appointment.booked" || m.Attributes["ce-type"] != "appointment.booked" || m.Attributes["ce-id"] != m.ID {
			t.Fatalf("%s: type %s, attributes %v", q, m.Type, m.Attributes)
		}
		// The data is the committed appointment in event contract v1: the
		// same ids, status, times, resources and version; the patient by id
		// only (the contract check in collect rejects any other member).
		for _, k := range []string{"id", "status", "branchId", "serviceId", "start", "end", "resources", "version", "createdAt", "updatedAt"} {
			if !reflect.DeepEqual(m.Data[k], committed[k]) {
				t.Fatalf("%s: data.%s %v, committed %v", q, k, m.Data[k], committed[k])
			}
		}
		if want := map[string]any{"id": "p-ev"}; !reflect.DeepEqual(m.Data["patient"], want) {
			t.Fatalf("%s: data.patient %v, want %v", q, m.Data["patient"], want)
		}
		if len(m.Attributes["traceparent"]) != 55 {
			t.Errorf("%s: traceparent attribute %q", q, m.Attributes["traceparent"])
		}
	}

	// A cancellation is published too, after the booking.
	a.expect(200, "POST", "/v1/appointments/{id}/cancel", "/v1/appointments/"+booked.ID+"/cancel", map[string]any{"reason": "changed plans"})
	msgs := collect(t, c, platform.QueueURL("AppointmentEventsQueue"), booked.ID, 6*time.Second)
	if len(msgs) != 1 || msgs[0].Type != "appointment.cancelled" || msgs[0].Data["status"] != "cancelled" {
		t.Fatalf("after cancel: %+v", msgs)
	}
}

// TestOutboxSurvivesADeadPublisher: with the stream publisher not running (as
// if it died between the commit and the send), nothing is published; the
// scheduled sweep then delivers the event, once.
func TestOutboxSurvivesADeadPublisher(t *testing.T) {
	start(t) // builds the functions once; this test runs its own platform without event sources
	if testing.Short() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dead, err := localdev.Start(ctx, localdev.Options{Log: io.Discard, FunctionLog: io.Discard, NoEventSources: true, NoSchedules: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	prev := platform
	platform = dead // the helpers below talk to the current platform
	defer func() { platform = prev }()

	s := newBranch(t)
	a := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-dead", PatientID: "p-dead"})
	var booked appt
	a.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, at(visitDay(), "14:00"), ""), "Idempotency-Key", "k-dead-1").decode(t, &booked)

	c := sqsClient(dead.SQSEndpoint())
	url := dead.QueueURL("NotificationsQueue")
	if msgs := collect(t, c, url, booked.ID, 2*time.Second); len(msgs) != 0 {
		t.Fatalf("published without a publisher: %+v", msgs)
	}
	// Too early: the sweep leaves fresh records to the stream publisher.
	if res, err := dead.RunSchedule(ctx, "OutboxSweepFunction", time.Now()); err != nil || res.FunctionError {
		t.Fatalf("sweep: %v %s", err, res.Payload)
	}
	if msgs := collect(t, c, url, booked.ID, 2*time.Second); len(msgs) != 0 {
		t.Fatalf("sweep published a fresh record: %+v", msgs)
	}
	// Later, twice: exactly one delivery.
	for i := 0; i < 2; i++ {
		if res, err := dead.RunSchedule(ctx, "OutboxSweepFunction", time.Now().Add(10*time.Minute)); err != nil || res.FunctionError {
			t.Fatalf("sweep: %v %s", err, res.Payload)
		}
	}
	msgs := collect(t, c, url, booked.ID, 3*time.Second)
	if len(msgs) != 1 || msgs[0].Type != "appointment.booked" {
		t.Fatalf("after the sweep: %d messages %+v, want exactly one appointment.booked", len(msgs), msgs)
	}
}
