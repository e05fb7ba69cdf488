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

// TestUncontendedBookingRoundTrips counts the DynamoDB requests of one
// uncontended booking through the HTTP handler (a staff caller, so the patient
// cap's read does not apply). It pins today's cost, request by request, as the
// baseline issue #11 §1 lowers to two (the idempotency claim and the booking
// transaction): whoever removes a request tightens the expectation here.
func TestUncontendedBookingRoundTrips(t *testing.T) {
	c, table := testenv.Table(t)
	counting := &roundTrips{Client: c}
	s := New(counting, table)
	ctx := lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := app.New(s, clock)
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
	handler := httpapi.NewServer(s, clock, config.Config{MaxBodyBytes: 65536, IdempotencyTTL: 24 * time.Hour}).Handle(httpapi.BookAppointment(svc))
	book := func(i int) {
		t.Helper()
		start := time.Date(2026, 11, 27, 7, 0, 0, 0, bangkok).Add(time.Duration(i) * 15 * time.Minute)
		body, _ := json.Marshal(map[string]any{"branchId": br.ID, "serviceId": draw.ID, "start": start.Format(time.RFC3339),
			"patient": map[string]any{"id": fmt.Sprint("p-", i), "name": "Somchai Jaidee", "phone": "+66812345678", "locale": "th"}})
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/v1/appointments", Body: string(body),
			Headers: map[string]string{"content-type": "application/json", "idempotency-key": fmt.Sprint("count-", i)}}
		ev.RequestContext.HTTP.Method = "POST"
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "staff-1", "cognito:groups": "[admin]"}}}
		res, err := handler(ctx, ev)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("booking %d: %d %s %v", i, res.StatusCode, res.Body, err)
		}
	}
	counting.take() // the catalog set-up
	for i := 0; i < 2; i++ {
		book(i)
		got := counting.take()
		// Today: the idempotency claim (PutItem), the catalog (Query), the
		// day's occupancy (Query) and the booking transaction.
		want := map[string]int{"PutItem": 1, "Query": 2, "TransactWriteItems": 1}
		sameJSON(t, fmt.Sprint("requests of booking ", i), got, want)
	}
}
