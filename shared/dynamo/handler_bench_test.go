package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/infra/benchab"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
)

// BenchmarkBookingHandlerVsBareTransaction books through the whole HTTP
// handler (payload 2.0 decoding, claims, idempotency record, catalog and
// occupancy reads, planning, the booking transaction) and, in the same run and
// against the same DynamoDB Local, sends bare TransactWriteItems of the same
// items (appointment, history, one cell, outbox record, idempotency
// completion). It reports both per-booking times (medians) and the median of
// the per-pair ratios: the price of everything around the one write that
// makes a booking safe.
func BenchmarkBookingHandlerVsBareTransaction(b *testing.B) {
	s, raw := newStore(b)
	// Metrics of the code under test go nowhere: stdout carries only results.
	ctx := lambdakit.WithMetricsWriter(lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))), io.Discard, "bench")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := app.New(s, clock)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Bench", TimeZone: "Asia/Bangkok"})
	if err != nil {
		b.Fatal(err)
	}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: weekly}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprint("Station ", i), Type: domain.ResourceCollectionStation}); err != nil {
			b.Fatal(err)
		}
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		b.Fatal(err)
	}
	handler := httpapi.NewServer(s, clock, config.Config{MaxBodyBytes: 65536, IdempotencyTTL: 24 * time.Hour}).Handle(httpapi.BookAppointment(svc))

	raw0, err := os.ReadFile("../../testdata/events/book-appointment.json")
	if err != nil {
		b.Fatal(err)
	}
	var event events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw0, &event); err != nil {
		b.Fatal(err)
	}
	event.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "staff-1", "cognito:groups": "[admin]"}
	bangkok, _ := time.LoadLocation("Asia/Bangkok")
	// The i-th booking: 20 stations × 36 starts a day, from 2026-11-27 on.
	start := func(i int) time.Time {
		day, slot := i/(20*36), (i/20)%36
		return time.Date(2026, 11, 27+day, 7, 0, 0, 0, bangkok).Add(time.Duration(slot) * 15 * time.Minute)
	}
	// Alternate handler and bare booking (A B A B ...) so drift on a shared
	// machine lands on both sides; the first warmUp pairs are not measured;
	// the figure is the median of the per-pair ratios (infra/benchab).
	const warmUp = 20
	if b.N+warmUp > 20*36*55 {
		b.Fatalf("b.N = %d exceeds the free cells of the booking window", b.N)
	}
	benchab.Durations(b, benchab.Spec{Figure: "booking through the handler", Baseline: "bare TransactWriteItems of its items", Unit: "ms", WarmUp: warmUp},
		func(i int) time.Duration {
			body, _ := json.Marshal(map[string]any{"branchId": br.ID, "serviceId": draw.ID, "start": start(i).Format(time.RFC3339),
				"patient": map[string]any{"id": fmt.Sprint("p-", i), "name": "Somchai Jaidee", "phone": "+66812345678", "locale": "th"}})
			ev := event
			ev.Body = string(body)
			ev.Headers = map[string]string{"content-type": "application/json", "idempotency-key": fmt.Sprint("bench-", i)}
			t0 := time.Now()
			res, err := handler(ctx, ev)
			d := time.Since(t0)
			if err != nil || res.StatusCode != 201 {
				b.Fatalf("booking %d: %d %s %v", i, res.StatusCode, res.Body, err)
			}
			return d
		},
		func(i int) time.Duration {
			a := appt(fmt.Sprintf("apt_bare_%08d", i), "br_bare", fmt.Sprint("p-", i), start(i), 1, fmt.Sprintf("res_%02d", i%20))
			claim := &idempotency.Claim{Key: fmt.Sprint("bare:", i), Hash: "h", SuccessStatus: 201, Render: routeRender}
			if _, err := s.Begin(ctx, inProgress(claim.Key, claim.Hash, now), now); err != nil {
				b.Fatal(err)
			}
			tx, err := s.createTx(ctx, a, booking(a), booked(a), claim)
			if err != nil {
				b.Fatal(err)
			}
			in := &dynamodb.TransactWriteItemsInput{TransactItems: tx.items}
			t0 := time.Now()
			_, err = raw.TransactWriteItems(ctx, in)
			d := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			return d
		})
}
