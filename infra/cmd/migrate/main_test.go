package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestMigrateCountsOlderBookings: bookings made before the patients' visit
// sets existed are not counted by the cap until migrate runs; after it, the
// cap refuses a booking beyond them.
func TestMigrateCountsOlderBookings(t *testing.T) {
	client, table := testenv.Table(t)
	s := dynamo.New(client, table)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	must(t, s.PutBranch(ctx, domain.Branch{ID: "br_1", Name: "Asok", TimeZone: "Asia/Bangkok", SlotMinutes: 15, CreatedAt: now}))
	bkk, _ := time.LoadLocation("Asia/Bangkok")
	book := func(id string, start time.Time, g app.Guard) error {
		a := domain.Appointment{ID: id, Status: domain.StatusBooked, BranchID: "br_1", ServiceID: "svc_1",
			Start: start, End: start.Add(15 * time.Minute), Patient: domain.Patient{ID: "pat_1", Name: "X"},
			Version: 1, CreatedAt: now, UpdatedAt: now,
			Cells: []domain.Cell{{ResourceID: "res_a", Start: start, Date: start.Format(time.DateOnly)}}}
		h := domain.HistoryEntry{At: now, To: a.Status, Start: a.Start, End: a.End}
		return s.CreateAppointmentGuarded(ctx, a, h, domain.AppointmentEvent("evt_"+id, domain.EventAppointmentBooked, now, a), g)
	}
	must(t, book("apt_1", time.Date(2026, 11, 27, 9, 0, 0, 0, bkk), app.Guard{}))
	must(t, book("apt_2", time.Date(2026, 12, 20, 9, 0, 0, 0, bkk), app.Guard{}))
	// As before the deploy: no visit set.
	_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "PATVISITS#pat_1"}, "SK": &types.AttributeValueMemberS{Value: "#VISITS"}}})
	must(t, err)

	var out bytes.Buffer
	must(t, run(ctx, s, now, 60, &out))
	if !strings.Contains(out.String(), "br_1: 0 cells indexed, 2 visits added") {
		t.Fatalf("report %q", out.String())
	}
	err = book("apt_3", time.Date(2026, 11, 28, 9, 0, 0, 0, bkk), app.Guard{MaxUpcoming: 2, Now: now})
	if apperr.CodeOf(err) != apperr.LimitExceeded {
		t.Fatalf("after the migration, a third upcoming visit with a cap of 2: %v, want LIMIT_EXCEEDED", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
