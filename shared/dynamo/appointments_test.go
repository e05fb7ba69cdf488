package dynamo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func TestAppointmentRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a", "res_b")
	before := mustJSON(t, a)
	if !json.Valid([]byte(before)) || !strings.Contains(before, `"start":"2026-12-01T09:00:00+07:00"`) {
		t.Fatalf("fixture JSON %s", before)
	}
	h := booking(a)
	ok(t, s.CreateAppointment(ctx, a, h, booked(a)))

	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	if after := mustJSON(t, got); after != before {
		t.Fatalf("JSON changed by storage:\nbefore %s\nafter  %s", before, after)
	}
	if len(got.Cells) != len(a.Cells) {
		t.Fatalf("cells %v, want %v", got.Cells, a.Cells)
	}
	for i := range a.Cells {
		g, w := got.Cells[i], a.Cells[i]
		if g.ResourceID != w.ResourceID || !g.Start.Equal(w.Start) || g.Date != w.Date {
			t.Fatalf("cell %d: %+v, want %+v", i, g, w)
		}
		if _, off := g.Start.Zone(); off != 7*3600 {
			t.Fatalf("cell %d start %v not in the appointment's offset", i, g.Start)
		}
	}

	hist, err := s.History(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "history", hist, []domain.HistoryEntry{h})

	_, err = s.GetAppointment(ctx, "apt_nope")
	wantCode(t, err, apperr.NotFound)

	// Same id again: CONFLICT (the cells are the same too; the appointment wins).
	wantCode(t, s.CreateAppointment(ctx, a, h, booked(a)), apperr.Conflict)

	// An appointment without optional fields or cells round-trips too.
	bare := domain.Appointment{ID: "apt_2", Status: domain.StatusCancelled, BranchID: "br_1", Start: at(2, 8, 0), End: at(2, 8, 15),
		Patient: domain.Patient{ID: "pat_2", Name: "X"}, Version: 3}
	ok(t, s.CreateAppointment(ctx, bare, domain.HistoryEntry{At: bare.Start}, booked(bare)))
	got, err = s.GetAppointment(ctx, bare.ID)
	ok(t, err)
	sameJSON(t, "bare appointment", got, bare)
	if got.Cells != nil {
		t.Fatalf("cells = %v", got.Cells)
	}
}

func TestOccupancy(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a1 := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	a2 := appt("apt_2", "br_1", "pat_2", at(1, 9, 0), 1, "res_b")
	a3 := appt("apt_3", "br_1", "pat_1", at(2, 23, 45), 1, "res_a")
	other := appt("apt_4", "br_2", "pat_1", at(1, 9, 0), 1, "res_a")
	for _, a := range []domain.Appointment{a1, a2, a3, other} {
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	}
	got := occupancyOf(t, s, "br_1", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-01")
	want := map[string]string{
		"res_a@01T09:00": "apt_1", "res_a@01T09:15": "apt_1", "res_b@01T09:00": "apt_2", "res_a@02T23:45": "apt_3",
	}
	sameJSON(t, "occupancy", got, want)

	counting := &countingClient{Client: raw}
	occ, err := New(counting, s.Table()).Occupancy(ctx, "br_1", []string{"2026-12-01", "2026-12-02", "2026-12-03"})
	ok(t, err)
	if q := counting.queries.Load(); q != 3 || len(occ) != 4 {
		t.Fatalf("%d queries, %d cells; want 3 and 4", q, len(occ))
	}
	if occ[domain.CellKey{ResourceID: "res_a", Start: at(1, 9, 15).Unix()}] != "apt_1" {
		t.Fatalf("occupancy keyed wrongly: %v", occ)
	}

	occ, err = s.Occupancy(ctx, "br_1", nil)
	ok(t, err)
	if len(occ) != 0 {
		t.Fatalf("occupancy of no dates: %v", occ)
	}

	// A cancelled context is an error, never a partial answer.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Occupancy(cctx, "br_1", []string{"2026-12-01"})
	wantCode(t, err, apperr.Internal)
}

func TestOccupancyManyDates(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var dates []string
	want := map[string]string{}
	for d := 1; d <= 20; d++ {
		a := appt("apt_"+time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC).Format("0102"), "br_1", "pat_1", at(d, 10, 0), 1, "res_a")
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
		dates = append(dates, a.Start.Format(dateLayout))
		want["res_a@"+a.Start.Format("02T15:04")] = a.ID
	}
	sameJSON(t, "occupancy of 20 dates", occupancyOf(t, s, "br_1", dates...), want)
}

func TestCreateWithTakenCellWritesNothing(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a1 := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	ok(t, s.CreateAppointment(ctx, a1, booking(a1), booked(a1)))
	before := countEntities(t, raw, s.Table())

	// res_b is free, but res_a@09:15 is held by apt_1.
	a2 := appt("apt_2", "br_1", "pat_2", at(1, 9, 15), 2, "res_b", "res_a")
	wantCode(t, s.CreateAppointment(ctx, a2, booking(a2), booked(a2)), apperr.SlotUnavailable)

	_, err := s.GetAppointment(ctx, a2.ID)
	wantCode(t, err, apperr.NotFound)
	hist, err := s.History(ctx, a2.ID)
	ok(t, err)
	if len(hist) != 0 {
		t.Fatalf("history written: %v", hist)
	}
	sameJSON(t, "occupancy", occupancyOf(t, s, "br_1", "2026-12-01"), map[string]string{
		"res_a@01T09:00": "apt_1", "res_a@01T09:15": "apt_1",
	})
	sameJSON(t, "items", countEntities(t, raw, s.Table()), before)
}

func TestCreateRejectsDuplicateAndTooManyCells(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 1, "res_a")
	a.Cells = append(a.Cells, a.Cells[0])
	wantCode(t, s.CreateAppointment(ctx, a, booking(a), booked(a)), apperr.Validation)

	// Appointment, history, the patient's visit set and outbox record leave
	// 96 items for cells.
	big := appt("apt_2", "br_1", "pat_1", at(1, 7, 0), 96, "res_a") // 96 cells + 4 items
	ok(t, s.CreateAppointment(ctx, big, booking(big), booked(big)))
	big2 := appt("apt_3", "br_1", "pat_1", at(6, 7, 0), 97, "res_a") // 97 cells + 4 items
	wantCode(t, s.CreateAppointment(ctx, big2, booking(big2), booked(big2)), apperr.Validation)
	if n := countEntities(t, raw, s.Table())[entityCell]; n != 96 {
		t.Fatalf("%d cells stored, want 96", n)
	}
}

func TestUpdateMove(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a") // 09:00, 09:15
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	neighbour := appt("apt_2", "br_1", "pat_2", at(1, 9, 45), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, neighbour, booking(neighbour), booked(neighbour)))

	// Move by one cell on the same resource: 09:15 is kept, 09:00 released,
	// 09:30 taken.
	b := moved(a, at(1, 9, 15))
	hb := change(a, b)
	ok(t, s.update(ctx, a, b, hb, changed(b)))
	sameJSON(t, "occupancy after move", occupancyOf(t, s, "br_1", "2026-12-01"), map[string]string{
		"res_a@01T09:15": "apt_1", "res_a@01T09:30": "apt_1", "res_a@01T09:45": "apt_2",
	})
	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "moved appointment", got, b)

	// Moving onto the neighbour is refused and changes nothing.
	c := moved(b, at(1, 9, 30))
	before := countEntities(t, raw, s.Table())
	wantCode(t, s.update(ctx, b, c, change(b, c), changed(c)), apperr.SlotUnavailable)
	got, err = s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "after refused move", got, b)
	sameJSON(t, "items after refused move", countEntities(t, raw, s.Table()), before)

	// Move to another day: the branch-day lists follow.
	d := moved(b, at(3, 14, 0))
	hd := change(b, d)
	ok(t, s.update(ctx, b, d, hd, changed(d)))
	sameJSON(t, "occupancy day 1", occupancyOf(t, s, "br_1", "2026-12-01"), map[string]string{"res_a@01T09:45": "apt_2"})
	sameJSON(t, "occupancy day 3", occupancyOf(t, s, "br_1", "2026-12-03"), map[string]string{
		"res_a@03T14:00": "apt_1", "res_a@03T14:15": "apt_1",
	})
	day1, err := s.ListAppointmentsByBranchDay(ctx, "br_1", "2026-12-01", 10, "")
	ok(t, err)
	sameJSON(t, "day 1 list", day1.Items, []domain.Appointment{neighbour})
	day3, err := s.ListAppointmentsByBranchDay(ctx, "br_1", "2026-12-03", 10, "")
	ok(t, err)
	sameJSON(t, "day 3 list", day3.Items, []domain.Appointment{d})

	hist, err := s.History(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "history", hist, []domain.HistoryEntry{booking(a), hb, hd})
}

func TestUpdateCancelReleasesAll(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a", "res_b")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))

	c := a
	c.Status = domain.StatusCancelled
	c.Cells = nil
	c.Version = 2
	c.UpdatedAt = a.UpdatedAt.Add(time.Minute)
	ok(t, s.update(ctx, a, c, change(a, c), changed(c)))
	if occ := occupancyOf(t, s, "br_1", "2026-12-01"); len(occ) != 0 {
		t.Fatalf("cells left: %v", occ)
	}
	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "cancelled", got, c)

	// The freed cells can be booked again.
	a2 := appt("apt_2", "br_1", "pat_2", at(1, 9, 0), 2, "res_a", "res_b")
	ok(t, s.CreateAppointment(ctx, a2, booking(a2), booked(a2)))

	// A status change without cell changes touches only appointment + history.
	ci := a2
	ci.Status = domain.StatusCheckedIn
	ci.Version = 2
	ok(t, s.update(ctx, a2, ci, change(a2, ci), changed(ci)))
	if occ := occupancyOf(t, s, "br_1", "2026-12-01"); len(occ) != 4 {
		t.Fatalf("occupancy after check-in: %v", occ)
	}
}

func TestUpdateStaleVersionChangesNothing(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	a := appt("apt_1", "br_1", "pat_1", at(1, 9, 0), 2, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	b := moved(a, at(1, 10, 0))
	ok(t, s.update(ctx, a, b, change(a, b), changed(b)))
	before := countEntities(t, raw, s.Table())

	// A second writer still holding version 1.
	stale := moved(a, at(1, 11, 0))
	wantCode(t, s.update(ctx, a, stale, change(a, stale), changed(stale)), apperr.Conflict)

	got, err := s.GetAppointment(ctx, a.ID)
	ok(t, err)
	sameJSON(t, "appointment", got, b)
	sameJSON(t, "occupancy", occupancyOf(t, s, "br_1", "2026-12-01"), map[string]string{
		"res_a@01T10:00": "apt_1", "res_a@01T10:15": "apt_1",
	})
	hist, err := s.History(ctx, a.ID)
	ok(t, err)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want 2", len(hist))
	}
	sameJSON(t, "items", countEntities(t, raw, s.Table()), before)

	// Missing appointment: CONFLICT too (the version condition fails).
	ghost := appt("apt_9", "br_1", "pat_1", at(1, 12, 0), 1, "res_a")
	next := moved(ghost, at(1, 13, 0))
	wantCode(t, s.update(ctx, ghost, next, change(ghost, next), changed(next)), apperr.Conflict)

	// Programming errors are INTERNAL.
	bad := b
	bad.Version = b.Version + 5
	wantCode(t, s.update(ctx, b, bad, change(b, bad), changed(bad)), apperr.Internal)
}
