package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/memstore"
)

// fixedNow is the clock of every test server.
var fixedNow = time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)

// loadEvent reads a payload 2.0 event from testdata.
func loadEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// bookEvent is the booking request from testdata.
func bookEvent(t testing.TB) events.APIGatewayV2HTTPRequest {
	return loadEvent(t, "apigw-v2-book-appointment.json")
}

// withClaims returns ev with the JWT claims replaced.
func withClaims(ev events.APIGatewayV2HTTPRequest, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
	}
	return ev
}

// withHeader returns ev with a copy of its headers plus name: value.
func withHeader(ev events.APIGatewayV2HTTPRequest, name, value string) events.APIGatewayV2HTTPRequest {
	h := make(map[string]string, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		h[k] = v
	}
	if value == "" {
		delete(h, name)
	} else {
		h[name] = value
	}
	ev.Headers = h
	return ev
}

// recordingIdem is the server's idempotency store in these tests:
// shared/memstore's, which passes the same contract suite (shared/storetest)
// as the DynamoDB store, with the calls the server makes counted and an
// injectable Begin failure. It adds no behaviour of its own.
type recordingIdem struct {
	mem       *memstore.Store
	mu        sync.Mutex
	begins    []idempotency.Record
	completes int
	releases  int
	beginErr  error
}

var _ app.IdempotencyStore = (*recordingIdem)(nil)

func newRecordingIdem() *recordingIdem { return &recordingIdem{mem: memstore.New()} }

func (m *recordingIdem) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	m.mu.Lock()
	m.begins = append(m.begins, rec)
	err := m.beginErr
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return m.mem.Begin(ctx, rec, now)
}

func (m *recordingIdem) Complete(ctx context.Context, c *idempotency.Claim, status int, body []byte) error {
	m.mu.Lock()
	m.completes++
	m.mu.Unlock()
	return m.mem.Complete(ctx, c, status, body)
}

func (m *recordingIdem) Release(ctx context.Context, c *idempotency.Claim) error {
	m.mu.Lock()
	m.releases++
	m.mu.Unlock()
	return m.mem.Release(ctx, c)
}

// completeInTransaction is what a store does inside a business transaction:
// it completes the claim itself (not through the server's Complete call).
func (m *recordingIdem) completeInTransaction(t testing.TB, ctx context.Context, c *idempotency.Claim, body []byte) {
	t.Helper()
	if err := m.mem.Complete(ctx, c, c.SuccessStatus, body); err != nil {
		t.Errorf("completing the claim in the transaction: %v", err)
	}
}

// record returns the stored record of key.
func (m *recordingIdem) record(key string) (idempotency.Record, bool) {
	return m.mem.IdempotencyRecord(key)
}

// call is one recorded use-case call.
type call struct {
	method string
	actor  domain.Actor
	args   []any
}

// fakeSvc implements UseCases, recording calls. Each method returns the
// matching func field's result when set, else a fixture and err.
type fakeSvc struct {
	mu    sync.Mutex
	calls []call
	err   error

	book       func(ctx context.Context, a domain.Actor, in app.BookInput) (domain.Appointment, error)
	list       app.Page[domain.Appointment]
	slots      []domain.Slot
	createBr   func(ctx context.Context, a domain.Actor, in domain.Branch) (domain.Branch, error)
	cancelFunc func(ctx context.Context, a domain.Actor, id, reason string) (domain.Appointment, error)
	transition func(ctx context.Context) (domain.Appointment, error)
	reschedule func(ctx context.Context) (domain.Appointment, error)
}

var _ UseCases = (*fakeSvc)(nil)

func (f *fakeSvc) record(method string, a domain.Actor, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{method, a, args})
}

func (f *fakeSvc) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.method == method {
			n++
		}
	}
	return n
}

func (f *fakeSvc) last() call {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return call{}
	}
	return f.calls[len(f.calls)-1]
}

var bangkok = time.FixedZone("+07", 7*3600)

func fixtureAppointment(id string) domain.Appointment {
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, bangkok)
	return domain.Appointment{
		ID: id, Status: domain.StatusBooked, BranchID: "br_01", ServiceID: "svc_blood",
		Start: start, End: start.Add(15 * time.Minute),
		Patient:   domain.Patient{ID: "pat_01hq3k5v8xw2", Name: "Somchai P."},
		Resources: []string{"res_station_1"}, Version: 1,
		CreatedAt: fixedNow, UpdatedAt: fixedNow,
	}
}

func (f *fakeSvc) CreateBranch(ctx context.Context, a domain.Actor, in domain.Branch) (domain.Branch, error) {
	f.record("CreateBranch", a, in)
	if f.createBr != nil {
		return f.createBr(ctx, a, in)
	}
	in.ID = "br_new"
	return in, f.err
}
func (f *fakeSvc) ListBranches(_ context.Context, a domain.Actor) ([]domain.Branch, error) {
	f.record("ListBranches", a)
	return nil, f.err
}
func (f *fakeSvc) GetBranch(_ context.Context, a domain.Actor, id string) (domain.Branch, error) {
	f.record("GetBranch", a, id)
	return domain.Branch{ID: id}, f.err
}
func (f *fakeSvc) PutHours(_ context.Context, a domain.Actor, branchID string, h domain.Hours) (domain.Hours, error) {
	f.record("PutHours", a, branchID, h)
	return h, f.err
}
func (f *fakeSvc) GetHours(_ context.Context, a domain.Actor, branchID string) (domain.Hours, error) {
	f.record("GetHours", a, branchID)
	return domain.Hours{}, f.err
}
func (f *fakeSvc) CreateResource(_ context.Context, a domain.Actor, branchID string, in domain.Resource) (domain.Resource, error) {
	f.record("CreateResource", a, branchID, in)
	return in, f.err
}
func (f *fakeSvc) UpdateResource(_ context.Context, a domain.Actor, branchID, resourceID string, p app.ResourcePatch) (domain.Resource, error) {
	f.record("UpdateResource", a, branchID, resourceID, p)
	return domain.Resource{ID: resourceID, BranchID: branchID}, f.err
}
func (f *fakeSvc) ListResources(_ context.Context, a domain.Actor, branchID string) ([]domain.Resource, error) {
	f.record("ListResources", a, branchID)
	return nil, f.err
}
func (f *fakeSvc) CreateService(_ context.Context, a domain.Actor, branchID string, in domain.Service) (domain.Service, error) {
	f.record("CreateService", a, branchID, in)
	return in, f.err
}
func (f *fakeSvc) ListServices(_ context.Context, a domain.Actor, branchID string) ([]domain.Service, error) {
	f.record("ListServices", a, branchID)
	return nil, f.err
}
func (f *fakeSvc) Availability(_ context.Context, a domain.Actor, q app.AvailabilityQuery) ([]domain.Slot, error) {
	f.record("Availability", a, q)
	return f.slots, f.err
}
func (f *fakeSvc) Book(ctx context.Context, a domain.Actor, in app.BookInput) (domain.Appointment, error) {
	f.record("Book", a, in)
	if f.book != nil {
		return f.book(ctx, a, in)
	}
	return fixtureAppointment("apt_1"), f.err
}
func (f *fakeSvc) GetAppointment(_ context.Context, a domain.Actor, id string) (domain.Appointment, error) {
	f.record("GetAppointment", a, id)
	return fixtureAppointment(id), f.err
}
func (f *fakeSvc) ListAppointments(_ context.Context, a domain.Actor, q app.ListQuery) (app.Page[domain.Appointment], error) {
	f.record("ListAppointments", a, q)
	return f.list, f.err
}
func (f *fakeSvc) Reschedule(ctx context.Context, a domain.Actor, id string, start time.Time) (domain.Appointment, error) {
	f.record("Reschedule", a, id, start)
	if f.reschedule != nil {
		return f.reschedule(ctx)
	}
	return fixtureAppointment(id), f.err
}
func (f *fakeSvc) Cancel(ctx context.Context, a domain.Actor, id, reason string) (domain.Appointment, error) {
	f.record("Cancel", a, id, reason)
	if f.cancelFunc != nil {
		return f.cancelFunc(ctx, a, id, reason)
	}
	return fixtureAppointment(id), f.err
}
func (f *fakeSvc) Transition(ctx context.Context, a domain.Actor, id string, to domain.Status, reason string) (domain.Appointment, error) {
	f.record("Transition", a, id, to, reason)
	if f.transition != nil {
		return f.transition(ctx)
	}
	return fixtureAppointment(id), f.err
}
func (f *fakeSvc) History(_ context.Context, a domain.Actor, id string) ([]domain.HistoryEntry, error) {
	f.record("History", a, id)
	return nil, f.err
}

// testConfig is the configuration of test servers.
func testConfig() config.Config {
	return config.Config{
		MaxBodyBytes:       1024,
		IdempotencyTTL:     24 * time.Hour,
		CORSAllowedOrigins: []string{"https://portal.example.com"},
	}
}

// harness is a Server over a fake store, with its log output captured.
type harness struct {
	srv     *Server
	idem    *recordingIdem
	svc     *fakeSvc
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newHarness() *harness {
	idem := newRecordingIdem()
	return &harness{
		srv:     NewServer(idem, func() time.Time { return fixedNow }, testConfig()),
		idem:    idem,
		svc:     &fakeSvc{},
		logs:    &bytes.Buffer{},
		metrics: &bytes.Buffer{},
	}
}

// ctx returns an invocation context whose logger writes to h.logs.
func (h *harness) ctx() context.Context {
	ctx := lambdakit.WithLogger(context.Background(), lambdakit.NewLogger(h.logs, slog.LevelDebug))
	return lambdakit.WithMetricsWriter(ctx, h.metrics, "test-fn")
}

// serve runs rt on ev and checks the Lambda-level contract: a nil error and a
// JSON content type.
func (h *harness) serve(t testing.TB, rt Route, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return h.serveCtx(t, h.ctx(), rt, ev)
}

func (h *harness) serveCtx(t testing.TB, ctx context.Context, rt Route, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.srv.Handle(rt)(ctx, ev)
	if err != nil {
		t.Fatalf("handler returned a Lambda error: %v", err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !json.Valid([]byte(resp.Body)) {
		t.Errorf("body is not JSON: %q", resp.Body)
	}
	return resp
}

// errorOf parses an error envelope, failing the test if the body is not one.
func errorOf(t testing.TB, resp events.APIGatewayV2HTTPResponse) ErrorDetail {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(resp.Body)))
	dec.DisallowUnknownFields()
	var b ErrorBody
	if err := dec.Decode(&b); err != nil || b.Error.Code == "" {
		t.Fatalf("status %d body %s is not an error envelope (%v)", resp.StatusCode, resp.Body, err)
	}
	return b.Error
}

// expectError checks the status and code of an error answer.
func expectError(t testing.TB, resp events.APIGatewayV2HTTPResponse, status int, code string) ErrorDetail {
	t.Helper()
	d := errorOf(t, resp)
	if resp.StatusCode != status || string(d.Code) != code {
		t.Fatalf("got %d %s (%q), want %d %s", resp.StatusCode, d.Code, d.Message, status, code)
	}
	return d
}
