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
		_, err := f.svc.SystemTransition(ctx, actor, a.ID, a.Version, domain.StatusNoShow, "")
		wantCode(t, err, apperr.Validation)
	}
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, a.Version, domain.StatusBooked, "")
	wantCode(t, err, apperr.Validation)
	_, err = f.svc.SystemTransition(ctx, sweep, "apt_missing", 1, domain.StatusNoShow, "")
	wantCode(t, err, apperr.NotFound)
	// Not before the start (fixedNow is days earlier).
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, a.Version, domain.StatusNoShow, "")
	wantCode(t, err, apperr.InvalidTransition)

	f.clock.Set(bkk("2026-12-01T09:00:00+07:00"))
	// A decision taken on another version is refused.
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, a.Version+1, domain.StatusNoShow, "no-show sweep")
	wantCode(t, err, apperr.Conflict)
	if got := f.get(t, a.ID); got.Status != domain.StatusBooked || got.Version != a.Version {
		t.Fatalf("a refused change changed %+v", got)
	}

	got, err := f.svc.SystemTransition(ctx, sweep, a.ID, a.Version, domain.StatusNoShow, " no-show sweep ")
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
	_, err = f.svc.SystemTransition(ctx, sweep, a.ID, got.Version, domain.StatusCheckedIn, "")
	wantCode(t, err, apperr.InvalidTransition)
}
