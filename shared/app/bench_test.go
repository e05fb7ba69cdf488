package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/labchain/appointments/infra/benchab"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/testenv"
)

// countingClient returns a client to the same DynamoDB Local that counts every
// API operation (one count per call, retries excluded) and, when largest is
// not nil, keeps the Query that returned the most items.
func countingClient(base *dynamodb.Client, n *atomic.Int64, largest *largestQuery) *dynamodb.Client {
	return dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				n.Add(1)
				out, md, err := next.HandleInitialize(ctx, in)
				if q, ok := in.Parameters.(*dynamodb.QueryInput); ok && largest != nil && err == nil {
					if res, ok := out.Result.(*dynamodb.QueryOutput); ok {
						largest.offer(q, res.Count)
					}
				}
				return out, md, err
			}), middleware.Before)
		})
	})
}

// largestQuery keeps the Query input that returned the most items.
type largestQuery struct {
	mu    sync.Mutex
	in    *dynamodb.QueryInput
	count int32
}

func (l *largestQuery) offer(in *dynamodb.QueryInput, count int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.in == nil || count > l.count {
		l.in, l.count = in, count
	}
}

func (l *largestQuery) get() *dynamodb.QueryInput {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.in
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
// branch with 20 stations, 3 services and 300 bookings against DynamoDB
// Local, through the HTTP handler (payload 2.0 event in, JSON out), against
// a bare single Query of the same range: the store's own occupancy range
// query, captured from the handler's calls and replayed as is. A B A B after
// a warm-up (infra/benchab). A second row reports the DynamoDB requests per
// answer against the bare query's one.
func BenchmarkAvailability31Days(b *testing.B) {
	base := testenv.DynamoDB(b)
	table := testenv.NewTable(b, base)
	var requests atomic.Int64
	var largest largestQuery
	store := dynamo.New(countingClient(base, &requests, &largest), table)
	clock := func() time.Time { return fixedNow }
	svc := app.New(store, clock)
	br, services := benchBranch(b, store, svc)
	ctx := lambdakit.WithMetricsWriter(lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))), io.Discard, "bench")

	raw, err := os.ReadFile("../../testdata/events/get-availability.json")
	if err != nil {
		b.Fatal(err)
	}
	var event events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &event); err != nil {
		b.Fatal(err)
	}
	event.QueryStringParameters = map[string]string{"branchId": br.ID, "serviceId": services[0].ID, "from": "2026-12-01", "to": "2026-12-31"}
	event.RawQueryString = ""
	handler := httpapi.NewServer(store, clock, config.Config{MaxBodyBytes: 65536, IdempotencyTTL: 24 * time.Hour}).Handle(httpapi.GetAvailability(svc))
	answer := func() {
		res, err := handler(ctx, event)
		if err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `"start"`) {
			b.Fatalf("availability: %d %.200s %v", res.StatusCode, res.Body, err)
		}
	}
	answer()
	rangeQuery := largest.get()
	if rangeQuery == nil {
		b.Fatal("the handler sent no Query")
	}

	b.Run("handler-vs-query", func(b *testing.B) {
		benchab.Durations(b, benchab.Spec{Figure: "31-day availability through the handler", Baseline: "bare Query of the range", Unit: "ms", WarmUp: 20},
			func(int) time.Duration {
				t0 := time.Now()
				answer()
				return time.Since(t0)
			},
			func(int) time.Duration {
				t0 := time.Now()
				out, err := base.Query(ctx, rangeQuery)
				d := time.Since(t0)
				if err != nil || out.Count == 0 {
					b.Fatalf("bare query: %v (%d items)", err, out.Count)
				}
				return d
			})
	})
	b.Run("requests", func(b *testing.B) {
		requests.Store(0)
		for range b.N {
			answer()
		}
		benchab.Report(b, benchab.Spec{Figure: "DynamoDB requests per 31-day answer", Baseline: "bare Query of the range", Unit: "requests"},
			float64(requests.Load())/float64(b.N), 1, float64(requests.Load())/float64(b.N))
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
	counted := app.New(dynamo.New(countingClient(base, &requests, nil), f.dyn.Table()), f.clock.Now)
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
