package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/lambdakit"
)

// TestReplayIsTheRoutesAnswer books and reschedules through the real HTTP
// handlers over this store with Idempotency-Keys: the completion stored
// inside each transaction is byte for byte the route's answer (the wire
// type's JSON, rendered by the HTTP layer), and a repeat replays it.
func TestReplayIsTheRoutesAnswer(t *testing.T) {
	s, _ := newStore(t)
	ctx := lambdakit.WithLogger(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := app.New(s, clock)
	admin := domain.Actor{ID: "admin-1", Role: domain.RoleAdmin}
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Silom", TimeZone: "Asia/Bangkok"})
	ok(t, err)
	_, err = svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: []domain.DayHours{{Day: "fri", Open: "07:00", Close: "16:00"}}})
	ok(t, err)
	_, err = svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: "Station 1", Type: domain.ResourceCollectionStation, Active: true})
	ok(t, err)
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	ok(t, err)
	srv := httpapi.NewServer(s, clock, config.Config{MaxBodyBytes: 65536, IdempotencyTTL: 24 * time.Hour})

	// serveTwice sends the same request twice and checks the stored record
	// and the replay; it returns the first answer's body.
	serveTwice := func(rt httpapi.Route, path map[string]string, body, key string) string {
		t.Helper()
		p := rt.Path
		for k, v := range path {
			p = strings.ReplaceAll(p, "{"+k+"}", v)
		}
		ev := events.APIGatewayV2HTTPRequest{
			RouteKey: rt.Key(), RawPath: p, PathParameters: path, Body: body,
			Headers: map[string]string{"content-type": "application/json", "idempotency-key": key},
		}
		ev.RequestContext.RouteKey = rt.Key()
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = rt.Method, p
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": admin.ID, "cognito:groups": "[admin]"}},
		}
		h := srv.Handle(rt)
		first, err := h(ctx, ev)
		ok(t, err)
		if first.StatusCode/100 != 2 {
			t.Fatalf("%s: %d %s", rt.Name, first.StatusCode, first.Body)
		}
		rec := getRecord(t, s, "admin#"+admin.ID+"#"+rt.Name+"#"+key)
		if rec == nil || string(rec.Body) != first.Body || rec.StatusCode != first.StatusCode {
			t.Fatalf("%s: stored completion %+v\nanswer %s", rt.Name, rec, first.Body)
		}
		replay, err := h(ctx, ev)
		ok(t, err)
		if replay.Body != first.Body || replay.StatusCode != first.StatusCode || replay.Headers[httpapi.HeaderIdempotentReplayed] != "true" {
			t.Fatalf("%s: replay %d %s %v\nfirst %s", rt.Name, replay.StatusCode, replay.Body, replay.Headers, first.Body)
		}
		return first.Body
	}

	book := fmt.Sprintf(`{"branchId":%q,"serviceId":%q,"start":"2026-11-27T09:00:00+07:00","patient":{"id":"pat_1","name":"Somchai","phone":"+66812345678"}}`, br.ID, draw.ID)
	booked := serveTwice(httpapi.BookAppointment(svc), nil, book, "k-book")
	var a struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	ok(t, json.Unmarshal([]byte(booked), &a))
	if a.ID == "" || a.Version != 1 {
		t.Fatalf("booked %s", booked)
	}
	moved := serveTwice(httpapi.RescheduleAppointment(svc), map[string]string{"id": a.ID}, `{"start":"2026-11-27T10:00:00+07:00"}`, "k-move")
	if !strings.Contains(moved, `"start":"2026-11-27T10:00:00+07:00"`) || !strings.Contains(moved, `"version":2`) {
		t.Fatalf("moved %s", moved)
	}
	serveTwice(httpapi.CancelAppointment(svc), map[string]string{"id": a.ID}, `{"reason":"patient called"}`, "k-cancel")
}
