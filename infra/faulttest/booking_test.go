package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/infra/faultproxy"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
)

// bookingAPI is the booking route over a store whose DynamoDB client goes
// through the fault proxy, on a branch with `stations` collection stations
// open on Tuesday 2026-12-01.
type bookingAPI struct {
	p      *faultproxy.Proxy
	store  *dynamo.Store
	route  func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	branch string
	svc    string
}

var now = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)

// slot is the booked start: Tuesday 08:00 in Bangkok.
const slot = "2026-12-01T08:00:00+07:00"

func newBookingAPI(t *testing.T, stations int) *bookingAPI {
	t.Helper()
	p, client, table := proxied(t)
	store := dynamo.New(client, table)
	clock := func() time.Time { return now }
	svc := app.New(store, clock)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	ctx := context.Background()
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Asok", TimeZone: "Asia/Bangkok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: []domain.DayHours{{Day: "tue", Open: "07:00", Close: "16:00"}}}); err != nil {
		t.Fatal(err)
	}
	for i := range stations {
		if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: fmt.Sprintf("Station %d", i), Type: domain.ResourceCollectionStation}); err != nil {
			t.Fatal(err)
		}
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{MaxBodyBytes: 64 << 10, IdempotencyTTL: 24 * time.Hour}
	srv := httpapi.NewServer(store, clock, cfg)
	return &bookingAPI{p: p, store: store, route: srv.Handle(httpapi.BookAppointment(svc)), branch: br.ID, svc: draw.ID}
}

// book posts one booking for patient as that patient, with an Idempotency-Key.
func (b *bookingAPI) book(t *testing.T, patient, key string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"branchId": b.branch, "serviceId": b.svc, "start": slot,
		"patient": map[string]string{"id": patient, "name": "Somchai " + patient, "phone": "+66812345678"},
	})
	ev := events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /v1/appointments", RawPath: "/v1/appointments", Body: string(body),
		Headers: map[string]string{"content-type": "application/json", "idempotency-key": key},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-" + key, HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/appointments"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "u-" + patient, "cognito:groups": "[patient]", "custom:patient_id": patient},
			}},
		},
	}
	resp, err := b.route(quietCtx(), ev)
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	return resp
}

// held returns the appointment ids holding the slot's cells (DynamoDB Local
// read directly, not through the proxy's faults).
func (b *bookingAPI) held(t *testing.T) map[string]bool {
	t.Helper()
	b.p.Clear()
	occ, err := b.store.Occupancy(context.Background(), b.branch, []string{"2026-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, id := range occ {
		ids[id] = true
	}
	return ids
}

func errorCode(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var e httpapi.ErrorBody
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, resp.Body, err)
	}
	return string(e.Error.Code)
}

func appointmentID(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var a struct{ ID string }
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || a.ID == "" {
		t.Fatalf("201 body %q: %v", resp.Body, err)
	}
	return a.ID
}

// expect503 checks the answer of a request whose faults outlast every retry.
func expect503(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, resp) != "TEMPORARILY_UNAVAILABLE" || resp.Headers["Retry-After"] == "" {
		t.Fatalf("got %d %s (Retry-After %q), want 503 TEMPORARILY_UNAVAILABLE with Retry-After", resp.StatusCode, resp.Body, resp.Headers["Retry-After"])
	}
}

// Faults that outlast the SDK's and the store's retries give 503 with
// Retry-After (before: throttling was a 500, a TransactionConflict a wrong
// 409 SLOT_UNAVAILABLE), nothing is booked, and the same request succeeds
// once the fault is gone. Faults within the retries are invisible.
func TestBookingUnderPersistentFaults(t *testing.T) {
	cases := []struct {
		name string
		rule faultproxy.Rule
	}{
		{"throttled write", faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.Throttle}},
		{"throttled read", faultproxy.Rule{Op: "Query", Kind: faultproxy.Throttle}},
		{"transaction conflict", faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.TxConflict}},
		{"server error", faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.ServerError}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBookingAPI(t, 1)
			b.p.Add(tc.rule)
			expect503(t, b.book(t, "p1", "k1"))
			if n := b.p.Faults(tc.rule.Op); n < 3 {
				t.Fatalf("%d faults: the SDK or the store should have retried", n)
			}
			if h := b.held(t); len(h) != 0 {
				t.Fatalf("a refused booking holds the slot: %v", h)
			}
			resp := b.book(t, "p1", "k1")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("after the fault: %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestBookingFaultsWithinRetriesAreInvisible(t *testing.T) {
	for _, rule := range []faultproxy.Rule{
		{Op: "TransactWriteItems", Kind: faultproxy.Throttle, Times: 2},
		{Op: "TransactWriteItems", Kind: faultproxy.TxConflict, Times: 2},
		{Op: "TransactWriteItems", Kind: faultproxy.ServerError, Times: 2},
		{Op: "Query", Kind: faultproxy.Pass, Latency: 200 * time.Millisecond},
	} {
		t.Run(rule.Kind.String(), func(t *testing.T) {
			b := newBookingAPI(t, 1)
			b.p.Add(rule)
			resp := b.book(t, "p1", "k1")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
			if b.p.Seen(rule.Op) == 0 {
				t.Fatal("the rule's operation never went through the proxy")
			}
		})
	}
}

// A booking whose transaction response is lost after DynamoDB applied it
// (the SDK retries the same TransactWriteItems, with the same
// ClientRequestToken) is answered 201 once and holds the slot once.
func TestBookingResponseLostAfterTheWrite(t *testing.T) {
	for _, k := range []faultproxy.Kind{faultproxy.DropAfterWrite, faultproxy.CutAfterWrite} {
		t.Run(k.String(), func(t *testing.T) {
			b := newBookingAPI(t, 1)
			b.p.Add(faultproxy.Rule{Op: "TransactWriteItems", Kind: k, Times: 1})
			resp := b.book(t, "p1", "k1")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
			id := appointmentID(t, resp)
			if h := b.held(t); len(h) != 1 || !h[id] {
				t.Fatalf("held by %v, want only %s", h, id)
			}
			// The slot is full now: another patient gets a true 409.
			if r := b.book(t, "p2", "k2"); r.StatusCode != http.StatusConflict || errorCode(t, r) != "SLOT_UNAVAILABLE" {
				t.Fatalf("second patient: %d %s", r.StatusCode, r.Body)
			}
		})
	}
}

// Many patients race for a slot of two stations while every operation may be
// throttled, conflict, fail or lose its response: each answer is 201, 503 or
// a 409 SLOT_UNAVAILABLE that is true (the slot is full), every 201 holds
// the slot and nobody else does.
func TestConcurrentBookingsUnderRandomFaults(t *testing.T) {
	b := newBookingAPI(t, 2)
	b.p.Add(faultproxy.Rule{Kind: faultproxy.Throttle, Rate: 0.15})
	b.p.Add(faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.TxConflict, Rate: 0.2})
	b.p.Add(faultproxy.Rule{Op: "TransactWriteItems", Kind: faultproxy.DropAfterWrite, Rate: 0.15})
	b.p.Add(faultproxy.Rule{Kind: faultproxy.ServerError, Rate: 0.05})
	b.p.Add(faultproxy.Rule{Kind: faultproxy.Pass, Latency: 5 * time.Millisecond})
	const n = 12
	resps := make([]events.APIGatewayV2HTTPResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { resps[i] = b.book(t, fmt.Sprintf("p%d", i), fmt.Sprintf("k%d", i)) })
	}
	wg.Wait()
	if b.p.Faults("") == 0 {
		t.Fatal("no fault was injected")
	}
	held := b.held(t)
	booked, full := map[string]bool{}, 0
	for i, r := range resps {
		switch {
		case r.StatusCode == http.StatusCreated:
			booked[appointmentID(t, r)] = true
		case r.StatusCode == http.StatusServiceUnavailable:
			expect503(t, r)
		case r.StatusCode == http.StatusConflict && errorCode(t, r) == "SLOT_UNAVAILABLE":
			full++
		default:
			t.Errorf("patient %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	t.Logf("%d booked, %d told full, %d faults injected", len(booked), full, b.p.Faults(""))
	if len(held) > 2 {
		t.Fatalf("double booking: %d appointments hold a 2-station slot: %v", len(held), held)
	}
	for id := range booked {
		if !held[id] {
			t.Errorf("%s was answered 201 but holds no cell", id)
		}
	}
	if full > 0 && len(held) < 2 {
		t.Errorf("%d patients were told SLOT_UNAVAILABLE while only %d of 2 stations are held", full, len(held))
	}
}
