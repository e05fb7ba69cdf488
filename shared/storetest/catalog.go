package storetest

import (
	"context"
	"errors"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// CatalogVersion: every catalog write changes the version LoadCatalog
// returns and is NOT_FOUND for a missing branch; a booking guarded by a
// catalog version commits only while the catalog is still at that version,
// else it fails with CONFLICT carrying app.ErrCatalogChanged and writes
// nothing.
func CatalogVersion(t T, s Store) {
	ctx := context.Background()
	b := domain.Branch{ID: "br_1", Name: "Asok", TimeZone: "Asia/Bangkok", SlotMinutes: 15, CreatedAt: then}
	must(t, s.PutBranch(ctx, b))
	version := func() int64 {
		t.Helper()
		c, err := s.LoadCatalog(ctx, b.ID)
		must(t, err)
		return c.Version
	}
	seen := map[int64]bool{version(): true}
	changed := func(what string) {
		t.Helper()
		v := version()
		if seen[v] {
			t.Fatalf("%s left the catalog version at %d, a version seen before", what, v)
		}
		seen[v] = true
	}
	must(t, s.PutHours(ctx, b.ID, domain.Hours{Weekly: []domain.DayHours{{Day: "tue", Open: "07:00", Close: "16:00"}}}))
	changed("PutHours")
	res := domain.Resource{ID: "res_a", BranchID: b.ID, Name: "Station", Type: domain.ResourceCollectionStation, Active: true, CreatedAt: then}
	must(t, s.PutResource(ctx, res))
	changed("PutResource (create)")
	res.Active = false
	must(t, s.PutResource(ctx, res))
	changed("PutResource (deactivate)")
	must(t, s.PutService(ctx, domain.Service{ID: "svc_1", BranchID: b.ID, Name: "Draw", DurationMinutes: 15, CreatedAt: then}))
	changed("PutService")

	wantCode(t, s.PutHours(ctx, "br_missing", domain.Hours{}), apperr.NotFound)
	wantCode(t, s.PutResource(ctx, domain.Resource{ID: "res_x", BranchID: "br_missing", Name: "X", Type: "room"}), apperr.NotFound)
	wantCode(t, s.PutService(ctx, domain.Service{ID: "svc_x", BranchID: "br_missing", Name: "X", DurationMinutes: 15}), apperr.NotFound)
	if _, err := s.LoadCatalog(ctx, "br_missing"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a refused catalog write created its branch: %v", err)
	}

	current := version()
	guarded := func(a domain.Appointment, v int64) error {
		h := domain.HistoryEntry{At: a.CreatedAt, To: a.Status, Actor: staff, Start: a.Start, End: a.End}
		ev := domain.AppointmentEvent(evID(), domain.EventAppointmentBooked, a.CreatedAt, a)
		return s.CreateAppointmentGuarded(ctx, a, h, ev, app.Guard{Now: then, CheckCatalog: true, CatalogVersion: v})
	}
	err := guarded(appt("apt_stale", nine, "res_a"), current-1)
	wantCode(t, err, apperr.Conflict)
	if !errors.Is(err, app.ErrCatalogChanged) {
		t.Fatalf("a stale catalog's error %v does not carry ErrCatalogChanged", err)
	}
	if _, err := s.GetAppointment(ctx, "apt_stale"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a booking on a stale catalog was written: %v", err)
	}
	must(t, guarded(appt("apt_current", nine, "res_a"), current))
}
