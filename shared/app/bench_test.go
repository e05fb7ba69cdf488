package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/testenv"
)

// countingClient returns a client to the same DynamoDB Local that counts every
// API operation (one count per call, retries excluded).
func countingClient(base *dynamodb.Client, n *atomic.Int64) *dynamodb.Client {
	return dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
}

// benchBranch seeds a branch with 20 collection stations, a room, a nurse and 3
// services, open Mon–Sat 07:00–16:00, and books a share of the draw slots over
// 31 days so occupancy is realistic.
func benchBranch(b *testing.B, store *dynamo.Store, svc *app.Service) (domain.Branch, []domain.Service) {
	b.Helper()
	ctx := context.Background()
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: weekly}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprintf("Station %d", i+1), Type: domain.ResourceCollectionStation}); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range []domain.Resource{{Name: "Room", Type: domain.ResourceRoom}, {Name: "Nurse", Type: domain.ResourceNurse}} {
		if _, err := svc.CreateResource(ctx, admin, br.ID, r); err != nil {
			b.Fatal(err)
		}
	}
	var services []domain.Service
	for _, s := range []domain.Service{
		{Name: "Blood draw", DurationMinutes: 15, Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60},
		{Name: "Glucose tolerance", DurationMinutes: 120, Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60},
		{Name: "Check-up", DurationMinutes: 60, Requires: []domain.Requirement{{Type: domain.ResourceRoom, Count: 1}, {Type: domain.ResourceNurse, Count: 1}}, MaxAdvanceDays: 60},
	} {
		created, err := svc.CreateService(ctx, admin, br.ID, s)
		if err != nil {
			b.Fatal(err)
		}
		services = append(services, created)
	}
	loc, _ := time.LoadLocation("Asia/Bangkok")
	booked := 0
	for day := 0; day < 31 && booked < 300; day++ {
		d := time.Date(2026, 12, 1+day, 7, 0, 0, 0, loc)
		if d.Weekday() == time.Sunday {
			continue
		}
		for k := 0; k < 12; k++ {
			_, err := svc.Book(ctx, admin, app.BookInput{BranchID: br.ID, ServiceID: services[0].ID, Start: d.Add(time.Duration(k*45) * time.Minute),
				Patient: domain.Patient{ID: fmt.Sprintf("p-%d", booked), Name: "Bench"}})
			if err != nil {
				b.Fatal(err)
			}
			booked++
		}
	}
	return br, services
}

// BenchmarkAvailability31Days measures a 31-day availability answer for a
// branch with 20 stations and 3 services against DynamoDB Local: DynamoDB
// requests per call (must be O(1): 1 catalog query + 1 occupancy range
// query) and, as a baseline in the same run, the pure compute part on the same data.
func BenchmarkAvailability31Days(b *testing.B) {
	base := testenv.DynamoDB(b)
	table := testenv.NewTable(b, base)
	var requests atomic.Int64
	store := dynamo.New(countingClient(base, &requests), table)
	svc := app.New(store, func() time.Time { return fixedNow })
	br, services := benchBranch(b, store, svc)
	q := app.AvailabilityQuery{BranchID: br.ID, ServiceID: services[0].ID, From: "2026-12-01", To: "2026-12-31"}
	ctx := context.Background()

	b.Run("end-to-end", func(b *testing.B) {
		requests.Store(0)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := svc.Availability(ctx, admin, q); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(requests.Load())/float64(b.N), "ddb-requests/op")
	})
	b.Run("compute-only", func(b *testing.B) {
		cat, err := store.LoadCatalog(ctx, br.ID)
		if err != nil {
			b.Fatal(err)
		}
		dates, _ := domain.DatesInRange(q.From, q.To, 31)
		occ, err := store.Occupancy(ctx, br.ID, dates)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, s := range services {
				if _, err := domain.Availability(cat, s, occ, dates, fixedNow); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/3, "ns/service-call")
	})
}

// TestAvailabilityCostsTwoRequests pins the O(1) request budget the
// benchmark reports: 1 catalog query + 1 occupancy range query, whatever the
// number of days (no paging at this size).
func TestAvailabilityCostsTwoRequests(t *testing.T) {
	f := newFixture(t, 2)
	base := testenv.DynamoDB(t)
	var requests atomic.Int64
	_ = base
	counted := app.New(dynamo.New(countingClient(base, &requests), f.dyn.Table()), f.clock.Now)
	for _, days := range []int{1, 7, 31} {
		requests.Store(0)
		to := time.Date(2026, 12, days, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		if _, err := counted.Availability(context.Background(), patientA, app.AvailabilityQuery{BranchID: f.branch.ID, ServiceID: f.draw.ID, From: "2026-12-01", To: to}); err != nil {
			t.Fatal(err)
		}
		if got := requests.Load(); got > 2 {
			t.Errorf("%d days: %d DynamoDB requests, want at most 2", days, got)
		}
	}
}
