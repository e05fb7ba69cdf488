package app_test

import (
	"context"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func TestSystemTransition(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	sweep := domain.ActorRef{ID: "status-sweep", Role: domain.RoleSystem}
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)

	// Only the system acts here; people go through Transition.
	for _, actor := range []domain.ActorRef{{ID: "u-staff", Role: domain.RoleStaff}, {ID: "u-admin", Role: domain.RoleAdmin}, {Role: domain.RoleSystem}} {
		_, err := f.svc.SystemTransition(ctx, actor, a.ID, domain.StatusNoShow, "", nil)
		wantCode(t, err, apperr.Validation)
	}
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, domain.StatusBooked, "", nil)
	wantCode(t, err, apperr.Validation)
	_, err = f.svc.SystemTransition(ctx, sweep, "apt_missing", domain.StatusNoShow, "", nil)
	wantCode(t, err, apperr.NotFound)
	// Not before the start (fixedNow is days earlier).
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, domain.StatusNoShow, "", nil)
	wantCode(t, err, apperr.InvalidTransition)

	f.clock.Set(bkk("2026-12-01T09:00:00+07:00"))
	// The job's own rule is checked on the appointment as read: false
	// refuses the change.
	var seen []int
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, domain.StatusNoShow, "no-show sweep", func(cur domain.Appointment) bool {
		seen = append(seen, cur.Version)
		return false
	})
	wantCode(t, err, apperr.InvalidTransition)
	if len(seen) != 1 || seen[0] != a.Version {
		t.Fatalf("rule saw versions %v, want [%d]", seen, a.Version)
	}
	if got := f.get(t, a.ID); got.Status != domain.StatusBooked || got.Version != a.Version {
		t.Fatalf("a refused change changed %+v", got)
	}

	got, err := f.svc.SystemTransition(ctx, sweep, a.ID, domain.StatusNoShow, " no-show sweep ", func(domain.Appointment) bool { return true })
	must(t, err)
	if got.Status != domain.StatusNoShow || got.Version != a.Version+1 || len(got.Cells) != 0 {
		t.Fatalf("changed to %+v", got)
	}
	hs, err := f.svc.History(ctx, admin, a.ID)
	must(t, err)
	last := hs[len(hs)-1]
	if len(hs) != 2 || last.Actor != sweep || last.Reason != "no-show sweep" || last.From != domain.StatusBooked || last.To != domain.StatusNoShow {
		t.Fatalf("history %+v", hs)
	}
	if evs := f.outbox(t)[a.ID]; typesOf(evs) != "appointment.booked appointment.no_show" {
		t.Fatalf("events %s", typesOf(evs))
	}
	// The lifecycle still rules: a no-show is final.
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, domain.StatusCheckedIn, "", nil)
	wantCode(t, err, apperr.InvalidTransition)
}
