package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/notify"
	"github.com/labchain/appointments/shared/testenv"
	"github.com/labchain/appointments/shared/wiring/notifications"
)

func TestNotifyOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	opts, err := notifications.NotifyOptionsFromEnv(env(map[string]string{"NOTIFY_MAX_ATTEMPTS": "6", "NOTIFY_BASE_BACKOFF_MS": "250", "NOTIFY_FINAL_RECEIVE": "2"}))
	if err != nil || opts.MaxAttempts != 6 || opts.BaseBackoff != 250*time.Millisecond || opts.FinalReceive != 2 || opts.Observe == nil ||
		opts.Quiet.QuietStart != "21:00" || opts.Quiet.QuietEnd != "07:00" {
		t.Fatalf("%+v %v", opts, err)
	}
	_, err = notifications.NotifyOptionsFromEnv(env(map[string]string{"NOTIFY_MAX_ATTEMPTS": "0", "NOTIFY_BASE_BACKOFF_MS": "x", "NOTIFY_FINAL_RECEIVE": "5", "QUIET_HOURS": "late"}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, name := range []string{"NOTIFY_MAX_ATTEMPTS", "NOTIFY_BASE_BACKOFF_MS", "NOTIFY_FINAL_RECEIVE", "QUIET_HOURS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if opts, err := notifications.NotifyOptionsFromEnv(env(nil)); err != nil || opts.MaxAttempts != 0 || opts.FinalReceive != 0 {
		t.Fatalf("defaults: %+v %v", opts, err) // zero: the dispatcher's defaults apply
	}
}

// heldDelays records the delays the consumer asks for.
type heldDelays struct{ got map[string]time.Duration }

func (h *heldDelays) Delay(_ context.Context, r lambdaevents.SQSMessage, d time.Duration) error {
	h.got[r.MessageId] = d
	return nil
}

// TestResultsReadyHeldAtNight: a results-ready job consumed at 02:30 branch
// time is reported failed and hidden in the queue until 07:00 (4 h 30 min),
// nothing sent; the same job at 07:00 goes out.
func TestResultsReadyHeldAtNight(t *testing.T) {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
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
	ce, err := events.New(domain.AppointmentEvent("evt_results", domain.EventAppointmentResultsReady, now, a), "")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := events.Encode(ce)
	bkk, _ := time.LoadLocation("Asia/Bangkok")
	clock := time.Date(2026, 12, 2, 2, 30, 0, 0, bkk)
	sms := &countingSender{}
	opts, err := notifications.NotifyOptionsFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return clock }
	held := &heldDelays{got: map[string]time.Duration{}}
	c := notifications.NewNotificationConsumer(store, &deadLetters{}, held, map[notify.Channel]notify.Sender{notify.ChannelSMS: sms}, opts)

	resp, err := c.Handle(ctx, sqsEvent(string(body)))
	if err == nil && len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a held job was acknowledged: %+v", resp)
	}
	if held.got["m-0"] != 4*time.Hour+30*time.Minute || sms.n != 0 {
		t.Fatalf("delays %v, %d SMS", held.got, sms.n)
	}
	clock = time.Date(2026, 12, 2, 7, 0, 0, 0, bkk)
	if resp, err := c.Handle(ctx, sqsEvent(string(body))); err != nil || len(resp.BatchItemFailures) != 0 || sms.n != 1 {
		t.Fatalf("at 07:00: %+v %v, %d SMS", resp, err, sms.n)
	}
}

// countingSender accepts every message.
type countingSender struct{ n int }

func (s *countingSender) Send(context.Context, notify.Message) (string, error) {
	s.n++
	return fmt.Sprintf("sms-%d", s.n), nil
}
