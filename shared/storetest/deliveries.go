package storetest

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/notice"
)

// DeliveryStore is the delivery log of the notification dispatcher
// (shared/notify's Store) and of the API's notification routes: one record
// per (appointment, job, channel), claimed before a send.
type DeliveryStore interface {
	ClaimDelivery(ctx context.Context, d notice.Delivery, now time.Time) (claimed bool, stored notice.Delivery, err error)
	FinishDelivery(ctx context.Context, d notice.Delivery) error
	ReleaseDelivery(ctx context.Context, d notice.Delivery) error
	ListDeliveries(ctx context.Context, appointmentID string) ([]notice.Delivery, error)
}

var dlvNow = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

func sending(job string, ch notice.Channel, at time.Time, lease time.Duration) notice.Delivery {
	return notice.Delivery{AppointmentID: "apt_d", JobID: job, Kind: notice.KindConfirmation, Channel: ch,
		Status: notice.StatusSending, CreatedAt: at, UpdatedAt: at, LeaseUntil: at.Add(lease)}
}

// DeliveryClaim: a delivery is claimed once while its lease runs; after the
// lease (ended by a release) another delivery of the job takes it over and
// keeps its attempts and creation time; the refusal returns what is stored.
func DeliveryClaim(t T, s Store) {
	ctx := context.Background()
	d := sending("evt_1", notice.ChannelSMS, dlvNow, 2*time.Minute)
	d.Attempts = 7 // not written: a new delivery starts at 0
	ok, got, err := s.ClaimDelivery(ctx, d, dlvNow)
	must(t, err)
	if !ok || got.Status != notice.StatusSending || got.Attempts != 0 || !got.LeaseUntil.Equal(d.LeaseUntil) || !got.CreatedAt.Equal(dlvNow) {
		t.Fatalf("first claim: %v %+v", ok, got)
	}
	again := sending("evt_1", notice.ChannelSMS, dlvNow.Add(time.Minute), 2*time.Minute)
	ok, got, err = s.ClaimDelivery(ctx, again, dlvNow.Add(time.Minute))
	must(t, err)
	if ok || got.Status != notice.StatusSending || !got.LeaseUntil.Equal(d.LeaseUntil) {
		t.Fatalf("a claim inside the lease: %v %+v, want refused with the stored claim", ok, got)
	}
	// The lease still runs at its last millisecond.
	if ok, _, err = s.ClaimDelivery(ctx, again, d.LeaseUntil); err != nil || ok {
		t.Fatalf("a claim at the lease's end: %v %v, want refused", ok, err)
	}
	// Another channel of the job is another delivery.
	email := sending("evt_1", notice.ChannelEmail, dlvNow, 2*time.Minute)
	if ok, _, err = s.ClaimDelivery(ctx, email, dlvNow); err != nil || !ok {
		t.Fatalf("the email of the same job: %v %v", ok, err)
	}
	// Release: attempts and reason kept, lease ended now.
	rel := d
	rel.Attempts, rel.Reason, rel.LeaseUntil, rel.UpdatedAt = 4, "provider_unavailable", dlvNow.Add(30*time.Second), dlvNow.Add(30*time.Second)
	must(t, s.ReleaseDelivery(ctx, rel))
	later := dlvNow.Add(3 * time.Minute)
	take := sending("evt_1", notice.ChannelSMS, later, 2*time.Minute)
	ok, got, err = s.ClaimDelivery(ctx, take, later)
	must(t, err)
	if !ok || got.Attempts != 4 || !got.CreatedAt.Equal(dlvNow) || !got.UpdatedAt.Equal(later) || !got.LeaseUntil.Equal(take.LeaseUntil) {
		t.Fatalf("take-over after the lease: %v %+v, want claimed with 4 attempts and the first CreatedAt", ok, got)
	}
	list, err := s.ListDeliveries(ctx, "apt_d")
	must(t, err)
	if len(list) != 2 || list[0].Channel != notice.ChannelEmail || list[1].Channel != notice.ChannelSMS {
		t.Fatalf("ListDeliveries = %+v, want email then sms (same CreatedAt: by channel)", list)
	}
	if other, err := s.ListDeliveries(ctx, "apt_other"); err != nil || len(other) != 0 {
		t.Fatalf("another appointment's log: %+v %v", other, err)
	}
}

// DeliveryFinal: a finished delivery is never claimed, finished or released
// again, and only a claimed delivery can be finished or released.
func DeliveryFinal(t T, s Store) {
	ctx := context.Background()
	d := sending("evt_2", notice.ChannelSMS, dlvNow, 2*time.Minute)
	wantCode(t, s.FinishDelivery(ctx, d), apperr.Conflict)
	wantCode(t, s.ReleaseDelivery(ctx, d), apperr.Conflict)
	_, _, err := s.ClaimDelivery(ctx, d, dlvNow)
	must(t, err)
	done := d
	done.Status, done.Attempts, done.ProviderMessageID, done.UpdatedAt = notice.StatusSent, 1, "pm-1", dlvNow.Add(time.Second)
	must(t, s.FinishDelivery(ctx, done))
	wantCode(t, s.FinishDelivery(ctx, done), apperr.Conflict)
	wantCode(t, s.ReleaseDelivery(ctx, done), apperr.Conflict)
	ok, got, err := s.ClaimDelivery(ctx, sending("evt_2", notice.ChannelSMS, dlvNow.Add(time.Hour), time.Minute), dlvNow.Add(time.Hour))
	must(t, err)
	if ok || got.Status != notice.StatusSent || got.ProviderMessageID != "pm-1" || got.Attempts != 1 || !got.LeaseUntil.IsZero() {
		t.Fatalf("claim of a sent delivery: %v %+v, want refused with the sent record", ok, got)
	}
	// A final status can be claimed directly (suppressed, opted out) and is final.
	sup := notice.Delivery{AppointmentID: "apt_d", JobID: "evt_3", Kind: notice.KindReminder, Channel: notice.ChannelPush,
		Status: notice.StatusSuppressed, Reason: "cancelled", CreatedAt: dlvNow, UpdatedAt: dlvNow}
	ok, got, err = s.ClaimDelivery(ctx, sup, dlvNow)
	must(t, err)
	if !ok || got.Status != notice.StatusSuppressed || !got.LeaseUntil.IsZero() {
		t.Fatalf("suppressed: %v %+v", ok, got)
	}
	if ok, _, err = s.ClaimDelivery(ctx, sending("evt_3", notice.ChannelPush, dlvNow.Add(time.Hour), time.Minute), dlvNow.Add(time.Hour)); err != nil || ok {
		t.Fatalf("claim of a suppressed delivery: %v %v, want refused", ok, err)
	}
}
