package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

// The pair below measures a typical booking (2 resources × 2 cells, plus
// appointment, history, outbox record and idempotency completion: 8 items) against DynamoDB
// Local. BenchmarkBookTransaction is the bare TransactWriteItems of those
// items, prepared outside the timer; BenchmarkCreateAppointment is the store
// call that builds and sends it. Their ratio is the store's own overhead;
// absolute numbers say little about AWS.

// benchBooking returns the i-th booking of a benchmark: distinct ids and cells.
func benchBooking(i int) (domain.Appointment, domain.HistoryEntry) {
	start := at(1, 0, 0).Add(time.Duration(i) * 30 * time.Minute)
	a := appt(fmt.Sprintf("apt_%08d", i), "br_1", fmt.Sprintf("pat_%d", i%100), start, 2, "res_a", "res_b")
	return a, booking(a)
}

func beginClaim(b *testing.B, s *Store, i int) *idempotency.Claim {
	c := &idempotency.Claim{Key: fmt.Sprintf("bench:%d", i), Hash: "h", SuccessStatus: 201, Render: routeRender}
	if _, err := s.Begin(context.Background(), inProgress(c.Key, c.Hash, t0), t0); err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkBookTransaction(b *testing.B) {
	s, raw := newStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, h := benchBooking(i)
		tx, err := s.createTx(ctx, a, h, booked(a), beginClaim(b, s, i))
		if err != nil {
			b.Fatal(err)
		}
		in := &dynamodb.TransactWriteItemsInput{TransactItems: tx.items}
		b.StartTimer()
		if _, err := raw.TransactWriteItems(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateAppointment(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, h := benchBooking(i)
		cctx := idempotency.NewContext(ctx, beginClaim(b, s, i))
		b.StartTimer()
		if err := s.CreateAppointment(cctx, a, h, booked(a)); err != nil {
			b.Fatal(err)
		}
	}
}
