package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/testenv"
)

// roundTrips counts every DynamoDB request by operation: the cost that matters
// on AWS, where each one is a network round trip.
type roundTrips struct {
	Client
	mu    sync.Mutex
	calls map[string]int
}

func (c *roundTrips) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

// take returns the counts since the last take and resets them.
func (c *roundTrips) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	if out == nil {
		out = map[string]int{}
	}
	return out
}

func (c *roundTrips) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.Client.GetItem(ctx, in, o...)
}

func (c *roundTrips) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.Client.PutItem(ctx, in, o...)
}

func (c *roundTrips) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c *roundTrips) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.Client.DeleteItem(ctx, in, o...)
}

func (c *roundTrips) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.Client.Query(ctx, in, o...)
}

func (c *roundTrips) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.Client.TransactWriteItems(ctx, in, o...)
}

// TestUncontendedBookingRoundTrips counts the DynamoDB requests of bookings
// through the HTTP handler (issue #11 §1). With the branch's catalog cached
// (after the first booking of a cold container), an uncontended booking is
// two requests: the idempotency claim and the booking transaction, which
// checks the catalog version and, for a patient, the cap on upcoming visits.
// A booking of a full slot is answered after one occupancy read, whether
// its container knew the slot was full (from its own bookings) or tried a
// candidate whose cell was held.
func TestUncontendedBookingRoundTrips(t *testing.T) {
	c, table := testenv.Table(t)
	counting := &roundTrips{Client: c}
	s := New(counting, table)
	ctx := lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := app.New(s, clock).WithMaxActiveBookings(3)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Counted", TimeZone: "Asia/Bangkok"})
	ok(t, err)
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	_, err = svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: weekly})
	ok(t, err)
	for i := 0; i < 3; i++ {
		_, err = svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprint("Station ", i), Type: domain.ResourceCollectionStation})
		ok(t, err)
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	ok(t, err)
	server := httpapi.NewServer(s, clock, config.Config{MaxBodyBytes: 65536, IdempotencyTTL: 24 * time.Hour})
	handler := server.Handle(httpapi.BookAppointment(svc))
	// Another warm container of the same function (its own caches).
	other := server.Handle(httpapi.BookAppointment(app.New(s, clock).WithMaxActiveBookings(3)))
	staff := map[string]string{"sub": "staff-1", "cognito:groups": "[admin]"}
	patient := map[string]string{"sub": "user-9", "cognito:groups": "[patient]", "custom:patient_id": "p-capped"}
	n := 0
	book := func(h lambdakit.HTTPHandler, slot int, claims map[string]string, wantStatus int) {
		t.Helper()
		n++
		start := time.Date(2026, 11, 27, 7, 0, 0, 0, bangkok).Add(time.Duration(slot) * 15 * time.Minute)
		body, _ := json.Marshal(map[string]any{"branchId": br.ID, "serviceId": draw.ID, "start": start.Format(time.RFC3339),
			"patient": map[string]any{"id": fmt.Sprint("p-", n), "name": "Somchai Jaidee", "phone": "+66812345678", "locale": "th"}})
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/v1/appointments", Body: string(body),
			Headers: map[string]string{"content-type": "application/json", "idempotency-key": fmt.Sprint("count-", n)}}
		ev.RequestContext.HTTP.Method = "POST"
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
		res, err := h(ctx, ev)
		if err != nil || res.StatusCode != wantStatus {
			t.Fatalf("booking %d: %d %s %v, want %d", n, res.StatusCode, res.Body, err, wantStatus)
		}
	}
	counting.take() // the catalog set-up
	// A cold container reads the catalog once.
	book(handler, 0, staff, 201)
	sameJSON(t, "requests of the first booking", counting.take(), map[string]int{"PutItem": 1, "Query": 1, "TransactWriteItems": 1})
	// Then: the claim and the transaction, for staff and a capped patient.
	for i, claims := range []map[string]string{staff, staff, patient, patient} {
		book(handler, 1+i, claims, 201)
		sameJSON(t, fmt.Sprint("requests of uncontended booking ", i), counting.take(), map[string]int{"PutItem": 1, "TransactWriteItems": 1})
	}
	// A full slot, filled by this container: it knows the stations it took,
	// so its fourth booking there reads the day's cells once (a hint never
	// refuses alone) and answers 409 (the claim is then released).
	for i := range 3 {
		book(handler, 10, staff, 201)
		sameJSON(t, fmt.Sprint("requests of filling booking ", i), counting.take(), map[string]int{"PutItem": 1, "TransactWriteItems": 1})
	}
	book(handler, 10, staff, 409)
	sameJSON(t, "requests of a booking of a full slot", counting.take(), map[string]int{"PutItem": 1, "Query": 1, "DeleteItem": 1})
	// The other container does not know the slot is full: its candidate's
	// cell is held, so it reads the day's cells once and answers 409.
	book(other, 20, staff, 201)
	counting.take()
	book(other, 10, staff, 409)
	sameJSON(t, "requests of another container's booking of a full slot", counting.take(),
		map[string]int{"PutItem": 1, "TransactWriteItems": 1, "Query": 1, "DeleteItem": 1})
}
