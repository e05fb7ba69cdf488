package app_test

import (
	"context"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// churningStore changes the branch's catalog (another container's hours
// write) just before each of the first n guarded bookings reaches the store,
// so every booking planned on the catalog it read finds it changed.
type churningStore struct {
	testStore
	n     int
	churn func()
}

func (c *churningStore) CreateAppointmentGuarded(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, g app.Guard) error {
	if c.n > 0 {
		c.n--
		c.churn()
	}
	return c.testStore.CreateAppointmentGuarded(ctx, a, h, ev, g)
}

// TestBookingWhoseCatalogKeepsChanging: a booking refreshes a changed catalog
// once and books; if the catalog changes again before it commits, the answer
// is TEMPORARILY_UNAVAILABLE (503 + Retry-After: the same request may simply
// be sent again), not SLOT_UNAVAILABLE or CONFLICT, which would tell the
// patient the time is gone. Nothing is booked then.
func TestBookingWhoseCatalogKeepsChanging(t *testing.T) {
	for _, tc := range []struct {
		changes int
		want    apperr.Code // "" = booked
	}{
		{changes: 1, want: ""},
		{changes: 2, want: apperr.Unavailable},
	} {
		f := newFixture(t, 1)
		other := app.New(f.store, f.clock.Now) // another warm container
		hours, err := other.GetHours(context.Background(), admin, f.branch.ID)
		must(t, err)
		cs := &churningStore{testStore: f.store, n: tc.changes, churn: func() {
			_, err := other.PutHours(context.Background(), admin, f.branch.ID, hours)
			must(t, err)
		}}
		svc := app.New(cs, f.clock.Now)
		_, err = svc.Book(context.Background(), f.staff, app.BookInput{
			BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-01T08:00:00+07:00"),
			Patient: domain.Patient{ID: "p-a", Name: "Somchai Jaidee", Phone: "+66812345678", Locale: "th"},
		})
		if tc.want == "" {
			must(t, err)
		} else {
			wantCode(t, err, tc.want)
		}
		if cs.n != 0 {
			t.Fatalf("%d changes: %d not reached (the booking did not try again)", tc.changes, cs.n)
		}
		if got, want := f.available(t, f.draw, "2026-12-01T08:00:00+07:00"), map[bool]int{true: 0, false: 1}[tc.want == ""]; got != want {
			t.Fatalf("%d changes: %d free at 08:00, want %d", tc.changes, got, want)
		}
	}
}
