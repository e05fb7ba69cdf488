package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/localdev"
)

// The notification tests run through the whole chain: API → DynamoDB (with
// the outbox) → stream → batch publisher → NotificationsQueue → notification
// consumer → Mailpit (email) and the local sink (SMS, push). Each test uses
// its own phone and email, so it counts only its own messages. The reminder
// and sweep tests fire the scheduled functions at fake times on visit days
// far enough ahead that no other test's visits are in their windows, and in
// increasing order (the reminder watermark only moves forward).

type delivery struct {
	JobID, Kind, Channel, Status, Reason, ProviderMessageID string
	Attempts                                                int
}

// deliveries reads an appointment's delivery log through the API.
func deliveries(c client, id string) []delivery {
	var page struct{ Items []delivery }
	c.expect(200, "GET", "/v1/appointments/{id}/notifications", "/v1/appointments/"+id+"/notifications", nil).decode(c.t, &page)
	return page.Items
}

// waitDeliveries polls the log until want says it is complete.
func waitDeliveries(c client, id string, d time.Duration, want func([]delivery) bool) []delivery {
	c.t.Helper()
	var got []delivery
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		got = deliveries(c, id)
		if want(got) {
			return got
		}
	}
	c.t.Fatalf("delivery log of %s never complete: %+v", id, got)
	return nil
}

// final counts the final deliveries of kind.
func final(ds []delivery, kind string) (n int) {
	for _, d := range ds {
		if d.Kind == kind && d.Status != "sending" {
			n++
		}
	}
	return n
}

// sinkCount counts the sink's messages of kind to an address.
func sinkCount(channel, to, kind string) int {
	n := 0
	for _, m := range platform.Messages(localdev.SinkFilter{Channel: channel, To: to}) {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// emailsTo returns Mailpit's messages to an address, with bodies.
func emailsTo(t *testing.T, addr string) (subjects, texts []string) {
	t.Helper()
	ctx := context.Background()
	list, err := platform.Mailpit().Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		for _, to := range s.To {
			if strings.EqualFold(to.Address, addr) {
				full, err := platform.Mailpit().Message(ctx, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				subjects, texts = append(subjects, full.Subject), append(texts, full.Text)
			}
		}
	}
	return subjects, texts
}

func patientClient(t *testing.T, id string) client {
	return as(t, localdev.TokenRequest{Role: localdev.RolePatient, Sub: "user-" + id, PatientID: id})
}

// bookFor books a visit for a patient with their own contact details.
func bookFor(t *testing.T, s setup, c client, start, patientID, phone, email, locale string) appt {
	t.Helper()
	var a appt
	c.expect(201, "POST", "/v1/appointments", "/v1/appointments", map[string]any{
		"branchId": s.branchID, "serviceId": s.serviceID, "start": start,
		"patient": map[string]any{"id": patientID, "name": "Somchai Jaidee", "phone": phone, "email": email, "locale": locale},
	}, "Idempotency-Key", "k-"+patientID+"-"+start).decode(t, &a)
	return a
}

func runSchedule(t *testing.T, id string, now time.Time) string {
	t.Helper()
	res, err := platform.RunSchedule(context.Background(), id, now)
	if err != nil || res.FunctionError || res.TimedOut {
		t.Fatalf("%s at %s: %v %s", id, now, err, res.Payload)
	}
	return string(res.Payload)
}

// TestConfirmationAndCancellation: a booking → exactly one confirmation
// email in Mailpit and one SMS in the sink, in the patient's language (Thai,
// Buddhist-era year), with the fasting instruction; a cancellation → one
// cancellation alert on each channel.
func TestConfirmationAndCancellation(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay()
	const phone, email = "+66810000001", "confirm-th@example.com"
	p := patientClient(t, "p-notify-1")
	a := bookFor(t, s, p, at(day, "09:30"), "p-notify-1", phone, email, "th")

	log := waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "confirmation") == 2 })
	for _, d := range log {
		if d.Status != "sent" || d.Attempts != 1 || d.ProviderMessageID == "" {
			t.Errorf("confirmation delivery %+v", d)
		}
	}
	if n := sinkCount("sms", phone, "confirmation"); n != 1 {
		t.Fatalf("%d confirmation SMS, want 1", n)
	}
	sms := platform.Messages(localdev.SinkFilter{Channel: "sms", To: phone})[0]
	be := fmt.Sprint(day.Year() + 543)
	if !strings.Contains(sms.Text, "09:30") || !strings.Contains(sms.Text, be) || !strings.Contains(sms.Text, "8 ชั่วโมง") {
		t.Errorf("Thai SMS lacks the time, the Buddhist-era year %s or the fasting hours: %q", be, sms.Text)
	}
	subjects, texts := emailsTo(t, email)
	if len(subjects) != 1 {
		t.Fatalf("%d emails, want 1: %v", len(subjects), subjects)
	}
	if !strings.Contains(texts[0], "งดอาหาร") || !strings.Contains(texts[0], be) || !strings.Contains(texts[0], "ดื่มน้ำเปล่าได้") {
		t.Errorf("Thai email lacks the fasting instruction or the BE year:\n%s", texts[0])
	}

	p.expect(200, "POST", "/v1/appointments/{id}/cancel", "/v1/appointments/"+a.ID+"/cancel", map[string]any{"reason": "changed plans"})
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "cancellation") == 2 })
	if n := sinkCount("sms", phone, "cancellation"); n != 1 {
		t.Fatalf("%d cancellation SMS, want 1", n)
	}
	if subjects, _ := emailsTo(t, email); len(subjects) != 2 {
		t.Fatalf("%d emails after the cancellation, want 2: %v", len(subjects), subjects)
	}
	if n := sinkCount("sms", phone, "confirmation"); n != 1 {
		t.Fatalf("confirmation SMS sent again: %d", n)
	}
}

// TestRemindersExactlyOnce: the reminder job run late (earlier runs
// skipped) and then twice at once, then again for the 2-hour reminder: each
// reminder goes out exactly once per channel; a cancelled visit gets none.
func TestRemindersExactlyOnce(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay().AddDate(0, 0, 7)
	const phone, email = "+66810000002", "remind-en@example.com"
	p := patientClient(t, "p-notify-2")
	a := bookFor(t, s, p, at(day, "10:00"), "p-notify-2", phone, email, "en")
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "confirmation") == 2 })

	startAt, _ := time.Parse(time.RFC3339, at(day, "10:00"))
	runSchedule(t, "ReminderJobFunction", startAt.Add(-24*time.Hour-30*time.Minute)) // nothing due yet
	// The runs in between are skipped; the next one comes 20 minutes after
	// the 24-hour reminder was due, and it runs twice at once.
	late := startAt.Add(-24*time.Hour + 20*time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); runSchedule(t, "ReminderJobFunction", late) }()
	}
	wg.Wait()
	runSchedule(t, "ReminderJobFunction", late) // and once more, sequentially
	waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "reminder") == 2 })

	twoHours := startAt.Add(-2*time.Hour + 10*time.Minute)
	runSchedule(t, "ReminderJobFunction", twoHours)
	runSchedule(t, "ReminderJobFunction", twoHours)
	log := waitDeliveries(p, a.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "reminder") == 4 })
	time.Sleep(2 * time.Second) // a duplicate would arrive in this time
	if n := sinkCount("sms", phone, "reminder"); n != 2 {
		t.Fatalf("%d reminder SMS, want 2 (24 h and 2 h): %+v", n, log)
	}
	subjects, texts := emailsTo(t, email)
	if len(subjects) != 3 { // confirmation + 2 reminders
		t.Fatalf("%d emails, want 3: %v", len(subjects), subjects)
	}
	for _, txt := range texts {
		if !strings.Contains(txt, "10:00") || !strings.Contains(txt, fmt.Sprint(day.Year())) {
			t.Errorf("English email without the local time or the CE year:\n%s", txt)
		}
	}

	// A cancelled visit: the reminder job records nothing, nothing is sent.
	const phone2 = "+66810000003"
	p2 := patientClient(t, "p-notify-3")
	b := bookFor(t, s, p2, at(day.AddDate(0, 0, 1), "10:00"), "p-notify-3", phone2, "", "en")
	p2.expect(200, "POST", "/v1/appointments/{id}/cancel", "/v1/appointments/"+b.ID+"/cancel", map[string]any{"reason": "travel"})
	waitDeliveries(p2, b.ID, 30*time.Second, func(ds []delivery) bool { return final(ds, "cancellation") == 1 })
	bStart, _ := time.Parse(time.RFC3339, at(day.AddDate(0, 0, 1), "10:00"))
	runSchedule(t, "ReminderJobFunction", bStart.Add(-24*time.Hour+5*time.Minute))
	runSchedule(t, "ReminderJobFunction", bStart.Add(-2*time.Hour+5*time.Minute))
	time.Sleep(3 * time.Second)
	if n := sinkCount("sms", phone2, "reminder"); n != 0 {
		t.Fatalf("%d reminders for a cancelled visit", n)
	}
	if n := final(deliveries(p2, b.ID), "reminder"); n != 0 {
		t.Fatalf("reminder deliveries logged for a cancelled visit: %d", n)
	}
}

// TestProviderFailureRetriedThenFailed: the SMS provider answers 503 to
// every send: the consumer retries with backoff, then records the SMS as
// failed (the email still goes); the failure is not retried again.
func TestProviderFailureRetriedThenFailed(t *testing.T) {
	start(t)
	s := newBranch(t)
	const phone, email = "+66810000004", "fail-sms@example.com"
	if _, err := platform.InjectFault(localdev.SinkFault{Channel: "sms", To: phone, Status: 503, Count: -1}); err != nil {
		t.Fatal(err)
	}
	p := patientClient(t, "p-notify-4")
	a := bookFor(t, s, p, at(visitDay(), "11:00"), "p-notify-4", phone, email, "en")
	log := waitDeliveries(p, a.ID, 60*time.Second, func(ds []delivery) bool { return final(ds, "confirmation") == 2 })
	var sms, mail delivery
	for _, d := range log {
		switch d.Channel {
		case "sms":
			sms = d
		case "email":
			mail = d
		}
	}
	if sms.Status != "failed" || sms.Reason != "retries_exhausted" || sms.Attempts != 4 {
		t.Fatalf("sms delivery %+v, want failed after 4 attempts", sms)
	}
	if mail.Status != "sent" {
		t.Fatalf("email delivery %+v", mail)
	}
	faults, _ := platform.Faults()
	hits := 0
	for _, f := range faults {
		if f.To == phone {
			hits = f.Hits
		}
	}
	if hits != 4 {
		t.Fatalf("the provider saw %d sends, want 4", hits)
	}
	if n := sinkCount("sms", phone, "confirmation"); n != 0 {
		t.Fatalf("%d SMS stored through a failing provider", n)
	}
}

// TestStatusSweepIsIdempotent: the sweep after the grace period marks a
// missed visit no_show; run twice, the state and history are the same.
func TestStatusSweepIsIdempotent(t *testing.T) {
	start(t)
	s := newBranch(t)
	day := visitDay().AddDate(0, 0, 20)
	p := patientClient(t, "p-notify-5")
	a := bookFor(t, s, p, at(day, "10:00"), "p-notify-5", "+66810000005", "", "th")
	end, _ := time.Parse(time.RFC3339, at(day, "10:15"))

	runSchedule(t, "StatusSweepFunction", end.Add(10*time.Minute)) // inside the grace period
	var got appt
	p.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+a.ID, nil).decode(t, &got)
	if got.Status != "booked" {
		t.Fatalf("swept inside the grace period: %s", got.Status)
	}
	var history [2]struct{ Items []map[string]any }
	var states [2]appt
	for i := 0; i < 2; i++ {
		runSchedule(t, "StatusSweepFunction", end.Add(31*time.Minute))
		p.expect(200, "GET", "/v1/appointments/{id}", "/v1/appointments/"+a.ID, nil).decode(t, &states[i])
		p.expect(200, "GET", "/v1/appointments/{id}/history", "/v1/appointments/"+a.ID+"/history", nil).decode(t, &history[i])
	}
	if states[0].Status != "no_show" || states[1].Status != "no_show" || states[0].Version != states[1].Version {
		t.Fatalf("after the sweeps: %+v then %+v", states[0], states[1])
	}
	if len(history[0].Items) != 2 || len(history[1].Items) != 2 || history[1].Items[1]["to"] != "no_show" ||
		history[1].Items[1]["reason"] != "no-show sweep" {
		t.Fatalf("history after the sweeps: %v then %v", history[0], history[1])
	}
}
