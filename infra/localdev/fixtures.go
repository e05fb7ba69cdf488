package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labchain/appointments/infra/dynamolocal"
	usecases "github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/ids"
)

// The records the events of testdata/events refer to. Invoke with
// Options.Seed creates them (SeedFixtures), so that every fixture works
// under `make invoke` as it is written.
const (
	// FixtureBranchID is the branch of every fixture (Asia/Bangkok, 15-minute
	// grid, open Monday to Saturday 07:00–16:00).
	FixtureBranchID = "br_01jdx7k3q9m2v8c4t6p0r5w1yz"
	// FixtureServiceID is its 15-minute blood draw (one collection_station,
	// 60 min notice, 365 days ahead, 120 min cancel cut-off).
	FixtureServiceID = "svc_01jdx7m1c5h8q2w9e3r6t4y0ub"
	// FixtureResourceID is its first collection station (update-resource.json).
	FixtureResourceID = "res_01jdx7kz2b7n4q1w8e5r3t6y9a"
	// FixtureResource2ID is its second collection station.
	FixtureResource2ID = "res_01jdx7m0a4c8e2g6i0k4m8o2q6"
	// FixturePatientID is the patient of the patient-role fixtures.
	FixturePatientID = "pat_01jdx9v4n7b2c8x5z1q6w3e0rt"
	// FixtureAppointmentID is the visit every appointment fixture names.
	FixtureAppointmentID = "apt_01jdy2a6h3k9m5q1w7e4r8t2yc"
	// FixtureCampaignID is the check-up campaign of get-checkup-campaign.json.
	FixtureCampaignID = "siam-steel-2026-annual"
)

// FixtureVisitStart is when the seeded visit starts when the fixture needs it
// upcoming (book-appointment.json books 08:00 the same day and
// reschedule-appointment.json moves it to 09:30 the next day). The fixtures'
// dates must stay within the service's 365-day booking horizon:
// TestEveryFixtureInvokes says when they need moving.
var FixtureVisitStart = time.Date(2027, 11, 29, 10, 0, 0, 0, demoZone)

// SeedFixtures creates, in the table behind store, what the events of
// testdata/events refer to: the branch with its hours, two collection
// stations and the service, the check-up campaign, the profile of
// FixturePatientID (as the Patient Service would send it), and the visit
// FixtureAppointmentID in the state the event's route acts on: checked in
// for POST .../complete, booked and already started for POST .../no-show,
// booked and upcoming (FixtureVisitStart) for every other route. Records that
// exist already are left as they are (against a running `make dev`, the
// visit keeps what earlier invocations did to it). now is the real time: the
// functions decide with the real clock.
func SeedFixtures(ctx context.Context, store *dynamo.Store, event []byte, now time.Time) error {
	var ev struct {
		RouteKey string `json:"routeKey"`
	}
	_ = json.Unmarshal(event, &ev) // not an HTTP event: seed the upcoming visit
	admin := domain.Actor{ID: "local-fixtures", Role: domain.RoleAdmin}
	with := func(id string, clock time.Time) *usecases.Service {
		return usecases.New(store, func() time.Time { return clock }).WithIDs(func(prefix string) string {
			if strings.HasPrefix(id, prefix+"_") {
				return id
			}
			return ids.New(prefix)
		})
	}
	// missing reports whether a read found nothing (NOT_FOUND).
	missing := func(_ any, err error) (bool, error) {
		switch {
		case err == nil:
			return false, nil
		case apperr.Is(err, apperr.NotFound):
			return true, nil
		}
		return false, fmt.Errorf("localdev: fixtures: %w", err)
	}

	if m, err := missing(store.GetBranch(ctx, FixtureBranchID)); err != nil {
		return err
	} else if m {
		if err := seedFixtureCatalog(ctx, with, admin, now); err != nil {
			return err
		}
	}
	if m, err := missing(store.GetCampaign(ctx, FixtureCampaignID)); err != nil {
		return err
	} else if m {
		if _, _, err := store.CreateCampaign(ctx, usecases.Campaign{ID: FixtureCampaignID, BranchID: FixtureBranchID,
			ServiceID: FixtureServiceID, Window: domain.RosterWindow{From: "2027-11-29", To: "2027-12-31"}, CreatedAt: now}); err != nil {
			return fmt.Errorf("localdev: fixtures: campaign: %w", err)
		}
	}
	if m, err := missing(store.GetPatient(ctx, FixturePatientID)); err != nil {
		return err
	} else if m {
		if err := seedFixtureProfile(ctx, store, now); err != nil {
			return err
		}
	}
	if m, err := missing(store.GetAppointment(ctx, FixtureAppointmentID)); err != nil {
		return err
	} else if m {
		return seedFixtureVisit(ctx, with, ev.RouteKey, now)
	}
	return nil
}

// seedFixtureProfile writes FixturePatientID's profile (version 1, one
// dependent) through the rule the patient consumer applies.
func seedFixtureProfile(ctx context.Context, store *dynamo.Store, now time.Time) error {
	c := domain.PatientChange{Kind: domain.PatientUpserted, PatientID: FixturePatientID, Version: 1, Profile: domain.PatientProfile{
		Name: "Somchai Jaidee", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th",
		Dependents: []domain.Dependent{{PatientID: "pat_01jdx9w2k5m8p1r4t7v0x3z6bd", Relation: "child", ConsentAt: now}},
	}}
	if _, err := store.UpdatePatient(ctx, FixturePatientID, func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
		return domain.ApplyPatientChange(cur, c, now)
	}); err != nil {
		return fmt.Errorf("localdev: fixtures: patient profile: %w", err)
	}
	return nil
}

func seedFixtureCatalog(ctx context.Context, with func(string, time.Time) *usecases.Service, admin domain.Actor, now time.Time) error {
	if _, err := with(FixtureBranchID, now).CreateBranch(ctx, admin, domain.Branch{
		Name: "Sukhumvit 39 branch", TimeZone: "Asia/Bangkok", SlotMinutes: 15, Address: "39 Sukhumvit Road, Bangkok 10110",
	}); err != nil {
		return fmt.Errorf("localdev: fixtures: branch: %w", err)
	}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	if _, err := with("", now).PutHours(ctx, admin, FixtureBranchID, domain.Hours{Weekly: weekly, Closures: []domain.Closure{}}); err != nil {
		return fmt.Errorf("localdev: fixtures: hours: %w", err)
	}
	for i, id := range []string{FixtureResourceID, FixtureResource2ID} {
		if _, err := with(id, now).CreateResource(ctx, admin, FixtureBranchID, domain.Resource{
			Name: fmt.Sprintf("Collection station %d", i+1), Type: domain.ResourceCollectionStation, Active: true,
		}); err != nil {
			return fmt.Errorf("localdev: fixtures: resource: %w", err)
		}
	}
	if _, err := with(FixtureServiceID, now).CreateService(ctx, admin, FixtureBranchID, domain.Service{
		Name: "Fasting blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}},
		Preparation: domain.Preparation{FastingHours: 8, Instructions: map[string]string{
			"th": "งดอาหารและเครื่องดื่มทุกชนิด ยกเว้นน้ำเปล่า อย่างน้อย 8 ชั่วโมงก่อนเจาะเลือด",
			"en": "No food or drinks except plain water for at least 8 hours before the blood draw.",
		}},
		MinNoticeMinutes: 60, MaxAdvanceDays: 365, CancelCutoffMinutes: 120,
	}); err != nil {
		return fmt.Errorf("localdev: fixtures: service: %w", err)
	}
	return nil
}

// seedFixtureVisit books FixtureAppointmentID for FixturePatientID in the
// state the route acts on, through the same use cases as the API (with a
// clock set before the visit when it must have started already).
func seedFixtureVisit(ctx context.Context, with func(string, time.Time) *usecases.Service, routeKey string, now time.Time) error {
	patient := domain.Actor{ID: "local-fixtures-patient", Role: domain.RolePatient, PatientID: FixturePatientID}
	staff := domain.Actor{ID: "local-fixtures-staff", Role: domain.RoleStaff, BranchIDs: []string{FixtureBranchID}}
	start, clock := FixtureVisitStart, now
	if strings.HasSuffix(routeKey, "/no-show") {
		start = lastOpeningBefore(now.Add(-time.Hour))
		clock = start.AddDate(0, 0, -1)
	}
	if !start.After(clock.Add(time.Hour)) || start.After(clock.AddDate(0, 0, 365)) {
		return fmt.Errorf("localdev: fixtures: the visit of %s cannot be booked now (%s is outside the 365-day booking horizon): move the dates of testdata/events and FixtureVisitStart",
			start.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	a, err := with(FixtureAppointmentID, clock).Book(ctx, patient, usecases.BookInput{
		BranchID: FixtureBranchID, ServiceID: FixtureServiceID, Start: start,
		Patient: domain.Patient{ID: FixturePatientID, Name: "Somchai Jaidee", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
	})
	if err != nil {
		return fmt.Errorf("localdev: fixtures: visit: %w", err)
	}
	if a.ID != FixtureAppointmentID {
		return errors.New("localdev: fixtures: the visit was booked under another id")
	}
	if strings.HasSuffix(routeKey, "/complete") {
		if _, err := with("", clock).Transition(ctx, staff, a.ID, domain.StatusCheckedIn, ""); err != nil {
			return fmt.Errorf("localdev: fixtures: check-in: %w", err)
		}
	}
	return nil
}

// lastOpeningBefore returns the latest 09:00 (branch time) of a Monday to
// Saturday that is not after t.
func lastOpeningBefore(t time.Time) time.Time {
	t = t.In(demoZone)
	d := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, demoZone)
	for d.After(t) || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// fixtureStore returns the store over table at endpoint.
func fixtureStore(endpoint, table string) *dynamo.Store {
	return dynamo.New(dynamolocal.NewClient(endpoint), table)
}
