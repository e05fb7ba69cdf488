package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/jobs"
)

func TestCleanupPurgesExpiredRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	begin := func(key string, expires time.Time) {
		t.Helper()
		_, err := f.store.Begin(ctx, idempotency.Record{
			Key: key, Hash: "h", Status: idempotency.StatusInProgress,
			InProgressUntil: expires.Add(-23 * time.Hour), ExpiresAt: expires,
		}, expires.Add(-24*time.Hour))
		must(t, err)
	}
	begin("staff#u1#book#k-old", now.Add(-20*24*time.Hour))     // expired 20 days ago
	begin("consumer#lis#evt-1", now.Add(-time.Hour))            // a dedupe record, expired an hour ago
	begin("staff#u1#book#k-live", now.Add(time.Hour))           // expires later today
	begin("staff#u1#book#k-ancient", now.Add(-40*24*time.Hour)) // before the first run's lookback
	a := f.book("p-1", "2026-12-01 09:00")                      // its booking event is the outbox record
	booked := f.events(domain.EventAppointmentBooked)[0]
	must(t, f.store.MarkPublished(ctx, booked.ID, now.Add(-8*24*time.Hour))) // published 8 days ago: ttl passed a day ago

	job := jobs.NewCleanup(f.store, 0)
	rep, err := job.PurgeExpired(ctx, now)
	must(t, err)
	if rep.Deleted != 3 || rep.Kept != 0 || rep.Days != 31 {
		t.Fatalf("report %+v", rep)
	}
	present := func(pk, sk string) bool { return f.item(pk, sk) != nil }
	for key, want := range map[string]bool{
		"staff#u1#book#k-old": false, "consumer#lis#evt-1": false, "staff#u1#book#k-live": true,
		"staff#u1#book#k-ancient": true, // left to DynamoDB's TTL
	} {
		if got := present("IDEM#"+key, "#IDEM"); got != want {
			t.Errorf("record %s present = %v, want %v", key, got, want)
		}
	}
	if present("OUTBOX#"+booked.ID, "#EVENT") {
		t.Error("published outbox record past its ttl kept")
	}
	if f.get(a.ID).ID != a.ID {
		t.Fatal("appointment gone")
	}
	if w, _ := f.watermark(jobs.JobCleanup); !w.Equal(now) {
		t.Fatalf("watermark %v", w)
	}

	// The next day: only today's buckets are read; the live record is gone.
	rep, err = job.PurgeExpired(ctx, now.Add(24*time.Hour))
	must(t, err)
	if rep.Deleted != 1 || rep.Days != 2 || present("IDEM#staff#u1#book#k-live", "#IDEM") {
		t.Fatalf("next day %+v", rep)
	}
}

// failingPurge fails PurgeExpired for one day.
type failingPurge struct {
	jobs.CleanupStore
	day string
}

func (s failingPurge) PurgeExpired(ctx context.Context, day string, now time.Time) (int, int, error) {
	if day == s.day {
		return 0, 0, errors.New("injected: throttled")
	}
	return s.CleanupStore.PurgeExpired(ctx, day, now)
}

func TestCleanupFailedPurgeKeepsTheWatermark(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	must(t, f.store.AdvanceWatermark(ctx, jobs.JobCleanup, now.Add(-72*time.Hour)))
	_, err := f.store.Begin(ctx, idempotency.Record{Key: "k", Hash: "h", Status: idempotency.StatusCompleted, ExpiresAt: now.Add(-time.Hour)}, now.Add(-48*time.Hour))
	must(t, err)
	rep, err := jobs.NewCleanup(failingPurge{f.store, "2026-12-08"}, 0).PurgeExpired(ctx, now)
	if err == nil || rep.Deleted != 1 || rep.Days != 4 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if w, _ := f.watermark(jobs.JobCleanup); !w.Equal(now.Add(-72 * time.Hour)) {
		t.Fatalf("watermark moved to %v", w)
	}
}

func TestCleanupMinimisesPersonalData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.book("p-old", "2026-12-01 09:00")
	recent := f.book("p-recent", "2026-12-20 09:00")
	f.clock.Set(bkk("2026-12-01 09:00"))
	_, err := f.svc.Transition(ctx, f.staff, old.ID, domain.StatusCheckedIn, "Khun Somchai came with his daughter, phone 0898765432")
	must(t, err)
	// A system change after check-in (the LIS completing the visit) keeps its reason.
	_, err = f.store.UpdateAppointment(ctx, old.ID, func(cur domain.Appointment) (app.Change, error) {
		next := cur
		next.Status, next.Version, next.UpdatedAt = domain.StatusCompleted, cur.Version+1, bkk("2026-12-01 09:10")
		return app.One(next, domain.HistoryEntry{
			At: next.UpdatedAt, From: cur.Status, To: next.Status, Actor: domain.ActorRef{ID: "lis", Role: domain.RoleSystem},
			Reason: "LIS: first sample of lab order LO-1 taken", Start: cur.Start, End: cur.End,
		}, domain.AppointmentEvent("evt_lis_1", domain.EventAppointmentCompleted, next.UpdatedAt, next)), nil
	})
	must(t, err)
	before := f.get(old.ID)
	eventsBefore := len(f.events(domain.EventAppointmentCompleted)) + len(f.events(domain.EventAppointmentBooked)) + len(f.events(domain.EventAppointmentCheckedIn))

	job := jobs.NewCleanup(f.store, 365*24*time.Hour)
	// The visit started, but did not end, a retention ago: nothing yet.
	rep, err := job.MinimiseData(ctx, bkk("2027-12-01 09:10"))
	must(t, err)
	if rep.Anonymized != 0 {
		t.Fatalf("anonymized before the retention: %+v", rep)
	}
	now := bkk("2027-12-02 12:00")
	rep, err = job.MinimiseData(ctx, now)
	must(t, err)
	if rep.Anonymized != 1 || rep.HistoryReasons != 1 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}

	got := f.get(old.ID)
	want := before
	want.Patient = domain.Patient{ID: "p-old", Locale: "th"}
	want.Notes, want.Version, want.UpdatedAt = "", before.Version+1, now.UTC()
	sameJSON(t, "anonymized appointment", got, want)
	body, err := json.Marshal(got)
	must(t, err)
	for _, personal := range []string{"Somchai", "+668", "example.com", "latex", "Malee"} {
		if strings.Contains(string(body), personal) {
			t.Errorf("anonymized appointment still holds %q: %s", personal, body)
		}
	}
	if !strings.Contains(string(body), `"patient":{"id":"p-old","name":"","locale":"th"}`) {
		t.Errorf("patient JSON %s (name is required by the API schema, even empty)", body)
	}
	if f.item("APPT#"+old.ID, "#META")["anonymizedAt"] == nil {
		t.Error("no anonymizedAt mark")
	}
	hs, err := f.store.History(ctx, old.ID)
	must(t, err)
	if len(hs) != 4 || hs[1].Reason != "" || hs[2].Reason != "LIS: first sample of lab order LO-1 taken" ||
		hs[3].Actor != jobs.PDPAActor || hs[3].Reason != jobs.PDPAReason || hs[3].To != domain.StatusCompleted {
		t.Fatalf("history %+v", hs)
	}
	if r := f.get(recent.ID); r.Patient.Name == "" || r.Notes == "" {
		t.Fatal("a recent visit lost its data")
	}
	after := len(f.events(domain.EventAppointmentCompleted)) + len(f.events(domain.EventAppointmentBooked)) + len(f.events(domain.EventAppointmentCheckedIn))
	if after != eventsBefore {
		t.Fatalf("anonymization wrote events (%d → %d)", eventsBefore, after)
	}
	// Still visible to its patient's list.
	page, err := f.store.ListAppointmentsByPatient(ctx, "p-old", 10, "")
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].Patient.Name != "" {
		t.Fatalf("patient list %+v", page.Items)
	}

	// Idempotent: again, and again from an older watermark.
	rep, err = job.MinimiseData(ctx, now.Add(time.Hour))
	must(t, err)
	if rep.Anonymized != 0 {
		t.Fatalf("second run %+v", rep)
	}
	must(t, f.store.AdvanceWatermark(ctx, jobs.JobPDPA, bkk("2026-11-01 00:00"))) // no effect: only forwards
	if w, _ := f.watermark(jobs.JobPDPA); !w.Equal(now.Add(time.Hour).Add(-365 * 24 * time.Hour)) {
		t.Fatalf("watermark %v", w)
	}
	if hs, _ := f.store.History(ctx, old.ID); len(hs) != 4 {
		t.Fatalf("history grew to %d entries", len(hs))
	}
}

func TestAnonymizedKeepsOnlyNonPersonalData(t *testing.T) {
	a := domain.Appointment{
		ID: "apt_1", Status: domain.StatusCompleted, BranchID: "br_1", ServiceID: "svc_1",
		Patient:   domain.Patient{ID: "p-1", Name: "Somchai", Phone: "+66812345678", Email: "s@example.com", Locale: "en"},
		Notes:     "call his wife",
		Resources: []string{"res_1"}, Version: 3,
		LabOrders: []domain.LabOrder{{ID: "LO-1", AppointmentID: "apt_1"}},
		Billing:   []domain.Billing{{OrderID: "POS-1", AppointmentID: "apt_1", BranchID: "br_1"}},
	}
	got := jobs.Anonymized(a)
	want := a
	want.Patient = domain.Patient{ID: "p-1", Locale: "en"}
	want.Notes = ""
	sameJSON(t, "anonymized", got, want)
	if a.Patient.Name != "Somchai" {
		t.Fatal("Anonymized changed its argument")
	}
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	must(t, err)
	w, err := json.Marshal(want)
	must(t, err)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
