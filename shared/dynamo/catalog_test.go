package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func branch(id, name string) domain.Branch {
	return domain.Branch{ID: id, Name: name, TimeZone: "Asia/Bangkok", SlotMinutes: 15,
		CreatedAt: time.Date(2026, 11, 1, 8, 0, 0, 5, bangkok)}
}

func TestBranchRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	want := []domain.Branch{branch("br_2", "Silom"), branch("br_1", "asok"), branch("br_3", "Bang Na")}
	for _, b := range want {
		ok(t, s.PutBranch(ctx, b))
	}
	got, err := s.GetBranch(ctx, "br_2")
	ok(t, err)
	sameJSON(t, "branch", got, want[0])

	wantCode(t, s.PutBranch(ctx, branch("br_2", "Other")), apperr.Conflict)
	got, err = s.GetBranch(ctx, "br_2")
	ok(t, err)
	sameJSON(t, "branch after failed put", got, want[0])

	_, err = s.GetBranch(ctx, "br_nope")
	wantCode(t, err, apperr.NotFound)

	list, err := s.ListBranches(ctx)
	ok(t, err)
	sameJSON(t, "branches by name", list, []domain.Branch{want[1], want[2], want[0]})
}

func TestListBranchesEmpty(t *testing.T) {
	s, _ := newStore(t)
	list, err := s.ListBranches(context.Background())
	ok(t, err)
	if list == nil || len(list) != 0 {
		t.Fatalf("list = %#v, want empty non-nil", list)
	}
}

func TestCatalogInOneQuery(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	b := branch("br_1", "Asok")
	ok(t, s.PutBranch(ctx, b))

	h, err := s.GetHours(ctx, b.ID)
	ok(t, err)
	sameJSON(t, "hours never set", h, domain.Hours{})

	hours := domain.Hours{
		Weekly:   []domain.DayHours{{Day: "mon", Open: "07:00", Close: "16:00"}, {Day: "sat", Open: "08:00", Close: "12:00"}},
		Closures: []domain.Closure{{Date: "2026-12-31", Reason: "New Year's Eve"}, {Date: "2027-01-01"}},
	}
	ok(t, s.PutHours(ctx, b.ID, hours))
	resources := []domain.Resource{
		{ID: "res_a", BranchID: b.ID, Name: "Station 1", Type: domain.ResourceCollectionStation, Active: true, CreatedAt: b.CreatedAt},
		{ID: "res_b", BranchID: b.ID, Name: "Nurse Ann", Type: domain.ResourceNurse, Active: false,
			Hours: []domain.DayHours{{Day: "mon", Open: "08:00", Close: "12:00"}}, CreatedAt: b.CreatedAt},
		{ID: "res_c", BranchID: b.ID, Name: "Room 2", Type: domain.ResourceRoom, Active: true, CreatedAt: b.CreatedAt},
	}
	for _, i := range []int{2, 0, 1} {
		ok(t, s.PutResource(ctx, resources[i]))
	}
	services := []domain.Service{
		{ID: "svc_a", BranchID: b.ID, Name: "Blood draw", DurationMinutes: 15,
			Requires:         []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}},
			Preparation:      domain.Preparation{FastingHours: 8, Instructions: map[string]string{"en": "Fast", "th": "งดอาหาร"}},
			MinNoticeMinutes: 60, MaxAdvanceDays: 30, CancelCutoffMinutes: 120, CreatedAt: b.CreatedAt},
		{ID: "svc_b", BranchID: b.ID, Name: "Check-up", DurationMinutes: 60,
			Requires:  []domain.Requirement{{Type: domain.ResourceRoom, Count: 1}, {Type: domain.ResourceNurse, Count: 1}},
			CreatedAt: b.CreatedAt},
	}
	ok(t, s.PutService(ctx, services[1]))
	ok(t, s.PutService(ctx, services[0]))
	// Another branch and an appointment must not leak into the catalog.
	ok(t, s.PutBranch(ctx, branch("br_10", "Other")))
	ok(t, s.PutResource(ctx, domain.Resource{ID: "res_z", BranchID: "br_10", Name: "Z", Type: "room"}))
	a := appt("apt_1", b.ID, "pat_1", at(1, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))

	counting := &countingClient{Client: raw}
	cs := New(counting, s.Table())
	cat, err := cs.LoadCatalog(ctx, b.ID)
	ok(t, err)
	if q, g := counting.queries.Load(), counting.gets.Load(); q != 1 || g != 0 {
		t.Fatalf("LoadCatalog made %d queries and %d gets, want 1 query", q, g)
	}
	// Six catalog writes: hours, three resources, two services.
	sameJSON(t, "catalog", cat, domain.Catalog{Branch: b, Hours: hours, Resources: resources, Services: services, Version: 6})

	_, err = s.LoadCatalog(ctx, "br_nope")
	wantCode(t, err, apperr.NotFound)

	h, err = s.GetHours(ctx, b.ID)
	ok(t, err)
	sameJSON(t, "hours", h, hours)

	r, err := s.GetResource(ctx, b.ID, "res_b")
	ok(t, err)
	sameJSON(t, "resource", r, resources[1])
	_, err = s.GetResource(ctx, b.ID, "res_z")
	wantCode(t, err, apperr.NotFound)

	// PutResource replaces.
	resources[1].Active = true
	resources[1].Hours = nil
	ok(t, s.PutResource(ctx, resources[1]))
	rs, err := s.ListResources(ctx, b.ID)
	ok(t, err)
	sameJSON(t, "resources", rs, resources)

	ss, err := s.ListServices(ctx, b.ID)
	ok(t, err)
	sameJSON(t, "services", ss, services)

	empty, err := s.ListServices(ctx, "br_nope")
	ok(t, err)
	if empty == nil || len(empty) != 0 {
		t.Fatalf("services of a missing branch = %#v", empty)
	}
}
