package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/infra/benchab"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

// BenchmarkCreateAppointmentVsBareTransaction measures a typical booking
// (2 resources × 2 cells, plus appointment, history, outbox record and
// idempotency completion: 8 items) against DynamoDB Local: the store call
// that builds and sends it, against the bare TransactWriteItems of those
// items. Their ratio is the store's own overhead; absolute numbers say little
// about AWS.

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

// BenchmarkCreateAppointmentVsBareTransaction alternates the store call
// (figure) and the bare TransactWriteItems of the same items prepared outside
// the timer (baseline), after a warm-up, on distinct cells.
func BenchmarkCreateAppointmentVsBareTransaction(b *testing.B) {
	s, raw := newStore(b)
	ctx := context.Background()
	benchab.Durations(b, benchab.Spec{Figure: "store CreateAppointment (8 items)", Baseline: "bare TransactWriteItems of its items", Unit: "ms", WarmUp: 20},
		func(i int) time.Duration {
			a, h := benchBooking(2 * i)
			cctx := idempotency.NewContext(ctx, beginClaim(b, s, 2*i))
			t0 := time.Now()
			if err := s.CreateAppointment(cctx, a, h, booked(a)); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		},
		func(i int) time.Duration {
			a, h := benchBooking(2*i + 1)
			tx, err := s.createTx(ctx, a, h, booked(a), beginClaim(b, s, 2*i+1))
			if err != nil {
				b.Fatal(err)
			}
			in := &dynamodb.TransactWriteItemsInput{TransactItems: tx.items}
			t0 := time.Now()
			if _, err := raw.TransactWriteItems(ctx, in); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		})
}
