package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/infra/localdev"
)

// integrationView is the part of GET /v1/appointments/{id} the integrations
// change.
type integrationView struct {
	ID        string
	Status    string
	LabOrders []struct {
		ID      string
		Samples []struct{ ID, Status string }
	}
	Billing []struct {
		OrderID string
		Status  string
		Amount  struct{ Value, Currency string }
		PaidAt  time.Time
	}
}

func send(t *testing.T, c *sqs.Client, queue, body string) {
	t.Helper()
	url := platform.QueueURL(queue)
	if url == "" {
		t.Fatalf("the template has no queue %s", queue)
	}
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationsChangeTheAppointment: a LIS "collected" and a POS
// "order.paid" sent to their queues complete the visit and show up in GET
// /v1/appointments/{id} (labOrders, billing); a malformed LIS message lands
// in the LIS dead-letter queue with its failure-reason.
func TestIntegrationsChangeTheAppointment(t *testing.T) {
	start(t)
	s := newBranch(t)
	p := as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-int", PatientID: "p-int"})
	var booked appt
	p.expect(201, "POST", "/v1/appointments", "/v1/appointments", book(s, at(visitDay(), "10:30"), ""), "Idempotency-Key", "k-int-"+s.branchID).decode(t, &booked)

	c := sqsClient(platform.SQSEndpoint())
	now := time.Now().UTC().Format(time.RFC3339)
	lis := fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-%s","type":"sample.status_changed","occurredAt":%q,"appointmentId":%q,"labOrderId":"LO-%s","sampleId":"LO-%s-EDTA1","status":"collected","sequence":1}`,
		booked.ID, now, booked.ID, booked.ID, booked.ID)
	pos := fmt.Sprintf(`{"schemaVersion":1,"eventId":"pos-%s","type":"order.paid","occurredAt":%q,"orderId":"INV-%s","appointmentId":%q,"branchId":%q,"amount":{"value":"350.00","currency":"THB"},"items":[{"code":"LAB-CBC","name":"CBC","qty":1,"price":"350.00"}],"paymentMethod":"promptpay"}`,
		booked.ID, now, booked.ID, booked.ID, s.branchID)
	send(t, c, "LisEventsQueue", lis)
	send(t, c, "PosEventsQueue", pos)
	send(t, c, "LisEventsQueue", lis) // a redelivery changes nothing

	var got integrationView
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.staff.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+booked.ID, nil).decode(t, &got)
		if got.Status == "completed" && len(got.LabOrders) == 1 && len(got.Billing) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %+v", got)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if lo := got.LabOrders[0]; lo.ID != "LO-"+booked.ID || len(lo.Samples) != 1 || lo.Samples[0].Status != "collected" {
		t.Fatalf("lab order %+v", lo)
	}
	if b := got.Billing[0]; b.OrderID != "INV-"+booked.ID || b.Status != "paid" || b.Amount.Value != "350.00" || b.Amount.Currency != "THB" || b.PaidAt.IsZero() {
		t.Fatalf("billing %+v", b)
	}
	var hist struct {
		Items []struct {
			From, To string
			Actor    struct{ ID, Role string }
		}
	}
	s.staff.expect(200, "GET", "/v1/appointments/{id}/history", "/v1/appointments/"+booked.ID+"/history", nil).decode(t, &hist)
	var steps []string
	for _, h := range hist.Items {
		if h.From != h.To && h.Actor.Role == "system" {
			steps = append(steps, h.From+"→"+h.To)
		}
	}
	if fmt.Sprint(steps) != "[booked→checked_in checked_in→completed]" {
		t.Fatalf("status steps by the LIS: %v (history %+v)", steps, hist.Items)
	}

	// A malformed message: dead-lettered at once with its reason.
	bad := `{"schemaVersion":1,"eventId":"lis-bad-` + booked.ID + `","type":"sample.status_changed"`
	send(t, c, "LisEventsQueue", bad)
	dlq := platform.QueueURL("LisEventsDLQ")
	for end := time.Now().Add(20 * time.Second); ; {
		res, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			if aws.ToString(m.Body) != bad {
				continue
			}
			reason := m.MessageAttributes["failure-reason"]
			if reason.StringValue == nil || *reason.StringValue != "undecodable" {
				attrs, _ := json.Marshal(m.MessageAttributes)
				t.Fatalf("dead letter attributes %s", attrs)
			}
			return
		}
		if time.Now().After(end) {
			t.Fatal("the malformed message did not reach LisEventsDLQ in 20 s")
		}
	}
}
