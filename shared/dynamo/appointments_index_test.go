package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// TestIndexCellsMigratesOldCells: a cell item written before cells carried
// their GSI1 range keys is invisible to OccupancyRange until IndexCells adds
// the keys; a second run indexes nothing.
func TestIndexCellsMigratesOldCells(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	start := at(1, 9, 0)
	c := domain.Cell{ResourceID: "res_a", Start: start.UTC(), Date: start.Format(dateLayout)}
	old := cellItem("br_1", c, "apt_old")
	delete(old, attrGSI1PK)
	delete(old, attrGSI1SK)
	if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: old}); err != nil {
		t.Fatal(err)
	}
	occ, err := s.OccupancyRange(ctx, "br_1", c.Date, c.Date)
	if err != nil || len(occ) != 0 {
		t.Fatalf("before migration: %v %v, want the old cell missing from the index", occ, err)
	}
	if n, err := s.IndexCells(ctx, "br_1", []string{c.Date}); err != nil || n != 1 {
		t.Fatalf("IndexCells = %d, %v; want 1", n, err)
	}
	occ, err = s.OccupancyRange(ctx, "br_1", c.Date, c.Date)
	if err != nil || occ[domain.CellKey{ResourceID: "res_a", Start: start.Unix()}] != "apt_old" {
		t.Fatalf("after migration: %v %v, want the old cell held by apt_old", occ, err)
	}
	if n, err := s.IndexCells(ctx, "br_1", []string{c.Date}); err != nil || n != 0 {
		t.Fatalf("second IndexCells = %d, %v; want 0", n, err)
	}
}

// TestIndexPatientVisitsMigratesOldBookings: visits booked before the
// patients' visit sets existed are not counted by the cap until
// IndexPatientVisits adds them; cancelled visits are not added, a second
// run changes nothing, and afterwards the cap is exact again.
func TestIndexPatientVisitsMigratesOldBookings(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	now := at(1, 7, 0)
	guard := app.Guard{MaxUpcoming: 2, Now: now}
	var old []domain.Appointment
	for i, st := range []domain.Status{domain.StatusBooked, domain.StatusCheckedIn, domain.StatusCancelled} {
		a := appt(fmt.Sprint("apt_old", i), "br_1", "pat_1", at(1, 9+i, 0), 1, "res_a")
		a.Status = st
		old = append(old, a)
		ok(t, s.CreateAppointment(ctx, a, booking(a), booked(a)))
	}
	// Before the migration, the store had no visit set: remove it.
	if _, err := raw.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table()),
		Key: key(patientVisitsPK("pat_1"), skVisits)}); err != nil {
		t.Fatal(err)
	}
	// Unmigrated, the cap does not see the two upcoming visits.
	probe := appt("apt_probe", "br_1", "pat_1", at(2, 9, 0), 1, "res_a")
	ok(t, s.CreateAppointmentGuarded(ctx, probe, booking(probe), booked(probe), guard))
	ok(t, s.update(ctx, probe, cancelled(probe), change(probe, cancelled(probe)), changed(cancelled(probe))))

	dates := []string{"2026-12-01", "2026-12-02"}
	if n, err := s.IndexPatientVisits(ctx, "br_1", dates); err != nil || n != 2 {
		t.Fatalf("IndexPatientVisits = %d, %v; want the 2 active visits", n, err)
	}
	next := appt("apt_new", "br_1", "pat_1", at(2, 10, 0), 1, "res_a")
	wantCode(t, s.CreateAppointmentGuarded(ctx, next, booking(next), booked(next), guard), apperr.LimitExceeded)
	// Idempotent: a second run writes the same members again, nothing more.
	if n, err := s.IndexPatientVisits(ctx, "br_1", dates); err != nil || n != 2 {
		t.Fatalf("second IndexPatientVisits = %d, %v", n, err)
	}
	v, err := s.readPatientVisits(ctx, "pat_1")
	ok(t, err)
	sameJSON(t, "visit set", v.starts, map[string]int64{old[0].ID: old[0].Start.Unix(), old[1].ID: old[1].Start.Unix()})
	// Cancelling a migrated visit frees its place.
	ok(t, s.update(ctx, old[0], cancelled(old[0]), change(old[0], cancelled(old[0])), changed(cancelled(old[0]))))
	ok(t, s.CreateAppointmentGuarded(ctx, next, booking(next), booked(next), guard))
}

// cancelled returns a's next version, cancelled (cells released).
func cancelled(a domain.Appointment) domain.Appointment {
	n := a
	n.Status, n.Cells, n.Version, n.UpdatedAt = domain.StatusCancelled, nil, a.Version+1, a.UpdatedAt.Add(time.Minute)
	return n
}
