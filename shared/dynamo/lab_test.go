package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// integrationStep moves *st to status `to` as the next version and returns
// its step.
func integrationStep(st *domain.Appointment, to domain.Status, typ string) app.Step {
	from := st.Status
	st.Status, st.Version, st.UpdatedAt = to, st.Version+1, st.UpdatedAt.Add(time.Second)
	snap := *st
	return app.Step{
		History: domain.HistoryEntry{At: snap.UpdatedAt, From: from, To: to, Actor: app.ActorLIS, Start: snap.Start, End: snap.End},
		Event:   event(typ, snap),
		State:   snap,
	}
}

// TestMultiStepChange: the appointment with its lab order, one history
// entry and one outbox event per step (each with its step's state) and the
// link item land together; a stale version or an existing link writes
// nothing.
func TestMultiStepChange(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	_, err := s.LabOrderAppointment(ctx, "LO-1")
	wantCode(t, err, apperr.NotFound)

	next := a
	next.LabOrders = []domain.LabOrder{{ID: "LO-1", AppointmentID: a.ID, Samples: []domain.Sample{
		{ID: "S-1", Status: domain.SampleCollected, UpdatedAt: at(1, 9, 5), Sequence: 1},
	}}}
	steps := []app.Step{
		integrationStep(&next, domain.StatusBooked, domain.EventAppointmentSampleStatusChanged),
		integrationStep(&next, domain.StatusCheckedIn, domain.EventAppointmentCheckedIn),
		integrationStep(&next, domain.StatusCompleted, domain.EventAppointmentCompleted),
	}
	links := []app.LabOrderLink{{LabOrderID: "LO-1", AppointmentID: a.ID}}
	ok(t, s.writeChange(ctx, a, app.Change{Steps: steps, Links: links}))

	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "appointment", got, next)
	id, err := s.LabOrderAppointment(ctx, "LO-1")
	if err != nil || id != a.ID {
		t.Fatalf("link = %q, %v", id, err)
	}
	hs, err := s.History(ctx, a.ID)
	ok(t, err)
	if len(hs) != 4 || hs[3].To != domain.StatusCompleted || hs[1].Actor != app.ActorLIS {
		t.Fatalf("history %+v", hs)
	}
	byData := map[string]string{}
	for _, it := range outboxItems(t, raw, s.Table()) {
		ce, err := events.Decode([]byte(str(it, attrOutboxCloudEvent)))
		ok(t, err)
		byData[string(ce.Data)] = ce.Type
	}
	for _, st := range steps {
		if byData[mustJSON(t, events.AppointmentDataOf(st.State))] != st.Event.Type {
			t.Errorf("no %s event carries v%d as committed", st.Event.Type, st.State.Version)
		}
	}

	// Stale version (prev is the booked version): CONFLICT, nothing written.
	stale := a
	st := integrationStep(&stale, domain.StatusBooked, domain.EventAppointmentSampleStatusChanged)
	wantCode(t, s.writeChange(ctx, a, app.Change{Steps: []app.Step{st}}), apperr.Conflict)
	// An existing link: CONFLICT (a concurrent event linked the order first).
	cur := got
	n2 := cur
	st2 := integrationStep(&n2, domain.StatusCompleted, domain.EventAppointmentSampleStatusChanged)
	wantCode(t, s.writeChange(ctx, cur, app.Change{Steps: []app.Step{st2}, Links: []app.LabOrderLink{{LabOrderID: "LO-1", AppointmentID: "apt_2"}}}), apperr.Conflict)
	if after, _ := s.GetAppointment(ctx, a.ID); after.Version != next.Version {
		t.Fatalf("a failed change was written: v%d", after.Version)
	}
	// Version arithmetic is checked before writing.
	wantCode(t, s.writeChange(ctx, cur, app.Change{}), apperr.Internal)
	skipped := st2
	skipped.State.Version++
	wantCode(t, s.writeChange(ctx, cur, app.Change{Steps: []app.Step{skipped}}), apperr.Internal)
}
