package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// workQueue collects the work items sent, in order.
type workQueue struct {
	mu    sync.Mutex
	items []app.CheckupWork
}

func (q *workQueue) SendWork(_ context.Context, items []app.CheckupWork) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, items...)
	return nil
}

func (q *workQueue) take() []app.CheckupWork {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

func roster(campaign string, f *fixture, svc domain.Service, n int, window domain.RosterWindow) app.Roster {
	r := app.Roster{CampaignID: campaign, BranchID: f.branch.ID, ServiceID: svc.ID, Window: window}
	for i := range n {
		r.Participants = append(r.Participants, domain.RosterParticipant{
			ExternalID: fmt.Sprintf("emp-%04d", i), Name: fmt.Sprintf("Employee %d", i),
			Phone: "+66812345678", Email: fmt.Sprintf("e%d@example.com", i), Locale: "en",
		})
	}
	return r
}

// TestCheckupRosterMoreParticipantsThanSlots places a roster of 300 for the
// 36 starts of one station's day: every start is filled once, the other 264
// are unplaced with no_capacity, and delivering the roster and every work
// item twice changes nothing.
func TestCheckupRosterMoreParticipantsThanSlots(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	q := &workQueue{}
	chk := app.NewCheckup(f.svc, f.store, q)
	window := domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"}
	r := roster("acme-2026", f, f.draw, 300, window)
	r.Participants[10].PreferredDate = "2026-12-01"
	r.Participants[11].PreferredDate = "2026-12-09"            // outside the window
	r.Participants = append(r.Participants, r.Participants[0]) // duplicate

	// Roster delivered twice before any work runs, then every item twice.
	must(t, chk.AcceptRoster(ctx, r))
	must(t, chk.AcceptRoster(ctx, r))
	work := q.take()
	if len(work) != 2*299 {
		t.Fatalf("work items = %d, want %d (299 bookable participants, twice)", len(work), 2*299)
	}
	// The first items in order, so that the participant with a preferred
	// date (emp-0010) is among the 36 placed however the goroutines below
	// are scheduled; then the rest by a few consumers at once, as Lambda
	// would run them.
	const first = 12
	for _, w := range work[:first] {
		must(t, chk.PlaceParticipant(ctx, w))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(work))
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := first + i; j < len(work); j += 4 {
				if err := chk.PlaceParticipant(ctx, work[j]); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A third roster delivery sends nothing more: nobody is pending.
	must(t, chk.AcceptRoster(ctx, r))
	if n := len(q.take()); n != 0 {
		t.Fatalf("after settling, a redelivered roster sent %d work items", n)
	}

	rep, err := chk.CampaignReport(ctx, f.staff, "acme-2026")
	must(t, err)
	if len(rep.Placed) != 36 || len(rep.Unplaced) != 264 || rep.Pending != 0 {
		t.Fatalf("placed %d, unplaced %d, pending %d; want 36, 264, 0", len(rep.Placed), len(rep.Unplaced), rep.Pending)
	}
	reasons := map[domain.PlacementReason]int{}
	for _, u := range rep.Unplaced {
		reasons[u.Reason]++
	}
	if reasons[domain.PlacementNoCapacity] != 263 || reasons[domain.PlacementOutsideWindow] != 1 {
		t.Fatalf("unplaced reasons = %v", reasons)
	}
	starts, appts := map[string]bool{}, map[string]bool{}
	preferredPlaced := false
	for _, p := range rep.Placed {
		if starts[p.Start.String()] || appts[p.AppointmentID] {
			t.Fatalf("start %v or appointment %s given twice", p.Start, p.AppointmentID)
		}
		starts[p.Start.String()], appts[p.AppointmentID] = true, true
		a, err := f.svc.GetAppointment(ctx, admin, p.AppointmentID)
		must(t, err)
		if a.Patient.ID != app.CheckupPatientID("acme-2026", p.ExternalID) || !a.Start.Equal(p.Start) || a.Status != domain.StatusBooked {
			t.Fatalf("appointment %s = %+v does not match its placement %+v", a.ID, a, p)
		}
		if p.ExternalID == "emp-0010" {
			preferredPlaced = true
		}
	}
	if !preferredPlaced {
		t.Fatal("the participant with a preferred date in the window was not placed")
	}
	// The branch-day holds exactly the 36 appointments, and nothing is left.
	page, err := f.svc.ListAppointments(ctx, admin, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01", Limit: 100})
	must(t, err)
	if len(page.Items) != 36 {
		t.Fatalf("appointments on the day = %d, want 36", len(page.Items))
	}
	slots, err := f.svc.Availability(ctx, admin, app.AvailabilityQuery{BranchID: f.branch.ID, ServiceID: f.draw.ID, From: "2026-12-01", To: "2026-12-01"})
	must(t, err)
	for _, s := range slots {
		if s.Available != 0 {
			t.Fatalf("start %v still has %d free after the campaign", s.Start, s.Available)
		}
	}
}

// TestCheckupReusesInterruptedBooking: a work item whose earlier run booked
// but died before recording the placement reuses that booking.
func TestCheckupReusesInterruptedBooking(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	q := &workQueue{}
	chk := app.NewCheckup(f.svc, f.store, q)
	r := roster("acme-int", f, f.draw, 1, domain.RosterWindow{From: "2026-12-01", To: "2026-12-02"})
	must(t, chk.AcceptRoster(ctx, r))
	w := q.take()[0]
	p := w.Participant
	a, err := f.svc.Book(ctx, app.CheckupActor, app.BookInput{BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-02T09:00:00+07:00"),
		Patient: domain.Patient{ID: app.CheckupPatientID("acme-int", p.ExternalID), Name: p.Name, Phone: p.Phone, Email: p.Email, Locale: p.Locale}})
	must(t, err)
	must(t, chk.PlaceParticipant(ctx, w))
	rep, err := chk.CampaignReport(ctx, admin, "acme-int")
	must(t, err)
	if len(rep.Placed) != 1 || rep.Placed[0].AppointmentID != a.ID {
		t.Fatalf("report = %+v, want the existing appointment %s", rep, a.ID)
	}
}

func TestCheckupRosterRefused(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	chk := app.NewCheckup(f.svc, f.store, &workQueue{})
	w := domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"}

	// Each refusal is permanent: the consumer dead-letters it at once.
	r := roster("c1", f, f.draw, 1, w)
	r.ServiceID = "svc_nope"
	wantPermanent(t, chk.AcceptRoster(ctx, r), apperr.NotFound)

	r = roster("c1", f, f.draw, 1, domain.RosterWindow{From: "2026-12-02", To: "2026-12-01"})
	wantPermanent(t, chk.AcceptRoster(ctx, r), apperr.Validation)

	must(t, chk.AcceptRoster(ctx, roster("c2", f, f.draw, 1, w)))
	wantPermanent(t, chk.AcceptRoster(ctx, roster("c2", f, f.checkup, 1, w)), apperr.Conflict)

	work := app.CheckupWork{SchemaVersion: app.CheckupWorkSchemaVersion, CampaignID: "c-nope", BranchID: f.branch.ID,
		ServiceID: f.draw.ID, Window: w, Participant: roster("c-nope", f, f.draw, 1, w).Participants[0]}
	wantPermanent(t, chk.PlaceParticipant(ctx, work), apperr.NotFound)
}

func wantPermanent(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	wantCode(t, err, code)
	if !apperr.IsPermanent(err) {
		t.Errorf("%v is not permanent", err)
	}
}

// settledElsewhere is a CampaignStore whose participant was settled
// meanwhile with another appointment: SettleParticipant answers CONFLICT
// (and from then on the appointment store fails), and GetParticipant then
// names the other appointment.
type settledElsewhere struct {
	app.CampaignStore
	outage *failingReads
}

func (s settledElsewhere) SettleParticipant(context.Context, string, app.CampaignParticipant) error {
	s.outage.on.Store(true)
	return apperr.E(apperr.Conflict, "participant settled meanwhile")
}

func (s settledElsewhere) GetParticipant(ctx context.Context, campaignID, externalID string) (app.CampaignParticipant, error) {
	p, err := s.CampaignStore.GetParticipant(ctx, campaignID, externalID)
	if s.outage.on.Load() { // after the conflicting settlement
		p.Status, p.AppointmentID = app.ParticipantPlaced, "apt_other"
	}
	return p, err
}

// failingReads is an app.Store whose appointment reads and updates fail
// transiently once switched on.
type failingReads struct {
	app.Store
	on atomic.Bool
}

var errOutage = errors.New("connection reset by peer")

func (s *failingReads) GetAppointment(ctx context.Context, id string) (domain.Appointment, error) {
	if s.on.Load() {
		return domain.Appointment{}, errOutage
	}
	return s.Store.GetAppointment(ctx, id)
}

func (s *failingReads) UpdateAppointment(ctx context.Context, id string, update app.UpdateFunc) (domain.Appointment, error) {
	if s.on.Load() {
		return domain.Appointment{}, errOutage
	}
	return s.Store.UpdateAppointment(ctx, id, update)
}

// TestCheckupDuplicateCancelFailsTransiently is issue 16's failure mode 6:
// the settlement conflicts (settled meanwhile with another appointment) and
// cancelling the duplicate just booked fails transiently. The joined error
// must be transient, so the work item is retried and the duplicate cancelled,
// not dead-lettered with the duplicate keeping its slot.
func TestCheckupDuplicateCancelFailsTransiently(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	q := &workQueue{}
	must(t, app.NewCheckup(f.svc, f.store, q).AcceptRoster(ctx, roster("acme-dup", f, f.draw, 1, domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"})))
	store := &failingReads{Store: f.store}
	chk := app.NewCheckup(app.New(store, f.clock.Now), settledElsewhere{CampaignStore: f.store, outage: store}, nil)
	err := chk.PlaceParticipant(ctx, q.take()[0])
	if !errors.Is(err, errOutage) || !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("err = %v, want the conflict joined with the failed cancellation", err)
	}
	if fate, _ := apperr.Classify(err); fate != apperr.Transient {
		t.Fatalf("the joined error is %v, want transient (the duplicate would keep its slot)", fate)
	}
}

func TestCheckupReportAuthorization(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	chk := app.NewCheckup(f.svc, f.store, &workQueue{})
	must(t, chk.AcceptRoster(ctx, roster("c-auth", f, f.draw, 3, domain.RosterWindow{From: "2026-12-01", To: "2026-12-01"})))

	for _, a := range []domain.Actor{admin, f.staff} {
		rep, err := chk.CampaignReport(ctx, a, "c-auth")
		must(t, err)
		if rep.Pending != 3 || rep.BranchID != f.branch.ID {
			t.Fatalf("%s: report = %+v", a.ID, rep)
		}
	}
	other := domain.Actor{ID: "u-other", Role: domain.RoleStaff, BranchIDs: []string{"br_other"}}
	for _, a := range []domain.Actor{other, patientA} {
		_, err := chk.CampaignReport(ctx, a, "c-auth")
		wantCode(t, err, apperr.NotFound)
	}
	_, err := chk.CampaignReport(ctx, domain.Actor{Role: domain.RoleAnonymous}, "c-auth")
	wantCode(t, err, apperr.Unauthenticated)
	_, err = chk.CampaignReport(ctx, admin, "c-missing")
	wantCode(t, err, apperr.NotFound)
}
