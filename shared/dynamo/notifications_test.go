package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/notify"
)

func TestDeliveryClaimIsAtMostOnce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	d := notify.Delivery{AppointmentID: "apt_1", JobID: "evt_1", Kind: notify.KindConfirmation, Channel: notify.ChannelSMS,
		Status: notify.StatusSending, CreatedAt: t0, UpdatedAt: t0, LeaseUntil: t0.Add(time.Minute)}

	claimed, stored, err := s.ClaimDelivery(ctx, d, t0)
	if err != nil || !claimed || stored.Status != notify.StatusSending || stored.Attempts != 0 {
		t.Fatalf("first claim: %v %v %+v", claimed, err, stored)
	}
	// A concurrent claim while the lease holds is refused and sees Sending.
	claimed, stored, err = s.ClaimDelivery(ctx, d, t0.Add(30*time.Second))
	if err != nil || claimed || stored.Status != notify.StatusSending {
		t.Fatalf("claim under lease: %v %v %+v", claimed, err, stored)
	}
	// The holder died after two attempts: record them as a crash would leave them.
	d.Attempts = 2
	// After the lease a retry takes over, keeping creation time.
	later := d
	later.CreatedAt, later.UpdatedAt, later.LeaseUntil = t0.Add(2*time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
	claimed, stored, err = s.ClaimDelivery(ctx, later, t0.Add(2*time.Minute))
	if err != nil || !claimed || !stored.CreatedAt.Equal(t0) || !stored.LeaseUntil.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("take-over: %v %v %+v", claimed, err, stored)
	}
	// The provider stays down: the delivery is released for the job's
	// redelivery with its attempts, and the next claim continues them.
	stored.Attempts, stored.Reason, stored.UpdatedAt, stored.LeaseUntil = 2, "provider_unavailable", t0.Add(150*time.Second), t0.Add(150*time.Second)
	if err := s.ReleaseDelivery(ctx, stored); err != nil {
		t.Fatal(err)
	}
	again := later
	again.LeaseUntil = t0.Add(10 * time.Minute)
	claimed, stored, err = s.ClaimDelivery(ctx, again, t0.Add(151*time.Second))
	if err != nil || !claimed || stored.Attempts != 2 || !stored.CreatedAt.Equal(t0) {
		t.Fatalf("claim after release: %v %v %+v", claimed, err, stored)
	}
	stored.Status, stored.Attempts, stored.ProviderMessageID, stored.UpdatedAt = notify.StatusSent, 3, "sms-123", t0.Add(3*time.Minute)
	if err := s.FinishDelivery(ctx, stored); err != nil {
		t.Fatal(err)
	}
	// Final: never claimed again, never finished twice.
	claimed, stored, err = s.ClaimDelivery(ctx, later, t0.Add(time.Hour))
	if err != nil || claimed || stored.Status != notify.StatusSent || stored.Attempts != 3 || stored.ProviderMessageID != "sms-123" {
		t.Fatalf("claim after final: %v %v %+v", claimed, err, stored)
	}
	if err := s.FinishDelivery(ctx, stored); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second finish: %v, want CONFLICT", err)
	}
	if err := s.ReleaseDelivery(ctx, stored); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("release of a final delivery: %v, want CONFLICT", err)
	}

	// A final status is claimed directly (opted out), once.
	opt := d
	opt.Channel, opt.Status, opt.Reason, opt.Attempts = notify.ChannelEmail, notify.StatusOptedOut, "opted_out", 0
	if claimed, _, err := s.ClaimDelivery(ctx, opt, t0); err != nil || !claimed {
		t.Fatalf("opted-out claim: %v %v", claimed, err)
	}
	if claimed, _, err := s.ClaimDelivery(ctx, opt, t0.Add(time.Hour)); err != nil || claimed {
		t.Fatalf("second opted-out claim: %v %v", claimed, err)
	}

	log, err := s.ListDeliveries(ctx, "apt_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Channel != notify.ChannelEmail || log[1].Channel != notify.ChannelSMS ||
		log[1].Status != notify.StatusSent || log[0].Status != notify.StatusOptedOut {
		t.Fatalf("log: %+v", log)
	}
	if other, err := s.ListDeliveries(ctx, "apt_2"); err != nil || len(other) != 0 {
		t.Fatalf("other appointment's log: %+v %v", other, err)
	}
}

func TestProfilePreferencesAndDevices(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	p, err := s.GetProfile(ctx, "pat_1")
	if err != nil || p.Set || len(p.Devices) != 0 {
		t.Fatalf("empty profile: %+v %v", p, err)
	}
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	if err := s.PutPreferences(ctx, "pat_1", notify.Preferences{SMS: false, Email: true, Push: true}, t0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < notify.MaxDevicesPerPatient+2; i++ {
		created, err := s.PutDevice(ctx, "pat_1", notify.Device{Token: fmt.Sprintf("token-%02d-abcdefghijklmnop", i), Platform: "fcm", RegisteredAt: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil || !created {
			t.Fatalf("device %d: %v %v", i, created, err)
		}
	}
	// Re-registering is not a new device.
	if created, err := s.PutDevice(ctx, "pat_1", notify.Device{Token: "token-05-abcdefghijklmnop", Platform: "fcm", RegisteredAt: t0.Add(time.Hour)}); err != nil || created {
		t.Fatalf("re-register: %v %v", created, err)
	}
	p, err = s.GetProfile(ctx, "pat_1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Set || p.Preferences.SMS || !p.Preferences.Email || !p.UpdatedAt.Equal(t0) {
		t.Fatalf("preferences: %+v", p)
	}
	if len(p.Devices) != notify.MaxDevicesPerPatient {
		t.Fatalf("%d devices, want the cap %d", len(p.Devices), notify.MaxDevicesPerPatient)
	}
	for _, d := range p.Devices {
		if d.Token == "token-00-abcdefghijklmnop" || d.Token == "token-01-abcdefghijklmnop" {
			t.Fatalf("the oldest devices were kept: %+v", p.Devices)
		}
	}
	if err := s.RemoveDevice(ctx, "pat_1", "token-05-abcdefghijklmnop"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDevice(ctx, "pat_1", "never-registered-token-x"); err != nil {
		t.Fatal(err)
	}
	p, _ = s.GetProfile(ctx, "pat_1")
	if len(p.Devices) != notify.MaxDevicesPerPatient-1 {
		t.Fatalf("after remove: %d devices", len(p.Devices))
	}
	// Another patient's partition is separate.
	if q, _ := s.GetProfile(ctx, "pat_2"); q.Set || len(q.Devices) != 0 {
		t.Fatalf("pat_2: %+v", q)
	}
}
