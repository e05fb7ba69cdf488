package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/jaegerlocal"
	"github.com/labchain/appointments/infra/localdev"
)

// logCapture keeps everything the functions write (their JSON logs and EMF
// lines, and the emulators' START/END/REPORT lines).
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

var functionLogs = &logCapture{}

// newTraceParent returns a W3C traceparent of a fresh trace and its trace id.
func newTraceParent() (header, traceID string) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	traceID = hex.EncodeToString(b[:16])
	return "00-" + traceID + "-" + hex.EncodeToString(b[16:]) + "-01", traceID
}

// TestOneBookingOneTrace: the trace a booking request starts reaches Jaeger
// whole: the API function's span, the batch publisher's span for the
// booked event, and the notification consumer's span, which is a child of
// the publisher's (trace context crossed DynamoDB, the outbox, the stream
// and SQS).
func TestOneBookingOneTrace(t *testing.T) {
	start(t)
	s := newBranch(t)
	p := patientClient(t, "p-trace-1")
	tp, traceID := newTraceParent()
	var a appt
	p.expect(201, "POST", "/v1/appointments", "/v1/appointments", map[string]any{
		"branchId": s.branchID, "serviceId": s.serviceID, "start": at(visitDay(), "12:30"),
		"patient": map[string]any{"id": "p-trace-1", "name": "Trace Patient", "phone": "+66810000010", "locale": "en"},
	}, "Idempotency-Key", "k-trace-1", "traceparent", tp).decode(t, &a)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr, err := platform.Traces().WaitTrace(ctx, traceID, func(tr jaegerlocal.Trace) bool {
		return len(tr.SpansNamed("process notifications")) > 0 && len(tr.SpansNamed("publish appointment.booked")) > 0 &&
			len(tr.SpansNamed("send sms")) > 0
	})
	if err != nil {
		t.Fatalf("trace %s never complete: %v; spans: %v", traceID, err, spanNames(tr))
	}
	var api jaegerlocal.Span
	for _, sp := range tr.Spans {
		if sp.Kind == "server" && sp.Attributes["http.route"] == "/v1/appointments" {
			api = sp
		}
	}
	if api.SpanID == "" {
		t.Fatalf("no API span in the trace: %v", spanNames(tr))
	}
	pub := tr.SpansNamed("publish appointment.booked")[0]
	cons := tr.SpansNamed("process notifications")[0]
	if cons.ParentSpanID != pub.SpanID {
		t.Errorf("the consumer span's parent is %s, want the publisher span %s", cons.ParentSpanID, pub.SpanID)
	}
	if !descends(tr, pub, api.SpanID) && !descends(tr, pub, "") {
		t.Errorf("publisher span not in the request's trace tree")
	}
	// The consumer's calls are inside its span: DynamoDB (the AWS SDK's
	// spans) and the provider call that sent the SMS.
	var dynamo, sms int
	for _, sp := range tr.Spans {
		if sp.ParentSpanID != cons.SpanID {
			continue
		}
		switch {
		case sp.Operation == "send sms" && sp.Attributes["app.notification.kind"] == "confirmation":
			sms++
		case sp.Attributes["rpc.service"] == "DynamoDB" || strings.HasPrefix(sp.Operation, "DynamoDB"):
			dynamo++
		}
	}
	if sms != 1 || dynamo == 0 {
		t.Errorf("consumer span children: %d SMS sends (want 1), %d DynamoDB calls: %v", sms, dynamo, spanNames(tr))
	}
}

// descends reports whether span sp has ancestor id in tr ("" = any root).
func descends(tr jaegerlocal.Trace, sp jaegerlocal.Span, id string) bool {
	for i := 0; i < 64; i++ {
		if sp.ParentSpanID == id && id != "" {
			return true
		}
		parent, ok := tr.Span(sp.ParentSpanID)
		if !ok {
			return id == ""
		}
		sp = parent
	}
	return false
}

func spanNames(tr jaegerlocal.Trace) []string {
	var out []string
	for _, sp := range tr.Spans {
		out = append(out, sp.Service+"/"+sp.Operation)
	}
	return out
}

// TestNoPersonalDataInLogsOrSpans seeds canary values — a Thai national id,
// a name, a phone number, an email address, a device token — through every
// flow (booking with notes, the confirmation and reminder messages, a
// refused request quoting them, reschedule, cancellation with a reason,
// preferences, a push device, the LIS and POS consumers, a check-up roster),
// then reads every line the functions wrote and every span Jaeger holds: no
// canary may appear in any of them.
func TestNoPersonalDataInLogsOrSpans(t *testing.T) {
	start(t)
	s := newBranch(t)
	const (
		nationalID = "3100904412376"
		name       = "Kanokwan Canarysri"
		phone      = "+66891234509"
		email      = "kanokwan.canary@example.com"
		token      = "canaryDeviceToken0123456789abcdefXYZ"
		rosterName = "Pornthip Canarywong"
		rosterMail = "pornthip.canary@example.com"
	)
	canaries := []string{nationalID, "3-1009-04412-37-6", name, "Canarysri", phone, "891234509", email, token, rosterName, rosterMail}
	pid := "p-canary"
	p := patientClient(t, pid)
	p.expect(200, "PUT", "/v1/patients/{patientId}/devices/{token}", "/v1/patients/"+pid+"/devices/"+token, map[string]any{"platform": "fcm"})
	p.expect(200, "PUT", "/v1/patients/{patientId}/notification-preferences", "/v1/patients/"+pid+"/notification-preferences",
		map[string]any{"sms": true, "email": true, "push": true})

	// Later than every reminder-job run of notifications_test.go: the
	// reminder watermark only moves forward.
	day := visitDay().AddDate(0, 0, 15)
	var a appt
	body := map[string]any{"branchId": s.branchID, "serviceId": s.serviceID, "start": at(day, "13:00"),
		"patient": map[string]any{"id": pid, "name": name, "phone": phone, "email": email, "locale": "th"},
		"notes":   "บัตรประชาชน 3-1009-04412-37-6 (" + nationalID + ")"}
	p.expect(201, "POST", "/v1/appointments", "/v1/appointments", body, "Idempotency-Key", "k-canary-1").decode(t, &a)
	// Refused requests that quote the values back would leak them into logs.
	bad := map[string]any{"branchId": s.branchID, "serviceId": s.serviceID, "start": at(day, "13:30"),
		"patient": map[string]any{"id": pid, "name": name, "phone": phone + "x", "email": "not-an-email " + email, "locale": "th"}}
	if r := p.do("POST", "/v1/appointments", "/v1/appointments", bad, "Idempotency-Key", "k-canary-2"); r.status != 400 {
		t.Fatalf("invalid contact accepted: %d %s", r.status, r.body)
	}
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "confirmation") == 3 })

	p.expect(200, "POST", "/v1/appointments/{id}/reschedule", "/v1/appointments/"+a.ID+"/reschedule", map[string]any{"start": at(day, "14:00")})
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "reschedule") == 3 })

	// A second visit goes through the LIS and POS consumers.
	var b appt
	body["start"] = at(day, "15:00")
	p.expect(201, "POST", "/v1/appointments", "/v1/appointments", body, "Idempotency-Key", "k-canary-3").decode(t, &b)
	c := sqsClient(platform.SQSEndpoint())
	now := time.Now().UTC().Format(time.RFC3339)
	send(t, c, "LisEventsQueue", fmt.Sprintf(`{"schemaVersion":1,"eventId":"lis-canary-%s","type":"sample.status_changed","occurredAt":%q,"appointmentId":%q,"labOrderId":"LO-C-%s","sampleId":"LO-C-%s-1","status":"received","sequence":1}`,
		b.ID, now, b.ID, b.ID, b.ID))
	send(t, c, "PosEventsQueue", fmt.Sprintf(`{"schemaVersion":1,"eventId":"pos-canary-%s","type":"order.created","occurredAt":%q,"orderId":"INV-C-%s","appointmentId":%q,"branchId":%q,"amount":{"value":"500.00","currency":"THB"},"items":[{"code":"LAB-FBS","name":"FBS","qty":1,"price":"500.00"}]}`,
		b.ID, now, b.ID, b.ID, s.branchID))
	campaign := fmt.Sprintf("canary-%d", time.Now().UnixNano())
	roster, _ := json.Marshal(map[string]any{
		"schemaVersion": 1, "eventId": campaign + "-roster", "type": "checkup.roster",
		"occurredAt": now, "campaignId": campaign, "branchId": s.branchID, "serviceId": s.serviceID,
		"window":       map[string]string{"from": day.Format("2006-01-02"), "to": day.Format("2006-01-02")},
		"participants": []map[string]any{{"externalId": "emp-canary", "name": rosterName, "phone": phone, "email": rosterMail, "locale": "en"}},
	})
	send(t, c, "CheckupRosterQueue", string(roster))

	// Reminder for the moved visit, then the cancellation with a reason.
	moved, _ := time.Parse(time.RFC3339, at(day, "14:00"))
	runSchedule(t, "ReminderJobFunction", moved.Add(-2*time.Hour+5*time.Minute))
	// The 2-hour reminder (3 channels), and the 24-hour one too when an
	// earlier run left the watermark before it (the run catches up).
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "reminder") >= 3 })
	p.expect(200, "POST", "/v1/appointments/{id}/cancel", "/v1/appointments/"+a.ID+"/cancel", map[string]any{"reason": "ผู้ป่วย " + name + " โทร " + phone})
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "cancellation") == 3 })

	// The LIS completed the second visit and the POS recorded its order.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got integrationView
		s.staff.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+b.ID, nil).decode(t, &got)
		if got.Status == "completed" && len(got.Billing) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("LIS/POS not applied: %+v", got)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The check-up participant is placed (its invitation goes out too).
	deadline = time.Now().Add(30 * time.Second)
	for {
		r := s.staff.do("GET", "/v1/checkup-campaigns/{campaignId}", "/v1/checkup-campaigns/"+campaign, nil)
		var rep campaignReport
		if r.status == 200 {
			r.decode(t, &rep)
			if rep.Pending == 0 && len(rep.Placed)+len(rep.Unplaced) == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster not settled: %d %s", r.status, r.body)
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // let the last spans be flushed and stored

	logs := functionLogs.String()
	if !strings.Contains(logs, a.ID) || !strings.Contains(logs, "notification delivery") {
		t.Fatalf("the log capture missed the flows (no %s, no delivery lines): %d bytes", a.ID, len(logs))
	}
	ctx := context.Background()
	client := platform.Traces()
	client.Limit = 20000
	traces, err := client.Traces(ctx, "lab-appointments")
	if err != nil {
		t.Fatal(err)
	}
	spans, err := json.Marshal(traces)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(spans, []byte(a.ID)) {
		t.Fatalf("no span names the canary appointment %s: the span capture is not working (%d traces)", a.ID, len(traces))
	}
	for _, c := range canaries {
		if i := strings.Index(logs, c); i >= 0 {
			t.Errorf("function logs contain %q: …%s…", c, excerpt(logs, i))
		}
		if i := bytes.Index(spans, []byte(c)); i >= 0 {
			t.Errorf("spans contain %q: …%s…", c, excerpt(string(spans), i))
		}
	}
	// The messages themselves did reach the patient (the canaries were used).
	if len(platform.Messages(localdev.SinkFilter{Channel: "sms", To: phone})) == 0 {
		t.Error("no SMS reached the canary phone: the flow did not run")
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-200), min(len(s), i+100)
	return s[lo:hi]
}
