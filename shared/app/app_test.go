package app_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/memstore"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var (
	admin    = domain.Actor{ID: "u-admin", Role: domain.RoleAdmin}
	patientA = domain.Actor{ID: "u-a", Role: domain.RolePatient, PatientID: "p-a"}
	patientB = domain.Actor{ID: "u-b", Role: domain.RolePatient, PatientID: "p-b"}
	// 2026-11-25 17:00 Bangkok: the Tuesday 2026-12-01 visits below are ~6 days ahead.
	fixedNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

// testStore is what the use-case tests need of a store: the in-memory one
// under -short (go test -short, no emulators), DynamoDB Local otherwise.
// Both pass the same contract (shared/storetest).
type testStore interface {
	app.Store
	app.IntegrationStore
	app.CampaignStore
	PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error)
}

var (
	_ testStore = (*dynamo.Store)(nil)
	_ testStore = (*memstore.Store)(nil)
)

type fixture struct {
	svc      *app.Service
	store    testStore
	dyn      *dynamo.Store // nil on the in-memory store
	clock    *clock
	branch   domain.Branch
	draw     domain.Service // 15 min, 1 collection_station
	checkup  domain.Service // 60 min, room + nurse
	stations []domain.Resource
	staff    domain.Actor
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// newFixture builds a branch in Bangkok open Mon–Sat 07:00–16:00 with the given
// number of collection stations, one room and one nurse, on a fresh table of
// DynamoDB Local, or on a fresh in-memory store under -short.
func newFixture(t *testing.T, stations int) *fixture {
	t.Helper()
	clk := &clock{now: fixedNow}
	f := &fixture{clock: clk}
	if testing.Short() {
		f.store = memstore.New()
	} else {
		client := testenv.DynamoDB(t)
		f.dyn = dynamo.New(client, testenv.NewTable(t, client))
		f.store = f.dyn
	}
	svc := app.New(f.store, clk.Now)
	f.svc = svc
	ctx := context.Background()
	var err error
	f.branch, err = svc.CreateBranch(ctx, admin, domain.Branch{Name: "Sukhumvit"})
	must(t, err)
	f.staff = domain.Actor{ID: "u-staff", Role: domain.RoleStaff, BranchIDs: []string{f.branch.ID}}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	_, err = svc.PutHours(ctx, admin, f.branch.ID, domain.Hours{Weekly: weekly, Closures: []domain.Closure{{Date: "2026-12-05", Reason: "King's birthday"}}})
	must(t, err)
	for i := 0; i < stations; i++ {
		r, err := svc.CreateResource(ctx, admin, f.branch.ID, domain.Resource{Name: "Station", Type: domain.ResourceCollectionStation})
		must(t, err)
		f.stations = append(f.stations, r)
	}
	_, err = svc.CreateResource(ctx, admin, f.branch.ID, domain.Resource{Name: "Room 1", Type: domain.ResourceRoom})
	must(t, err)
	_, err = svc.CreateResource(ctx, admin, f.branch.ID, domain.Resource{Name: "Nurse Ploy", Type: domain.ResourceNurse})
	must(t, err)
	f.draw, err = svc.CreateService(ctx, admin, f.branch.ID, domain.Service{
		Name: "Fasting blood draw", DurationMinutes: 15,
		Requires:         []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}},
		Preparation:      domain.Preparation{FastingHours: 8, Instructions: map[string]string{"en": "Water only after midnight", "th": "งดอาหาร"}},
		MinNoticeMinutes: 60, MaxAdvanceDays: 60, CancelCutoffMinutes: 120,
	})
	must(t, err)
	f.checkup, err = svc.CreateService(ctx, admin, f.branch.ID, domain.Service{
		Name: "Executive check-up", DurationMinutes: 60,
		Requires:         []domain.Requirement{{Type: domain.ResourceRoom, Count: 1}, {Type: domain.ResourceNurse, Count: 1}},
		MinNoticeMinutes: 60, MaxAdvanceDays: 60, CancelCutoffMinutes: 120,
	})
	must(t, err)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func bkk(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (f *fixture) book(actor domain.Actor, svc domain.Service, start string) (domain.Appointment, error) {
	return f.svc.Book(context.Background(), actor, app.BookInput{
		BranchID: f.branch.ID, ServiceID: svc.ID, Start: bkk(start),
		Patient: domain.Patient{ID: actor.PatientID, Name: "Somchai Jaidee", Phone: "+66812345678", Locale: "th"},
	})
}

func (f *fixture) available(t *testing.T, svc domain.Service, start string) int {
	t.Helper()
	slots, err := f.svc.Availability(context.Background(), patientA, app.AvailabilityQuery{BranchID: f.branch.ID, ServiceID: svc.ID, From: "2026-12-01", To: "2026-12-01"})
	must(t, err)
	for _, s := range slots {
		if s.Start.Equal(bkk(start)) {
			return s.Available
		}
	}
	return 0
}

// TestConcurrentBookingsNeverOverbook is the guarantee of the whole system: 50
// patients booking the same start at a branch with 2 stations → exactly 2 win.
func TestConcurrentBookingsNeverOverbook(t *testing.T) {
	f := newFixture(t, 2)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := domain.Actor{ID: "u", Role: domain.RolePatient, PatientID: "p-race-" + string(rune('a'+i%26)) + string(rune('a'+i/26))}
			_, errs[i] = f.book(p, f.draw, "2026-12-01T09:00:00+07:00")
		}(i)
	}
	wg.Wait()
	ok, full := 0, 0
	for _, err := range errs {
		switch apperr.CodeOf(err) {
		case "":
			ok++
		case apperr.SlotUnavailable:
			full++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 2 || full != n-2 {
		t.Fatalf("successes = %d, SLOT_UNAVAILABLE = %d; want 2 and %d", ok, full, n-2)
	}
	staff := f.staff
	page, err := f.svc.ListAppointments(context.Background(), staff, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01", Limit: 100})
	must(t, err)
	if len(page.Items) != 2 {
		t.Fatalf("table holds %d appointments at the branch that day, want 2", len(page.Items))
	}
	if page.Items[0].Resources[0] == page.Items[1].Resources[0] {
		t.Fatalf("both bookings hold station %s", page.Items[0].Resources[0])
	}
	if got := f.available(t, f.draw, "2026-12-01T09:00:00+07:00"); got != 0 {
		t.Fatalf("availability after the race = %d, want 0", got)
	}
}

func TestBookingLifecycle(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if got := f.available(t, f.draw, "2026-12-01T08:00:00+07:00"); got != 1 {
		t.Fatalf("available before booking = %d, want 1", got)
	}
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	if a.Status != domain.StatusBooked || a.Patient.ID != "p-a" || a.Version != 1 || len(a.Resources) != 1 || a.Preparation.FastingHours != 8 {
		t.Fatalf("booked = %+v", a)
	}
	if _, off := a.Start.Zone(); off != 7*3600 || !a.End.Equal(a.Start.Add(15*time.Minute)) {
		t.Fatalf("start/end = %v/%v, want +07:00 and 15 min", a.Start, a.End)
	}
	if got := f.available(t, f.draw, "2026-12-01T08:00:00+07:00"); got != 0 {
		t.Fatalf("available after booking = %d, want 0", got)
	}
	// The same slot again is full.
	_, err = f.book(patientB, f.draw, "2026-12-01T08:00:00+07:00")
	wantCode(t, err, apperr.SlotUnavailable)

	// Another patient and staff of another branch cannot see it.
	_, err = f.svc.GetAppointment(ctx, patientB, a.ID)
	wantCode(t, err, apperr.NotFound)
	_, err = f.svc.GetAppointment(ctx, domain.Actor{ID: "s2", Role: domain.RoleStaff, BranchIDs: []string{"br_other"}}, a.ID)
	wantCode(t, err, apperr.NotFound)
	got, err := f.svc.GetAppointment(ctx, patientA, a.ID)
	must(t, err)
	if got.ID != a.ID || !got.Start.Equal(a.Start) {
		t.Fatalf("get = %+v", got)
	}

	// Reschedule: the old start is free again, the new one taken.
	moved, err := f.svc.Reschedule(ctx, patientA, a.ID, bkk("2026-12-01T10:30:00+07:00"))
	must(t, err)
	if moved.Version != 2 || !moved.Start.Equal(bkk("2026-12-01T10:30:00+07:00")) {
		t.Fatalf("moved = %+v", moved)
	}
	if f.available(t, f.draw, "2026-12-01T08:00:00+07:00") != 1 || f.available(t, f.draw, "2026-12-01T10:30:00+07:00") != 0 {
		t.Fatal("reschedule did not move the capacity")
	}
	// Patient B books 08:00 now that it is free.
	b, err := f.book(patientB, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	// Moving A onto B's start fails and changes nothing.
	_, err = f.svc.Reschedule(ctx, patientA, a.ID, bkk("2026-12-01T08:00:00+07:00"))
	wantCode(t, err, apperr.SlotUnavailable)
	still, err := f.svc.GetAppointment(ctx, admin, a.ID)
	must(t, err)
	if still.Version != 2 || !still.Start.Equal(moved.Start) {
		t.Fatalf("failed reschedule changed the appointment: %+v", still)
	}

	// Cancel frees capacity at once.
	cancelled, err := f.svc.Cancel(ctx, patientB, b.ID, "feeling better")
	must(t, err)
	if cancelled.Status != domain.StatusCancelled || f.available(t, f.draw, "2026-12-01T08:00:00+07:00") != 1 {
		t.Fatalf("cancel: status %s, capacity not freed", cancelled.Status)
	}
	_, err = f.svc.Cancel(ctx, patientB, b.ID, "")
	wantCode(t, err, apperr.InvalidTransition)

	// Staff check in and complete; patients cannot.
	_, err = f.svc.Transition(ctx, patientA, a.ID, domain.StatusCheckedIn, "")
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.Transition(ctx, f.staff, a.ID, domain.StatusCompleted, "")
	wantCode(t, err, apperr.InvalidTransition)
	in, err := f.svc.Transition(ctx, f.staff, a.ID, domain.StatusCheckedIn, "")
	must(t, err)
	_, err = f.svc.Transition(ctx, f.staff, a.ID, domain.StatusNoShow, "")
	wantCode(t, err, apperr.InvalidTransition)
	done, err := f.svc.Transition(ctx, f.staff, a.ID, domain.StatusCompleted, "")
	must(t, err)
	if in.Status != domain.StatusCheckedIn || done.Status != domain.StatusCompleted || done.Version != 4 {
		t.Fatalf("transitions: %s then %s v%d", in.Status, done.Status, done.Version)
	}

	hist, err := f.svc.History(ctx, patientA, a.ID)
	must(t, err)
	var steps []string
	for _, h := range hist {
		steps = append(steps, string(h.From)+">"+string(h.To))
	}
	want := []string{">booked", "booked>booked", "booked>checked_in", "checked_in>completed"}
	if len(steps) != len(want) {
		t.Fatalf("history = %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("history = %v, want %v", steps, want)
		}
	}
	if hist[0].Actor.Role != domain.RolePatient || hist[2].Actor.ID != "u-staff" {
		t.Fatalf("history actors = %+v", hist)
	}
	_, err = f.svc.History(ctx, patientB, a.ID)
	wantCode(t, err, apperr.NotFound)
}

func TestPatientRulesAndCutoff(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	// A patient cannot book for someone else: the id is forced from the token.
	a, err := f.svc.Book(ctx, patientA, app.BookInput{BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-01T08:00:00+07:00"),
		Patient: domain.Patient{ID: "p-b", Name: "Mallory"}})
	must(t, err)
	if a.Patient.ID != "p-a" {
		t.Fatalf("patient id = %s, want forced p-a", a.Patient.ID)
	}
	// Inside the cutoff (120 min) the patient can't cancel or move; staff can.
	f.clock.Set(bkk("2026-12-01T06:30:00+07:00"))
	_, err = f.svc.Cancel(ctx, patientA, a.ID, "")
	wantCode(t, err, apperr.CancelCutoff)
	_, err = f.svc.Reschedule(ctx, patientA, a.ID, bkk("2026-12-01T11:00:00+07:00"))
	wantCode(t, err, apperr.CancelCutoff)
	_, err = f.svc.Cancel(ctx, f.staff, a.ID, "patient called")
	must(t, err)
	// No-show cannot be recorded before the visit starts.
	b, err := f.book(patientB, f.draw, "2026-12-01T12:00:00+07:00")
	must(t, err)
	_, err = f.svc.Transition(ctx, f.staff, b.ID, domain.StatusNoShow, "")
	wantCode(t, err, apperr.InvalidTransition)
	f.clock.Set(bkk("2026-12-01T12:20:00+07:00"))
	ns, err := f.svc.Transition(ctx, f.staff, b.ID, domain.StatusNoShow, "")
	must(t, err)
	if ns.Status != domain.StatusNoShow {
		t.Fatalf("status = %s", ns.Status)
	}
}

func TestScheduleErrors(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	for name, start := range map[string]string{
		"closed sunday":  "2026-12-06T08:00:00+07:00",
		"closure":        "2026-12-05T08:00:00+07:00",
		"before opening": "2026-12-01T06:45:00+07:00",
		"off grid":       "2026-12-01T08:07:00+07:00",
		"past closing":   "2026-12-01T16:00:00+07:00",
		"too far":        "2027-03-01T08:00:00+07:00",
	} {
		_, err := f.book(patientA, f.draw, start)
		if apperr.CodeOf(err) != apperr.OutsideSchedule {
			t.Errorf("%s: err = %v, want OUTSIDE_SCHEDULE", name, err)
		}
	}
	// Inside the 60-minute minimum notice.
	f.clock.Set(bkk("2026-12-01T07:30:00+07:00"))
	_, err := f.book(patientA, f.draw, "2026-12-01T08:15:00+07:00")
	wantCode(t, err, apperr.OutsideSchedule)
	if _, err := f.book(patientA, f.draw, "2026-12-01T08:30:00+07:00"); err != nil {
		t.Fatalf("exactly at min notice: %v", err)
	}
	f.clock.Set(fixedNow)
	_, err = f.svc.Book(ctx, patientA, app.BookInput{BranchID: f.branch.ID, ServiceID: "svc_missing", Start: bkk("2026-12-01T08:00:00+07:00"), Patient: domain.Patient{Name: "A"}})
	wantCode(t, err, apperr.NotFound)
	_, err = f.svc.Book(ctx, patientA, app.BookInput{BranchID: "br_missing", ServiceID: f.draw.ID, Start: bkk("2026-12-01T08:00:00+07:00"), Patient: domain.Patient{Name: "A"}})
	wantCode(t, err, apperr.NotFound)
	_, err = f.svc.Availability(ctx, patientA, app.AvailabilityQuery{BranchID: f.branch.ID, ServiceID: f.draw.ID, From: "2026-12-01", To: "2027-01-15"})
	wantCode(t, err, apperr.Validation)
	// Staff of another branch cannot book here; patients cannot configure.
	_, err = f.book(domain.Actor{ID: "s", Role: domain.RoleStaff, BranchIDs: []string{"br_x"}}, f.draw, "2026-12-01T08:00:00+07:00")
	wantCode(t, err, apperr.NotFound)
	_, err = f.svc.CreateBranch(ctx, patientA, domain.Branch{Name: "x"})
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.ListBranches(ctx, domain.Actor{})
	wantCode(t, err, apperr.Unauthenticated)
}

func TestMultiResourceServiceAndDeactivation(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if got := f.available(t, f.checkup, "2026-12-01T09:00:00+07:00"); got != 1 {
		t.Fatalf("check-up available = %d, want 1", got)
	}
	_, err := f.book(patientA, f.checkup, "2026-12-01T09:00:00+07:00")
	must(t, err)
	// The room and nurse are held for the full hour: 09:45 overlaps, 10:00 does not.
	if f.available(t, f.checkup, "2026-12-01T09:45:00+07:00") != 0 || f.available(t, f.checkup, "2026-12-01T10:00:00+07:00") != 1 {
		t.Fatal("a 60-minute booking must hold its resources for the whole hour and no longer")
	}
	// Deactivating the only station removes draw availability.
	off := false
	_, err = f.svc.UpdateResource(ctx, f.staff, f.branch.ID, f.stations[0].ID, app.ResourcePatch{Active: &off})
	must(t, err)
	if f.available(t, f.draw, "2026-12-01T08:00:00+07:00") != 0 {
		t.Fatal("inactive station still offered")
	}
	_, err = f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	wantCode(t, err, apperr.SlotUnavailable)
}

func TestListAppointments(t *testing.T) {
	f := newFixture(t, 3)
	ctx := context.Background()
	for _, s := range []string{"08:00", "08:15", "08:30"} {
		_, err := f.book(patientA, f.draw, "2026-12-01T"+s+":00+07:00")
		must(t, err)
	}
	_, err := f.book(patientB, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	page, err := f.svc.ListAppointments(ctx, patientA, app.ListQuery{Limit: 2})
	must(t, err)
	if len(page.Items) != 2 || page.Cursor == "" {
		t.Fatalf("page 1 = %d items, cursor %q", len(page.Items), page.Cursor)
	}
	page2, err := f.svc.ListAppointments(ctx, patientA, app.ListQuery{Limit: 2, Cursor: page.Cursor})
	must(t, err)
	if len(page2.Items) != 1 || page2.Cursor != "" {
		t.Fatalf("page 2 = %d items, cursor %q", len(page2.Items), page2.Cursor)
	}
	for _, a := range append(page.Items, page2.Items...) {
		if a.Patient.ID != "p-a" {
			t.Fatalf("patient A sees %s's appointment", a.Patient.ID)
		}
	}
	_, err = f.svc.ListAppointments(ctx, patientA, app.ListQuery{PatientID: "p-b"})
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.ListAppointments(ctx, patientA, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01"})
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.ListAppointments(ctx, f.staff, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01", Limit: 101})
	wantCode(t, err, apperr.Validation)
	all, err := f.svc.ListAppointments(ctx, f.staff, app.ListQuery{BranchID: f.branch.ID, Date: "2026-12-01"})
	must(t, err)
	if len(all.Items) != 4 {
		t.Fatalf("branch day = %d, want 4", len(all.Items))
	}
	for i := 1; i < len(all.Items); i++ {
		if all.Items[i].Start.Before(all.Items[i-1].Start) {
			t.Fatal("branch day not ordered by start")
		}
	}
}

func TestPatientActiveBookingLimit(t *testing.T) {
	f := newFixture(t, 3)
	f.svc.WithMaxActiveBookings(2)
	ctx := context.Background()
	first, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	_, err = f.book(patientA, f.draw, "2026-12-01T09:00:00+07:00")
	must(t, err)
	_, err = f.book(patientA, f.draw, "2026-12-01T10:00:00+07:00")
	wantCode(t, err, apperr.LimitExceeded)
	// Staff may book beyond the cap; another patient is not affected.
	if _, err := f.svc.Book(ctx, f.staff, app.BookInput{BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-01T10:00:00+07:00"),
		Patient: domain.Patient{ID: "p-a", Name: "Somchai Jaidee"}}); err != nil {
		t.Fatalf("staff booking over the cap: %v", err)
	}
	_, err = f.book(patientB, f.draw, "2026-12-01T10:15:00+07:00")
	must(t, err)
	// Patient A now holds 3 upcoming visits (two own, one booked by staff).
	f.svc.WithMaxActiveBookings(3)
	_, err = f.book(patientA, f.draw, "2026-12-01T11:00:00+07:00")
	wantCode(t, err, apperr.LimitExceeded)
	// A cancelled visit no longer counts.
	_, err = f.svc.Cancel(ctx, patientA, first.ID, "")
	must(t, err)
	_, err = f.book(patientA, f.draw, "2026-12-01T11:00:00+07:00")
	must(t, err)
}

// TestBookingHintNeverRefusesAlone: a container plans a booking's first
// candidate on what it last saw of the day (its own bookings), without a
// read; when that shows the slot full but a visit was cancelled meanwhile,
// the booking reads the day's cells before refusing, and books the freed
// station.
func TestBookingHintNeverRefusesAlone(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	var first domain.Appointment
	for i, p := range []string{"p-1", "p-2"} {
		a, err := f.svc.Book(ctx, f.staff, app.BookInput{BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-01T08:00:00+07:00"),
			Patient: domain.Patient{ID: p, Name: "Somchai Jaidee"}})
		must(t, err)
		if i == 0 {
			first = a
		}
	}
	_, err := f.svc.Cancel(ctx, f.staff, first.ID, "")
	must(t, err)
	again, err := f.svc.Book(ctx, f.staff, app.BookInput{BranchID: f.branch.ID, ServiceID: f.draw.ID, Start: bkk("2026-12-01T08:00:00+07:00"),
		Patient: domain.Patient{ID: "p-3", Name: "Somchai Jaidee"}})
	must(t, err)
	if again.Resources[0] != first.Resources[0] {
		t.Fatalf("booked %v, want the freed station %v", again.Resources, first.Resources)
	}
}
