package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func (f *fixture) integrations() *app.Integrations { return app.NewIntegrations(f.store, f.clock.Now) }

var labT0 = time.Date(2026, 12, 1, 1, 5, 0, 0, time.UTC)

func sampleEv(n int, apptID, order, sample string, st domain.SampleStatus) domain.SampleEvent {
	return domain.SampleEvent{
		EventID: fmt.Sprintf("lis-%d", n), OccurredAt: labT0.Add(time.Duration(n) * time.Minute),
		AppointmentID: apptID, LabOrderID: order, SampleID: sample, Status: st, Sequence: int64(n),
	}
}

func (f *fixture) get(t *testing.T, id string) domain.Appointment {
	t.Helper()
	a, err := f.store.GetAppointment(context.Background(), id)
	must(t, err)
	return a
}

func rankOf(s domain.SampleStatus) int {
	for i, x := range domain.SampleStatuses() {
		if x == s {
			return min(i, 4)
		}
	}
	return -1
}

// TestLabOutOfOrderAndDuplicates: an LIS sequence delivered out of order,
// with duplicates and a stale event, ends in the highest status; no sample
// ever moves backwards, and the visit is completed once.
func TestLabOutOfOrderAndDuplicates(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	lis := f.integrations()

	// received (carries the appointment: links), collected late without the
	// appointment id, resulted, then stale in_progress and duplicates.
	seq := []domain.SampleEvent{
		sampleEv(2, a.ID, "LO-1", "S-1", domain.SampleReceived),
		sampleEv(1, "", "LO-1", "S-1", domain.SampleCollected),
		sampleEv(4, "", "LO-1", "S-1", domain.SampleResulted),
		sampleEv(2, a.ID, "LO-1", "S-1", domain.SampleReceived),
		sampleEv(3, "", "LO-1", "S-1", domain.SampleInProgress),
		sampleEv(4, "", "LO-1", "S-1", domain.SampleResulted),
	}
	last := -1
	for i, ev := range seq {
		must(t, lis.ApplySampleStatus(ctx, ev))
		got := f.get(t, a.ID)
		if len(got.LabOrders) != 1 || len(got.LabOrders[0].Samples) != 1 {
			t.Fatalf("after event %d: lab orders %+v", i, got.LabOrders)
		}
		r := rankOf(got.LabOrders[0].Samples[0].Status)
		if r < last {
			t.Fatalf("after event %d: sample moved backwards to %s", i, got.LabOrders[0].Samples[0].Status)
		}
		last = r
	}
	got := f.get(t, a.ID)
	if s := got.LabOrders[0].Samples[0]; s.Status != domain.SampleResulted || s.Sequence != 4 {
		t.Fatalf("sample = %+v, want resulted seq 4", s)
	}
	if got.Status != domain.StatusCompleted || got.LabOrders[0].AppointmentID != a.ID {
		t.Fatalf("appointment %s, lab order %+v", got.Status, got.LabOrders[0])
	}
	// received, resulted: two sample changes (the others were stale or
	// duplicates), plus the two completion steps.
	hs, err := f.svc.History(ctx, admin, a.ID)
	must(t, err)
	if len(hs) != 1+2+2 {
		t.Fatalf("history %d entries, want 5: %+v", len(hs), hs)
	}
	if ces := f.outbox(t)[a.ID]; typesOf(ces) != "appointment.booked appointment.sample_status_changed appointment.checked_in appointment.completed appointment.results_ready" {
		t.Errorf("events %s", typesOf(ces))
	}
	// The lab order is linked: an event with only its id finds the visit.
	id, err := f.store.LabOrderAppointment(ctx, "LO-1")
	if err != nil || id != a.ID {
		t.Fatalf("link = %q, %v", id, err)
	}
}

// TestLabCollectedCompletesVisit: the first sample taken moves a booked visit
// to completed in two history entries by the LIS, in one transaction with the
// sample's own entry; a later sample does not add steps.
func TestLabCollectedCompletesVisit(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	lis := f.integrations()
	must(t, lis.ApplySampleStatus(ctx, sampleEv(1, a.ID, "LO-1", "S-1", domain.SampleCollected)))
	got := f.get(t, a.ID)
	if got.Status != domain.StatusCompleted || got.Version != a.Version+3 {
		t.Fatalf("status %s version %d, want completed %d", got.Status, got.Version, a.Version+3)
	}
	hs, err := f.svc.History(ctx, admin, a.ID)
	must(t, err)
	var steps []string
	for _, h := range hs[1:] {
		if h.Actor != app.ActorLIS {
			t.Errorf("history actor %+v", h.Actor)
		}
		if h.From != h.To {
			steps = append(steps, string(h.From)+"→"+string(h.To))
		}
	}
	if fmt.Sprint(steps) != "[booked→checked_in checked_in→completed]" {
		t.Fatalf("status steps %v", steps)
	}
	must(t, lis.ApplySampleStatus(ctx, sampleEv(2, "", "LO-1", "S-2", domain.SampleCollected)))
	if got := f.get(t, a.ID); got.Status != domain.StatusCompleted || got.Version != a.Version+4 || len(got.LabOrders[0].Samples) != 2 {
		t.Fatalf("after a second sample: %s v%d %+v", got.Status, got.Version, got.LabOrders)
	}
}

// TestLabRecollectRequired flags the lab order and emits recollection_needed.
func TestLabRecollectRequired(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	lis := f.integrations()
	must(t, lis.ApplySampleStatus(ctx, sampleEv(1, a.ID, "LO-1", "S-1", domain.SampleCollected)))
	ev := sampleEv(2, "", "LO-1", "S-1", domain.SampleRecollectRequired)
	ev.Reason = "haemolysed"
	must(t, lis.ApplySampleStatus(ctx, ev))
	got := f.get(t, a.ID)
	if !got.LabOrders[0].RecollectionNeeded || got.LabOrders[0].Samples[0].Status != domain.SampleRecollectRequired {
		t.Fatalf("lab order %+v", got.LabOrders[0])
	}
	ces := f.outbox(t)[a.ID]
	if last := ces[len(ces)-1]; last.Type != domain.EventAppointmentRecollectionNeeded {
		t.Fatalf("events %s", typesOf(ces))
	}
	// A late collected changes nothing.
	must(t, lis.ApplySampleStatus(ctx, sampleEv(1, "", "LO-1", "S-1", domain.SampleCollected)))
	if again := f.get(t, a.ID); again.Version != got.Version {
		t.Fatalf("a stale event changed the visit: v%d → v%d", got.Version, again.Version)
	}
}

// TestLabUnknownIsTransient: an unknown appointment or an unlinked lab order
// is NOT_FOUND and not permanent (retried, then SQS's redrive dead-letters
// it); a lab order linked to another visit is permanent.
func TestLabUnknownIsTransient(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	lis := f.integrations()
	err := lis.ApplySampleStatus(ctx, sampleEv(1, "apt_missing", "LO-9", "S-1", domain.SampleCollected))
	wantCode(t, err, apperr.NotFound)
	if apperr.IsPermanent(err) {
		t.Error("unknown appointment is permanent")
	}
	err = lis.ApplySampleStatus(ctx, sampleEv(1, "", "LO-9", "S-1", domain.SampleCollected))
	wantCode(t, err, apperr.NotFound)
	if !errors.Is(err, domain.ErrLabOrderNotLinked) || apperr.IsPermanent(err) {
		t.Errorf("unlinked lab order: %v", err)
	}
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	b, err := f.book(patientB, f.draw, "2026-12-01T09:00:00+07:00")
	must(t, err)
	must(t, lis.ApplySampleStatus(ctx, sampleEv(1, a.ID, "LO-1", "S-1", domain.SampleCollected)))
	err = lis.ApplySampleStatus(ctx, sampleEv(2, b.ID, "LO-1", "S-1", domain.SampleReceived))
	if !errors.Is(err, domain.ErrContradiction) || !apperr.IsPermanent(err) {
		t.Fatalf("lab order of another visit: %v", err)
	}
	if got := f.get(t, b.ID); got.Version != b.Version || len(got.LabOrders) != 0 {
		t.Fatalf("the other visit changed: %+v", got)
	}
}

// TestLabConcurrentLinking: many events of one lab order at once, each
// carrying the appointment id, end with one link and every sample recorded.
func TestLabConcurrentEvents(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	lis := f.integrations()
	errs := make(chan error, 5)
	for i := range 5 {
		go func() {
			errs <- lis.ApplySampleStatus(ctx, sampleEv(i+1, a.ID, "LO-1", fmt.Sprintf("S-%d", i), domain.SampleCollected))
		}()
	}
	for range 5 {
		if err := <-errs; err != nil && !apperr.Is(err, apperr.Conflict) {
			t.Fatal(err)
		}
	}
	// Retry what lost (as SQS would), then check.
	for i := range 5 {
		must(t, lis.ApplySampleStatus(ctx, sampleEv(i+1, a.ID, "LO-1", fmt.Sprintf("S-%d", i), domain.SampleCollected)))
	}
	got := f.get(t, a.ID)
	if len(got.LabOrders) != 1 || len(got.LabOrders[0].Samples) != 5 || got.Status != domain.StatusCompleted {
		t.Fatalf("%s %+v", got.Status, got.LabOrders)
	}
}
