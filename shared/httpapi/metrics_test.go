package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/metrics/metricstest"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// appointmentEvent is the booking event turned into a request for
// /v1/appointments/{id}[/verb]: its method, path (the id is the path's third
// segment) and body changed.
func appointmentEvent(t *testing.T, method, path, body string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := bookEvent(t)
	parts := strings.Split(path, "/")
	if len(parts) < 4 {
		t.Fatalf("path %q has no id", path)
	}
	ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = path, path, method
	ev.PathParameters = map[string]string{"id": parts[3]}
	ev.Body = body
	return withHeader(withHeader(ev, "content-length", ""), "idempotency-key", "")
}

// metricsCtx is an invocation context whose logs are discarded and whose
// metrics a Recorder checks against the EMF specification and the catalog.
func metricsCtx() (context.Context, *metricstest.Recorder) {
	ctx := lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelInfo))
	return metricstest.Context(ctx, "book-fn")
}

// failingCreate is the DynamoDB store whose booking transaction fails with a
// plain error, as a throttled or unreachable table would.
type failingCreate struct{ *dynamo.Store }

func (failingCreate) CreateAppointment(context.Context, domain.Appointment, domain.HistoryEntry, domain.Event) error {
	return errors.New("dynamodb: ProvisionedThroughputExceededException")
}

func (failingCreate) CreateAppointmentGuarded(context.Context, domain.Appointment, domain.HistoryEntry, domain.Event, app.Guard) error {
	return errors.New("dynamodb: ProvisionedThroughputExceededException")
}

// bookingFixture is a branch with one collection station and a 15-minute
// service over a fresh DynamoDB Local table, and a booking request for it.
type bookingFixture struct {
	store   *dynamo.Store
	now     func() time.Time
	branch  string
	service string
	start   time.Time
}

func newBookingFixture(t *testing.T) bookingFixture {
	t.Helper()
	client, table := testenv.Table(t)
	store := dynamo.New(client, table)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := app.New(store, clock)
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	ctx := lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(io.Discard, slog.LevelInfo))
	br, err := svc.CreateBranch(ctx, admin, domain.Branch{Name: "Silom", TimeZone: "Asia/Bangkok"})
	if err != nil {
		t.Fatal(err)
	}
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	if _, err := svc.PutHours(ctx, admin, br.ID, domain.Hours{Weekly: weekly}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateResource(ctx, admin, br.ID, domain.Resource{Name: "Station 1", Type: domain.ResourceCollectionStation}); err != nil {
		t.Fatal(err)
	}
	draw, err := svc.CreateService(ctx, admin, br.ID, domain.Service{Name: "Blood draw", DurationMinutes: 15,
		Requires: []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}}, MaxAdvanceDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	bkk, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Fatal(err)
	}
	return bookingFixture{store: store, now: clock, branch: br.ID, service: draw.ID,
		start: time.Date(2026, 11, 27, 9, 0, 0, 0, bkk)}
}

// request is a staff booking of patient at f.start with an idempotency key.
func (f bookingFixture) request(t *testing.T, key, patient string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := withClaims(bookEvent(t), map[string]string{"sub": "staff-1", "cognito:groups": "[admin]"})
	b, err := json.Marshal(map[string]any{"branchId": f.branch, "serviceId": f.service, "start": f.start.Format(time.RFC3339),
		"patient": map[string]any{"id": patient, "name": "Somchai Jaidee", "phone": "+66812345678", "locale": "th"}})
	if err != nil {
		t.Fatal(err)
	}
	ev.Body = string(b)
	return withHeader(withHeader(ev, "idempotency-key", key), "content-length", "")
}

// handler is the BookAppointment function's handler over store.
func (f bookingFixture) handler(store interface {
	app.Store
	app.IdempotencyStore
}) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return NewServer(store, f.now, testConfig()).Handle(BookAppointment(app.New(store, f.now)))
}

// bookingData returns the BookingOutcome data and the one ApiLatency datum of
// an invocation.
func bookingData(t *testing.T, rec *metricstest.Recorder) (outcomes []metricstest.Datum, latency metricstest.Datum) {
	t.Helper()
	outcomes = rec.Find(t, metrics.BookingOutcome, nil)
	lat := rec.Find(t, metrics.APILatency, nil)
	if len(lat) != 1 {
		t.Fatalf("ApiLatency data = %+v, want one", lat)
	}
	return outcomes, lat[0]
}

// wantOutcome checks that rec holds exactly one BookingOutcome, with value 1
// and dimensions Operation=book, Outcome=outcome, FunctionName, and one
// ApiLatency for BookAppointment with statusClass.
func wantOutcome(t *testing.T, rec *metricstest.Recorder, outcome, statusClass string) {
	t.Helper()
	outs, lat := bookingData(t, rec)
	want := map[string]string{"FunctionName": "book-fn", "Operation": "book", "Outcome": outcome}
	if len(outs) != 1 || outs[0].Value != 1 || outs[0].Unit != lambdakit.UnitCount || fmt.Sprint(outs[0].Dimensions) != fmt.Sprint(want) {
		t.Errorf("BookingOutcome = %+v, want one datum 1 Count %v", outs, want)
	}
	wantLat := map[string]string{"FunctionName": "book-fn", "Route": "BookAppointment", "StatusClass": statusClass}
	if fmt.Sprint(lat.Dimensions) != fmt.Sprint(wantLat) || lat.Unit != lambdakit.UnitMilliseconds || lat.Value < 0 {
		t.Errorf("ApiLatency = %+v, want dimensions %v in Milliseconds", lat, wantLat)
	}
}

// Bookings through the real BookAppointment route, use case and DynamoDB
// Local: each answer is counted once under its outcome.
func TestBookingOutcomesThroughTheRealHandler(t *testing.T) {
	f := newBookingFixture(t)
	book := f.handler(f.store)

	t.Run("success", func(t *testing.T) {
		ctx, rec := metricsCtx()
		resp, _ := book(ctx, f.request(t, "k-first", "pat_a"))
		if resp.StatusCode != 201 {
			t.Fatalf("first booking: %d %s", resp.StatusCode, resp.Body)
		}
		wantOutcome(t, rec, "success", "2xx")
	})
	t.Run("slot taken is a conflict", func(t *testing.T) {
		ctx, rec := metricsCtx()
		resp, _ := book(ctx, f.request(t, "k-second", "pat_b"))
		if resp.StatusCode != 409 || !strings.Contains(resp.Body, string(apperr.SlotUnavailable)) {
			t.Fatalf("second booking of the only station: %d %s", resp.StatusCode, resp.Body)
		}
		wantOutcome(t, rec, "conflict", "4xx")
	})
	t.Run("malformed request is validation", func(t *testing.T) {
		ctx, rec := metricsCtx()
		ev := f.request(t, "k-bad", "pat_c")
		ev.Body = `{"branchId":"` + f.branch + `","start":"tomorrow"}`
		resp, _ := book(ctx, ev)
		if resp.StatusCode != 400 {
			t.Fatalf("malformed booking: %d %s", resp.StatusCode, resp.Body)
		}
		wantOutcome(t, rec, "validation", "4xx")
	})
	t.Run("replay is not counted again", func(t *testing.T) {
		ctx, rec := metricsCtx()
		resp, _ := book(ctx, f.request(t, "k-first", "pat_a"))
		if resp.StatusCode != 201 || resp.Headers[HeaderIdempotentReplayed] != "true" {
			t.Fatalf("replay: %d %v", resp.StatusCode, resp.Headers)
		}
		if outs, lat := bookingData(t, rec); len(outs) != 0 || lat.Dimensions["StatusClass"] != "2xx" {
			t.Errorf("replay counted: %+v, latency %+v", outs, lat)
		}
	})
	t.Run("unauthenticated is no booking outcome", func(t *testing.T) {
		ctx, rec := metricsCtx()
		ev := f.request(t, "k-anon", "pat_d")
		ev.RequestContext.Authorizer = nil
		resp, _ := book(ctx, ev)
		if resp.StatusCode != 401 {
			t.Fatalf("anonymous booking: %d %s", resp.StatusCode, resp.Body)
		}
		if outs, lat := bookingData(t, rec); len(outs) != 0 || lat.Dimensions["StatusClass"] != "4xx" {
			t.Errorf("auth failure counted: %+v, latency %+v", outs, lat)
		}
	})
	t.Run("store failure is an error", func(t *testing.T) {
		ctx, rec := metricsCtx()
		f2 := f
		f2.start = f.start.Add(time.Hour) // a free slot: the failure is the write's
		resp, _ := f.handler(failingCreate{f.store})(ctx, f2.request(t, "k-fail", "pat_e"))
		if resp.StatusCode != 500 {
			t.Fatalf("failing store: %d %s", resp.StatusCode, resp.Body)
		}
		wantOutcome(t, rec, "error", "5xx")
		if n := rec.Sum(t, metrics.ServerErrors, nil); n != 1 {
			t.Errorf("ServerErrors = %v, want 1", n)
		}
	})
}

// The code → outcome table, for the three counted operations, through the
// real route constructors (so that renaming a route breaks this test, not the
// dashboards silently).
func TestBookingOutcomeClassification(t *testing.T) {
	routes := map[string]func(UseCases) Route{
		"book":       BookAppointment,
		"reschedule": RescheduleAppointment,
		"cancel":     CancelAppointment,
	}
	evs := map[string]events.APIGatewayV2HTTPRequest{
		"book":       bookEvent(t),
		"reschedule": appointmentEvent(t, "POST", "/v1/appointments/apt_1/reschedule", `{"start":"2025-03-10T10:00:00+07:00"}`),
		"cancel":     loadEvent(t, "apigw-v2-cancel-base64.json"),
	}
	cases := []struct {
		err  error
		want string // "" = not counted
	}{
		{nil, "success"},
		{apperr.E(apperr.SlotUnavailable, "taken"), "conflict"},
		{apperr.E(apperr.Conflict, "raced"), "conflict"},
		{apperr.E(apperr.InvalidTransition, "already cancelled"), "conflict"},
		{apperr.E(apperr.Validation, "bad"), "validation"},
		{apperr.E(apperr.OutsideSchedule, "closed"), "validation"},
		{apperr.E(apperr.LimitExceeded, "cap"), "validation"},
		{apperr.E(apperr.CancelCutoff, "too late"), "validation"},
		{apperr.E(apperr.NotFound, "no such appointment"), "validation"},
		{apperr.E(apperr.IdempotencyKeyReused, "other body"), "validation"},
		{apperr.E(apperr.PayloadTooLarge, "big"), "validation"},
		{apperr.E(apperr.RequestInProgress, "first still running"), ""},
		{apperr.E(apperr.Forbidden, "not yours"), ""},
		{apperr.E(apperr.Unauthenticated, "who"), ""},
		{errors.New("boom"), "error"},
	}
	for op, route := range routes {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%v", op, c.err), func(t *testing.T) {
				h := newHarness()
				h.svc.err = c.err
				ctx, rec := metricsCtx()
				h.serveCtx(t, ctx, route(h.svc), evs[op])
				outs := rec.Find(t, metrics.BookingOutcome, nil)
				if c.want == "" {
					if len(outs) != 0 {
						t.Errorf("counted %+v, want nothing", outs)
					}
					return
				}
				if len(outs) != 1 || outs[0].Dimensions["Operation"] != op || outs[0].Dimensions["Outcome"] != c.want || outs[0].Value != 1 {
					t.Errorf("BookingOutcome = %+v, want Operation=%s Outcome=%s", outs, op, c.want)
				}
			})
		}
	}
}

// Routes that change no booking write latency but no BookingOutcome.
func TestOtherRoutesCountNoBookingOutcome(t *testing.T) {
	h := newHarness()
	ctx, rec := metricsCtx()
	ev := appointmentEvent(t, "GET", "/v1/appointments/apt_1", "")
	if resp := h.serveCtx(t, ctx, GetAppointment(h.svc), ev); resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, resp.Body)
	}
	if outs := rec.Find(t, metrics.BookingOutcome, nil); len(outs) != 0 {
		t.Errorf("GetAppointment counted %+v", outs)
	}
	if n := len(rec.Find(t, metrics.APILatency, map[string]string{"Route": "GetAppointment", "StatusClass": "2xx"})); n != 1 {
		t.Errorf("GetAppointment latency data = %d, want 1", n)
	}
}

// ApiLatency is measured around the handler and its dimensions are the route's
// name and status class: never the raw path, whose ids would make one metric
// per appointment.
func TestAPILatencyHasRouteAndStatusClassNeverThePath(t *testing.T) {
	const id = "apt_01JD7ZK4Q8V6Y3N2M1X0W9T8S7"
	ev := appointmentEvent(t, "GET", "/v1/appointments/"+id, "")
	const pause = 30 * time.Millisecond
	slow := Route{Name: "GetAppointment", Method: "GET", Path: "/v1/appointments/{id}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			time.Sleep(pause)
			return nil, apperr.E(apperr.NotFound, "appointment not found")
		}}

	ctx, rec := metricsCtx()
	h := newHarness()
	if resp := h.serveCtx(t, ctx, slow, ev); resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lat := rec.Find(t, metrics.APILatency, nil)
	if len(lat) != 1 {
		t.Fatalf("ApiLatency data = %+v", lat)
	}
	d := lat[0]
	want := map[string]string{"FunctionName": "book-fn", "Route": "GetAppointment", "StatusClass": "4xx"}
	if fmt.Sprint(d.Dimensions) != fmt.Sprint(want) {
		t.Errorf("dimensions %v, want %v", d.Dimensions, want)
	}
	if d.Value < float64(pause/time.Millisecond) || d.Value > 10_000 {
		t.Errorf("ApiLatency = %v ms, want at least the handler's %v", d.Value, pause)
	}
	for k, v := range d.Members {
		if s, ok := v.(string); ok && (strings.Contains(s, id) || strings.Contains(s, "/v1/")) {
			t.Errorf("member %s = %q carries the path", k, s)
		}
	}
}
