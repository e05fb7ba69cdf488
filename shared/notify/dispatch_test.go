package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/memstore"
)

// memStore is the dispatcher's Store in these tests: the delivery log is
// shared/memstore's, which passes the same contract (shared/storetest,
// DeliveryClaim and DeliveryFinal) as the DynamoDB store; the appointment,
// catalog and profile are fixed reads, and removed devices are recorded.
type memStore struct {
	*memstore.Store
	mu      sync.Mutex
	appts   map[string]domain.Appointment
	profile Profile
	removed []string
}

// delivery returns the stored delivery of (job, channel) of appointment apt_1.
func (m *memStore) delivery(t *testing.T, jobID string, ch Channel) Delivery {
	t.Helper()
	all, err := m.ListDeliveries(context.Background(), "apt_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.JobID == jobID && d.Channel == ch {
			return d
		}
	}
	return Delivery{}
}

func (m *memStore) GetAppointment(_ context.Context, id string) (domain.Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.appts[id]
	if !ok {
		return a, apperr.E(apperr.NotFound, "no appointment")
	}
	return a, nil
}

func (m *memStore) LoadCatalog(context.Context, string) (domain.Catalog, error) {
	return domain.Catalog{
		Branch:   domain.Branch{ID: "br_1", Name: "Silom Branch", TimeZone: "Asia/Bangkok", Address: "99 Silom Road, Bangkok 10500"},
		Services: []domain.Service{{ID: "svc_1", Name: "Fasting blood sugar"}},
	}, nil
}

func (m *memStore) GetProfile(context.Context, string) (Profile, error) { return m.profile, nil }

func (m *memStore) RemoveDevice(_ context.Context, _ string, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removed = append(m.removed, token)
	return nil
}

// recSender records messages; fail decides each attempt's error.
type recSender struct {
	mu   sync.Mutex
	sent []Message
	n    int
	fail func(n int, m Message) error
}

func (s *recSender) Send(_ context.Context, m Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.fail != nil {
		if err := s.fail(s.n, m); err != nil {
			return "", err
		}
	}
	s.sent = append(s.sent, m)
	return fmt.Sprintf("id-%d", s.n), nil
}

var bkk, _ = time.LoadLocation("Asia/Bangkok")

func visit() domain.Appointment {
	start := time.Date(2026, 12, 2, 9, 30, 0, 0, bkk)
	return domain.Appointment{
		ID: "apt_1", Status: domain.StatusBooked, BranchID: "br_1", ServiceID: "svc_1",
		Start: start, End: start.Add(15 * time.Minute),
		Patient:     domain.Patient{ID: "pat_1", Name: "Somchai", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
		Preparation: domain.Preparation{FastingHours: 8},
		Version:     1, CreatedAt: start.Add(-48 * time.Hour),
	}
}

func job(t *testing.T, typ string, a domain.Appointment) Job {
	t.Helper()
	var data any = a
	if typ == domain.EventAppointmentReminderDue {
		data = domain.ReminderDue{Appointment: a, LeadMinutes: 24 * 60, SendAt: a.Start.Add(-24 * time.Hour)}
	}
	ce, err := events.New(domain.Event{ID: "evt_" + typ, Type: typ, Time: a.CreatedAt, Subject: a.ID, Data: data}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.Encode(ce)
	if err != nil {
		t.Fatal(err)
	}
	var j Job
	if err := j.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	return j
}

type fixture struct {
	store      *memStore
	sms, email *recSender
	push       *recSender
	d          *Dispatcher
	sleeps     []time.Duration
}

func newFixture(a domain.Appointment) *fixture {
	f := &fixture{
		store: &memStore{Store: memstore.New(), appts: map[string]domain.Appointment{a.ID: a}},
		sms:   &recSender{}, email: &recSender{}, push: &recSender{},
	}
	f.d = NewDispatcher(f.store, map[Channel]Sender{ChannelSMS: f.sms, ChannelEmail: f.email, ChannelPush: f.push}, Options{
		Sleep: func(_ context.Context, d time.Duration) error { f.sleeps = append(f.sleeps, d); return nil },
	})
	return f
}

func TestConfirmationGoesOncePerChannel(t *testing.T) {
	a := visit()
	f := newFixture(a)
	j := job(t, domain.EventAppointmentBooked, a)
	for i := 0; i < 3; i++ { // redeliveries
		if _, err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.sms.sent) != 1 || len(f.email.sent) != 1 || len(f.push.sent) != 0 {
		t.Fatalf("sent sms=%d email=%d push=%d, want 1 1 0 (no device)", len(f.sms.sent), len(f.email.sent), len(f.push.sent))
	}
	sms := f.sms.sent[0]
	if sms.To != a.Patient.Phone || sms.Kind != KindConfirmation || !strings.Contains(sms.Content.Text, "09:30") {
		t.Fatalf("sms: %+v", sms)
	}
	if d := f.store.delivery(t, "evt_appointment.booked", ChannelSMS); d.Status != StatusSent || d.Attempts != 1 || d.ProviderMessageID == "" {
		t.Fatalf("delivery: %+v", d)
	}
}

func TestConcurrentDispatchSendsOnce(t *testing.T) {
	a := visit()
	f := newFixture(a)
	j := job(t, domain.EventAppointmentBooked, a)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = f.d.Dispatch(context.Background(), j) }()
	}
	wg.Wait()
	if len(f.sms.sent) != 1 || len(f.email.sent) != 1 {
		t.Fatalf("sent sms=%d email=%d, want 1 each", len(f.sms.sent), len(f.email.sent))
	}
}

func TestCancelledOrMovedVisitGetsNoReminder(t *testing.T) {
	a := visit()
	for _, tc := range []struct {
		name   string
		change func(*domain.Appointment)
		reason string
	}{
		{"cancelled", func(c *domain.Appointment) { c.Status = domain.StatusCancelled }, "cancelled"},
		{"moved", func(c *domain.Appointment) { c.Start = c.Start.Add(time.Hour); c.End = c.End.Add(time.Hour) }, "moved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := a
			tc.change(&cur)
			f := newFixture(cur)
			done, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentReminderDue, a))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.sms.sent)+len(f.email.sent) != 0 {
				t.Fatal("a reminder was sent")
			}
			if len(done) != 2 || done[0].Status != StatusSuppressed || done[0].Reason != tc.reason {
				t.Fatalf("log: %+v", done)
			}
		})
	}
}

func TestConfirmationOfMovedVisitShowsNewTime(t *testing.T) {
	a := visit()
	cur := a
	cur.Start, cur.End = a.Start.Add(2*time.Hour), a.End.Add(2*time.Hour)
	f := newFixture(cur)
	if _, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentBooked, a)); err != nil {
		t.Fatal(err)
	}
	if len(f.sms.sent) != 1 || !strings.Contains(f.sms.sent[0].Content.Text, "11:30") {
		t.Fatalf("sms: %+v", f.sms.sent)
	}
}

func TestOptOutAndDevices(t *testing.T) {
	a := visit()
	f := newFixture(a)
	f.store.profile = Profile{Set: true, Preferences: Preferences{SMS: false, Email: true, Push: true},
		Devices: []Device{{Token: "tok-aaaaaaaaaaaaaaaa"}, {Token: "tok-bbbbbbbbbbbbbbbb"}}}
	f.push.fail = func(_ int, m Message) error {
		if m.To == "tok-aaaaaaaaaaaaaaaa" {
			return apperr.MarkPermanent(errors.New("endpoint disabled"))
		}
		return nil
	}
	done, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentCancelled, a))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sms.sent) != 0 || len(f.email.sent) != 1 || len(f.push.sent) != 1 {
		t.Fatalf("sent sms=%d email=%d push=%d", len(f.sms.sent), len(f.email.sent), len(f.push.sent))
	}
	got := map[Channel]Status{}
	for _, d := range done {
		got[d.Channel] = d.Status
	}
	if got[ChannelSMS] != StatusOptedOut || got[ChannelEmail] != StatusSent || got[ChannelPush] != StatusSent {
		t.Fatalf("statuses: %v", got)
	}
	if len(f.store.removed) != 1 || f.store.removed[0] != "tok-aaaaaaaaaaaaaaaa" {
		t.Fatalf("stale device not removed: %v", f.store.removed)
	}
}

func TestTransientFailuresRetriedThenFailed(t *testing.T) {
	a := visit()
	f := newFixture(a)
	f.sms.fail = func(int, Message) error { return errors.New("503 service unavailable") }
	done, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentBooked, a))
	if err != nil {
		t.Fatal(err)
	}
	var sms Delivery
	for _, d := range done {
		if d.Channel == ChannelSMS {
			sms = d
		}
	}
	if sms.Status != StatusFailed || sms.Attempts != DefaultMaxAttempts || sms.Reason != "retries_exhausted" {
		t.Fatalf("sms delivery: %+v", sms)
	}
	if len(f.sleeps) != DefaultMaxAttempts-1 {
		t.Fatalf("%d backoffs, want %d", len(f.sleeps), DefaultMaxAttempts-1)
	}
	for i := range f.sleeps {
		// Equal jitter: the wait after failure i+1 is in [b/2, b], b = base·2^i.
		lo := (DefaultBaseBackoff << i) / 2
		if f.sleeps[i] < lo || f.sleeps[i] > DefaultBaseBackoff<<i {
			t.Fatalf("backoff %d = %v, want in [%v, %v]", i, f.sleeps[i], lo, DefaultBaseBackoff<<i)
		}
	}
	// Recorded as failed: a redelivery does not try again.
	n := f.sms.n
	if _, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentBooked, a)); err != nil {
		t.Fatal(err)
	}
	if f.sms.n != n {
		t.Fatal("a failed delivery was retried by a redelivery")
	}
	// The email still went.
	if len(f.email.sent) != 1 {
		t.Fatal("email not sent")
	}
}

func TestTransientThenSuccess(t *testing.T) {
	a := visit()
	f := newFixture(a)
	f.sms.fail = func(n int, _ Message) error {
		if n < 3 {
			return errors.New("throttled")
		}
		return nil
	}
	done, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentBooked, a))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range done {
		if d.Channel == ChannelSMS && (d.Status != StatusSent || d.Attempts != 3) {
			t.Fatalf("sms: %+v", d)
		}
	}
}

func TestUnknownAppointmentIsPermanent(t *testing.T) {
	a := visit()
	f := newFixture(a)
	delete(f.store.appts, a.ID)
	if _, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentBooked, a)); !errors.Is(err, ErrUnknownAppointment) || !apperr.IsPermanent(err) {
		t.Fatalf("err = %v, want the permanent ErrUnknownAppointment", err)
	}
}

func TestInFlightElsewhereIsRetried(t *testing.T) {
	a := visit()
	f := newFixture(a)
	j := job(t, domain.EventAppointmentBooked, a)
	// Another consumer holds the SMS's claim for the next hour.
	now := time.Now()
	if ok, _, err := f.store.ClaimDelivery(context.Background(), Delivery{AppointmentID: a.ID, JobID: j.Event.ID, Kind: KindConfirmation,
		Channel: ChannelSMS, Status: StatusSending, CreatedAt: now, UpdatedAt: now, LeaseUntil: now.Add(time.Hour)}, now); err != nil || !ok {
		t.Fatalf("claim elsewhere: %v %v", ok, err)
	}
	if _, err := f.d.Dispatch(context.Background(), j); !errors.Is(err, ErrInFlight) {
		t.Fatalf("err = %v, want ErrInFlight", err)
	}
	if len(f.sms.sent) != 0 || len(f.email.sent) != 1 {
		t.Fatalf("sms=%d email=%d", len(f.sms.sent), len(f.email.sent))
	}
}

func TestKindOf(t *testing.T) {
	a := visit()
	if k, _ := KindOf(domain.EventAppointmentBooked, a.Patient.ID); k != KindConfirmation {
		t.Fatal(k)
	}
	a.Patient.ID = "chk-0123"
	if k, _ := KindOf(domain.EventAppointmentBooked, a.Patient.ID); k != KindCheckupInvitation {
		t.Fatal(k)
	}
	if _, ok := KindOf(domain.EventAppointmentCheckedIn, a.Patient.ID); ok {
		t.Fatal("checked_in makes no message")
	}
}

// TestProviderOutageSpansRedeliveries: while the provider is down, early
// deliveries of the job leave the SMS in flight with its attempts (the
// queue redelivers the job); the final delivery records it as failed. A
// provider that recovers in between gets the message out.
func TestProviderOutageSpansRedeliveries(t *testing.T) {
	for _, recovers := range []bool{true, false} {
		a := visit()
		f := newFixture(a)
		down := true
		f.sms.fail = func(int, Message) error {
			if down {
				return errors.New("503")
			}
			return nil
		}
		j := job(t, domain.EventAppointmentBooked, a)
		clock := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
		f.d.opts.Now = func() time.Time { return clock }
		for receive := 1; receive < DefaultFinalReceive; receive++ {
			j.ReceiveCount = receive
			clock = clock.Add(3 * time.Minute) // the visibility timeout
			if _, err := f.d.Dispatch(context.Background(), j); !errors.Is(err, ErrProviderUnavailable) {
				t.Fatalf("receive %d: err %v, want ErrProviderUnavailable", receive, err)
			}
			d := f.store.delivery(t, j.Event.ID, ChannelSMS)
			if d.Status != StatusSending || d.Attempts != receive*DefaultMaxAttempts || d.Reason != "provider_unavailable" {
				t.Fatalf("receive %d: %+v", receive, d)
			}
		}
		if len(f.email.sent) != 1 {
			t.Fatalf("email sent %d times over the redeliveries, want 1", len(f.email.sent))
		}
		before := f.store.delivery(t, j.Event.ID, ChannelSMS)
		down = !recovers
		j.ReceiveCount = DefaultFinalReceive
		clock = clock.Add(3 * time.Minute)
		if _, err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		d := f.store.delivery(t, j.Event.ID, ChannelSMS)
		if recovers {
			// The provider is back: the next delivery sends.
			if d.Status != StatusSent || d.Attempts != before.Attempts+1 {
				t.Fatalf("after recovery: %+v", d)
			}
			continue
		}
		// Still down: the final delivery records the failure.
		if d.Status != StatusFailed || d.Reason != "retries_exhausted" || d.Attempts != DefaultFinalReceive*DefaultMaxAttempts {
			t.Fatalf("final delivery: %+v", d)
		}
	}
}

// TestQuietHoursHoldResults: a results-ready job made at night is held
// until 07:00 branch time (nothing claimed, nothing sent); by day it goes;
// a cancellation at night is not held.
func TestQuietHoursHoldResults(t *testing.T) {
	a := visit()
	f := newFixture(a)
	night := time.Date(2026, 12, 2, 2, 30, 0, 0, bkk)
	f.d.opts.Now = func() time.Time { return night }
	f.d.opts.Quiet = domain.DefaultReminderPolicy()
	_, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentResultsReady, a))
	var held *apperr.HeldError
	if f, _ := apperr.Classify(err); f != apperr.Held || !errors.As(err, &held) || !held.Until.Equal(time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)) {
		t.Fatalf("err = %v, want held until 07:00", err)
	}
	if claimed, _ := f.store.ListDeliveries(context.Background(), a.ID); len(f.sms.sent)+len(f.email.sent) != 0 || len(claimed) != 0 {
		t.Fatal("a held job sent or claimed something")
	}
	if _, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentCancelled, a)); err != nil || len(f.sms.sent) != 1 {
		t.Fatalf("cancellation at night: %v, %d SMS", err, len(f.sms.sent))
	}
	f.d.opts.Now = func() time.Time { return time.Date(2026, 12, 2, 7, 0, 0, 0, bkk) }
	if _, err := f.d.Dispatch(context.Background(), job(t, domain.EventAppointmentResultsReady, a)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.sms.sent); n != 2 || f.sms.sent[1].Kind != KindResultsReady {
		t.Fatalf("results at 07:00: %d SMS", n)
	}
}
