// Package authzcheck_test runs every route of the registry (httpapi.Routes)
// against every role over the real handlers, use cases and DynamoDB store
// (DynamoDB Local), and checks the answer against one table: the policy. A
// route missing from the table fails the test, so no route ships without a
// policy (deny by default).
package authzcheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/httpapi"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// role is a kind of caller.
type role string

const (
	anonymous    role = "anonymous"     // no JWT claims
	patientOwner role = "patient-owner" // the patient of the appointment
	patientOther role = "patient-other" // another patient
	staffOwn     role = "staff-branch"  // staff of the appointment's/resource's/campaign's branch
	staffOther   role = "staff-other"   // staff of another branch
	adminRole    role = "admin"
)

var roles = []role{anonymous, patientOwner, patientOther, staffOwn, staffOther, adminRole}

// expect is the status each role must get.
type expect map[role]int

const (
	ok       = http.StatusOK
	created  = http.StatusCreated
	unauth   = http.StatusUnauthorized
	denied   = http.StatusForbidden
	notFound = http.StatusNotFound
)

// Common rows.
var (
	public        = expect{anonymous: ok, patientOwner: ok, patientOther: ok, staffOwn: ok, staffOther: ok, adminRole: ok}
	authenticated = expect{anonymous: unauth, patientOwner: ok, patientOther: ok, staffOwn: ok, staffOther: ok, adminRole: ok}
	adminCreates  = expect{anonymous: unauth, patientOwner: denied, patientOther: denied, staffOwn: denied, staffOther: denied, adminRole: created}
	adminChanges  = expect{anonymous: unauth, patientOwner: denied, patientOther: denied, staffOwn: denied, staffOther: denied, adminRole: ok}
	// The appointment's patient, staff of its branch, admins; everyone else
	// learns nothing (404).
	visitParties = expect{anonymous: unauth, patientOwner: ok, patientOther: notFound, staffOwn: ok, staffOther: notFound, adminRole: ok}
	// Status changes: staff of the branch and admins; the appointment's own
	// patient is refused (403), other callers learn nothing (404).
	visitStaff = expect{anonymous: unauth, patientOwner: denied, patientOther: notFound, staffOwn: ok, staffOther: notFound, adminRole: ok}
)

// policy is the route × role table. Every route key of httpapi.Routes must
// be here, and nothing else.
var policy = map[string]expect{
	"GET /v1/health": public,

	"POST /v1/branches":                 adminCreates,
	"GET /v1/branches":                  authenticated,
	"GET /v1/branches/{branchId}":       authenticated,
	"PUT /v1/branches/{branchId}/hours": adminChanges,
	"GET /v1/branches/{branchId}/hours": authenticated,

	"POST /v1/branches/{branchId}/resources": adminCreates,
	"GET /v1/branches/{branchId}/resources":  authenticated,
	// Staff of the branch may patch its resources; staff elsewhere: 404.
	"PATCH /v1/branches/{branchId}/resources/{resourceId}": {anonymous: unauth, patientOwner: denied, patientOther: denied, staffOwn: ok, staffOther: notFound, adminRole: ok},

	"POST /v1/branches/{branchId}/services": adminCreates,
	"GET /v1/branches/{branchId}/services":  authenticated,

	"GET /v1/availability": authenticated,

	// Patients book for themselves; staff only at their branches.
	"POST /v1/appointments":             {anonymous: unauth, patientOwner: created, patientOther: created, staffOwn: created, staffOther: notFound, adminRole: created},
	"GET /v1/appointments/{id}":         visitParties,
	"GET /v1/appointments/{id}/history": visitParties,
	// ?branchId=&date=: staff of the branch and admins only.
	"GET /v1/appointments": {anonymous: unauth, patientOwner: denied, patientOther: denied, staffOwn: ok, staffOther: denied, adminRole: ok},

	"POST /v1/appointments/{id}/reschedule": visitParties,
	"POST /v1/appointments/{id}/cancel":     visitParties,
	"POST /v1/appointments/{id}/check-in":   visitStaff,
	"POST /v1/appointments/{id}/complete":   visitStaff,
	"POST /v1/appointments/{id}/no-show":    visitStaff,

	// Staff of the campaign's branch and admins; 404 for everyone else.
	"GET /v1/checkup-campaigns/{campaignId}": {anonymous: unauth, patientOwner: notFound, patientOther: notFound, staffOwn: ok, staffOther: notFound, adminRole: ok},

	// The delivery log: whoever may see the visit.
	"GET /v1/appointments/{id}/notifications": visitParties,
	// A patient's own notification settings: that patient only; another
	// patient learns nothing (404); staff and admins may not choose a
	// patient's channels (403).
	"GET /v1/patients/{patientId}/notification-preferences": patientSelf,
	"PUT /v1/patients/{patientId}/notification-preferences": patientSelf,
	"PUT /v1/patients/{patientId}/devices/{token}":          patientSelf,
	"DELETE /v1/patients/{patientId}/devices/{token}":       patientSelf,
	// The token's own profile: patient A has one, patient B none yet (404);
	// staff and admins have no patient profile (403).
	"GET /v1/me":            me,
	"GET /v1/me/dependents": me,
}

// me: routes of the token's own patient profile.
var me = expect{anonymous: unauth, patientOwner: ok, patientOther: notFound, staffOwn: denied, staffOther: denied, adminRole: denied}

// patientSelf: routes under /v1/patients/{patientId} of patient A.
var patientSelf = expect{anonymous: unauth, patientOwner: ok, patientOther: notFound, staffOwn: denied, staffOther: denied, adminRole: denied}

// patientListPolicy is GET /v1/appointments?patientId=<owner>: the patient
// and anyone who may see the patient's visits (staff get only those at their
// branches, so staff elsewhere get an empty page, not an error).
var patientListPolicy = expect{anonymous: unauth, patientOwner: ok, patientOther: denied, staffOwn: ok, staffOther: ok, adminRole: ok}

// Times: the visits are on Tue 2026-12-01 … Fri 2026-12-04 in Bangkok,
// about a week after the clock.
var fixedNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// useCases is what the registry needs: the booking use cases and the
// campaign reports, as the functions are wired.
type useCases struct {
	*app.Service
	*app.Checkup
	*app.Notifications
	*app.PatientViews
}

type dropWork struct{}

func (dropWork) SendWork(context.Context, []app.CheckupWork) error { return nil }

// env is the seeded world.
type env struct {
	svc      *app.Service
	srv      *httpapi.Server
	routes   map[string]httpapi.Route
	clock    *clock
	events   map[string]events.APIGatewayV2HTTPRequest // testdata events by route key
	branchX  domain.Branch
	branchY  domain.Branch
	service  domain.Service // at X
	resource domain.Resource
	apptA    domain.Appointment // patient A's visit at X
	campaign string             // at X
	slot     atomic.Int64
	seq      atomic.Int64
}

const patientA, patientB = "p-a", "p-b"

var admin = domain.Actor{ID: "u-admin", Role: domain.RoleAdmin}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newEnv(t *testing.T) *env {
	client := testenv.DynamoDB(t)
	store := dynamo.New(client, testenv.NewTable(t, client))
	clk := &clock{now: fixedNow}
	svc := app.New(store, clk.Now)
	e := &env{
		svc: svc, clock: clk,
		srv:    httpapi.NewServer(store, clk.Now, config.Config{MaxBodyBytes: config.DefaultMaxBodyBytes, IdempotencyTTL: 24 * time.Hour}),
		routes: httpapi.Routes(useCases{svc, app.NewCheckup(svc, store, dropWork{}), app.NewNotifications(svc, store), app.NewPatientViews(store, clk.Now)}),
		events: loadEvents(t),
	}
	ctx := context.Background()
	var err error
	var weekly []domain.DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		weekly = append(weekly, domain.DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	for _, b := range []*domain.Branch{&e.branchX, &e.branchY} {
		*b, err = svc.CreateBranch(ctx, admin, domain.Branch{Name: "Branch", TimeZone: "Asia/Bangkok", SlotMinutes: 15})
		must(t, err)
		_, err = svc.PutHours(ctx, admin, b.ID, domain.Hours{Weekly: weekly})
		must(t, err)
		r, err := svc.CreateResource(ctx, admin, b.ID, domain.Resource{Name: "Station", Type: domain.ResourceCollectionStation})
		must(t, err)
		s, err := svc.CreateService(ctx, admin, b.ID, domain.Service{
			Name: "Blood draw", DurationMinutes: 15,
			Requires:         []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}},
			MinNoticeMinutes: 60, MaxAdvanceDays: 60, CancelCutoffMinutes: 120,
		})
		must(t, err)
		if b == &e.branchX {
			e.resource, e.service = r, s
		}
	}
	e.apptA = e.book(t, patientA)
	profile := domain.PatientChange{Kind: domain.PatientUpserted, PatientID: patientA, Version: 1, Profile: domain.PatientProfile{
		Name: "Somchai Jaidee", Phone: "+66812345678", Email: "somchai@example.co.th", Locale: "th",
		Dependents: []domain.Dependent{{PatientID: "p-child", Relation: "child", ConsentAt: fixedNow}},
	}}
	_, err = store.UpdatePatient(ctx, patientA, func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
		return domain.ApplyPatientChange(cur, profile, fixedNow)
	})
	must(t, err)
	e.campaign = "camp-authz"
	chk := app.NewCheckup(svc, store, dropWork{})
	must(t, chk.AcceptRoster(ctx, app.Roster{
		CampaignID: e.campaign, BranchID: e.branchX.ID, ServiceID: e.service.ID,
		Window: domain.RosterWindow{From: "2026-12-07", To: "2026-12-08"},
		Participants: []domain.RosterParticipant{{
			ExternalID: "emp-1", Name: "Employee", Phone: "+66812345678", Email: "e1@example.com", Locale: "en",
		}},
	}))
	return e
}

// loadEvents reads testdata/events and indexes the events by route key.
func loadEvents(t *testing.T) map[string]events.APIGatewayV2HTTPRequest {
	dir := filepath.Join("..", "..", "testdata", "events")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	must(t, err)
	out := map[string]events.APIGatewayV2HTTPRequest{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[ev.RouteKey] = ev
	}
	return out
}

// nextStart returns a free start at branch X (one station, one visit per
// 15-minute cell, Tue–Fri 07:00–15:45).
func (e *env) nextStart() string {
	n := int(e.slot.Add(1)) - 1
	day, cell := n/36, n%36
	if day > 3 {
		panic("authzcheck: out of starts")
	}
	return fmt.Sprintf("2026-12-%02dT%02d:%02d:00+07:00", 1+day, 7+cell/4, (cell%4)*15)
}

// book books a fresh visit of patient at branch X (as admin).
func (e *env) book(t testing.TB, patient string) domain.Appointment {
	t.Helper()
	start, err := time.Parse(time.RFC3339, e.nextStart())
	must(t, err)
	a, err := e.svc.Book(context.Background(), admin, app.BookInput{
		BranchID: e.branchX.ID, ServiceID: e.service.ID, Start: start,
		Patient: domain.Patient{ID: patient, Name: "Somchai Jaidee", Phone: "+66812345678", Locale: "th"},
	})
	must(t, err)
	return a
}

// request is one call: the event parts a route needs, and who owns the object.
type request struct {
	path  map[string]string
	query map[string]string
	body  string
	owner string    // the patient id of patientOwner (patient A when empty)
	at    time.Time // the clock for the call (fixedNow when zero)
}

// freshPatient names a patient nobody used yet, so no per-patient limit
// makes one case depend on another.
func (e *env) freshPatient() string { return fmt.Sprintf("p-%d", e.seq.Add(1)) }

// freshVisit books a new visit of a new patient, for routes that change it.
func (e *env) freshVisit(t testing.TB) request {
	p := e.freshPatient()
	a := e.book(t, p)
	return request{path: map[string]string{"id": a.ID}, owner: p}
}

// builders make each route's request for one case. Every registry route needs one.
func builders(e *env) map[string]func(t testing.TB) request {
	branch := func(t testing.TB) request { return request{path: map[string]string{"branchId": e.branchX.ID}} }
	visitA := func(t testing.TB) request { return request{path: map[string]string{"id": e.apptA.ID}} }
	patient := func(t testing.TB) request { return request{path: map[string]string{"patientId": patientA}} }
	return map[string]func(t testing.TB) request{
		"GET /v1/health": func(testing.TB) request { return request{} },
		"POST /v1/branches": func(testing.TB) request {
			return request{body: `{"name":"New branch","timeZone":"Asia/Bangkok","slotMinutes":15}`}
		},
		"GET /v1/branches":            func(testing.TB) request { return request{} },
		"GET /v1/branches/{branchId}": branch,
		"PUT /v1/branches/{branchId}/hours": func(t testing.TB) request {
			r := branch(t)
			r.body = `{"weekly":[{"day":"mon","open":"07:00","close":"16:00"},{"day":"tue","open":"07:00","close":"16:00"},{"day":"wed","open":"07:00","close":"16:00"},{"day":"thu","open":"07:00","close":"16:00"},{"day":"fri","open":"07:00","close":"16:00"},{"day":"sat","open":"07:00","close":"16:00"}],"closures":[]}`
			return r
		},
		"GET /v1/branches/{branchId}/hours": branch,
		"POST /v1/branches/{branchId}/resources": func(t testing.TB) request {
			r := branch(t)
			r.body = `{"name":"Spare room","type":"room","active":false}`
			return r
		},
		"GET /v1/branches/{branchId}/resources": branch,
		"PATCH /v1/branches/{branchId}/resources/{resourceId}": func(testing.TB) request {
			return request{path: map[string]string{"branchId": e.branchX.ID, "resourceId": e.resource.ID}, body: `{"name":"Station 1"}`}
		},
		"POST /v1/branches/{branchId}/services": func(t testing.TB) request {
			r := branch(t)
			r.body = `{"name":"Spare check-up","durationMinutes":30,"requires":[{"type":"room","count":1}],"minNoticeMinutes":60,"maxAdvanceDays":60,"cancelCutoffMinutes":120}`
			return r
		},
		"GET /v1/branches/{branchId}/services": branch,
		"GET /v1/availability": func(testing.TB) request {
			return request{query: map[string]string{"branchId": e.branchX.ID, "serviceId": e.service.ID, "from": "2026-12-01", "to": "2026-12-01"}}
		},
		"POST /v1/appointments": func(testing.TB) request {
			p := e.freshPatient()
			return request{owner: p, body: fmt.Sprintf(
				`{"branchId":%q,"serviceId":%q,"start":%q,"patient":{"id":%q,"name":"Somchai Jaidee","phone":"+66812345678","locale":"th"}}`,
				e.branchX.ID, e.service.ID, e.nextStart(), p)}
		},
		"GET /v1/appointments/{id}":         visitA,
		"GET /v1/appointments/{id}/history": visitA,
		"GET /v1/appointments": func(testing.TB) request {
			return request{query: map[string]string{"branchId": e.branchX.ID, "date": "2026-12-01"}}
		},
		"POST /v1/appointments/{id}/reschedule": func(t testing.TB) request {
			r := e.freshVisit(t)
			r.body = fmt.Sprintf(`{"start":%q}`, e.nextStart())
			return r
		},
		"POST /v1/appointments/{id}/cancel": func(t testing.TB) request {
			r := e.freshVisit(t)
			r.body = `{"reason":"authz matrix"}`
			return r
		},
		"POST /v1/appointments/{id}/check-in": func(t testing.TB) request { return e.freshVisit(t) },
		"POST /v1/appointments/{id}/complete": func(t testing.TB) request {
			r := e.freshVisit(t)
			_, err := e.svc.Transition(context.Background(), admin, r.path["id"], domain.StatusCheckedIn, "")
			must(t, err)
			return r
		},
		"POST /v1/appointments/{id}/no-show": func(t testing.TB) request {
			r := e.freshVisit(t)
			r.at = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) // after every visit
			return r
		},
		"GET /v1/checkup-campaigns/{campaignId}": func(testing.TB) request {
			return request{path: map[string]string{"campaignId": e.campaign}}
		},
		"GET /v1/appointments/{id}/notifications":               visitA,
		"GET /v1/patients/{patientId}/notification-preferences": patient,
		"PUT /v1/patients/{patientId}/notification-preferences": func(t testing.TB) request {
			r := patient(t)
			r.body = `{"sms":true,"email":false,"push":true}`
			return r
		},
		"PUT /v1/patients/{patientId}/devices/{token}": func(t testing.TB) request {
			r := patient(t)
			r.path["token"] = "fcm-token-0123456789abcdef%3AAPA91b"
			r.body = `{"platform":"fcm"}`
			return r
		},
		"GET /v1/me":            func(testing.TB) request { return request{} },
		"GET /v1/me/dependents": func(testing.TB) request { return request{} },
		"DELETE /v1/patients/{patientId}/devices/{token}": func(t testing.TB) request {
			r := patient(t)
			r.path["token"] = "fcm-token-0123456789abcdef%3AAPA91b"
			return r
		},
	}
}

// claims returns the JWT claims of a role (nil for anonymous).
func (e *env) claims(r role, owner string) map[string]string {
	base := func(groups, sub string) map[string]string {
		return map[string]string{
			"aud": "appointments-api", "iss": "http://127.0.0.1:3000/_local", "token_use": "access",
			"cognito:groups": groups, "sub": sub,
		}
	}
	switch r {
	case patientOwner:
		c := base("[patient]", "u-"+owner)
		c["custom:patient_id"] = owner
		return c
	case patientOther:
		c := base("[patient]", "u-"+patientB)
		c["custom:patient_id"] = patientB
		return c
	case staffOwn:
		c := base("[staff]", "u-staff-x")
		c["custom:branch_ids"] = e.branchX.ID
		return c
	case staffOther:
		c := base("[staff]", "u-staff-y")
		c["custom:branch_ids"] = e.branchY.ID
		return c
	case adminRole:
		return base("[admin]", "u-admin")
	}
	return nil
}

// event builds the payload 2.0 event of a call from the route's testdata event.
func (e *env) event(t testing.TB, key string, r role, req request) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev, found := e.events[key]
	if !found {
		t.Fatalf("no testdata/events event for route %s", key)
	}
	owner := req.owner
	if owner == "" {
		owner = patientA
	}
	ev.PathParameters = req.path
	ev.QueryStringParameters = req.query
	var qs []string
	for k, v := range req.query {
		qs = append(qs, k+"="+v)
	}
	sort.Strings(qs)
	ev.RawQueryString = strings.Join(qs, "&")
	path := e.routes[key].Path
	for k, v := range req.path {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	ev.RawPath, ev.RequestContext.HTTP.Path = path, path
	ev.Body, ev.IsBase64Encoded = req.body, false
	h := map[string]string{}
	for k, v := range ev.Headers {
		h[k] = v
	}
	delete(h, "content-length")
	h["idempotency-key"] = fmt.Sprintf("authz-%d-%d", time.Now().UnixNano(), e.seq.Add(1))
	if c := e.claims(r, owner); c != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c},
		}
	} else {
		ev.RequestContext.Authorizer = nil
		delete(h, "authorization")
	}
	ev.Headers = h
	return ev
}

// call serves one request through the route's real handler.
func (e *env) call(t testing.TB, key string, r role, req request) events.APIGatewayV2HTTPResponse {
	t.Helper()
	if !req.at.IsZero() {
		e.clock.Set(req.at)
		defer e.clock.Set(fixedNow)
	}
	resp, err := e.srv.Handle(e.routes[key])(context.Background(), e.event(t, key, r, req))
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	return resp
}

// TestPolicyCoversRegistry: the table and the registry name the same routes.
func TestPolicyCoversRegistry(t *testing.T) {
	reg := httpapi.Routes(useCases{})
	b := builders(&env{})
	for key := range reg {
		if _, ok := policy[key]; !ok {
			t.Errorf("route %s has no policy in the authorization table (deny by default: add its row)", key)
		}
		if _, ok := b[key]; !ok {
			t.Errorf("route %s has no request builder in the authorization matrix", key)
		}
	}
	for key, row := range policy {
		if _, ok := reg[key]; !ok {
			t.Errorf("policy row %s names no route of the registry", key)
		}
		for _, r := range roles {
			if _, ok := row[r]; !ok {
				t.Errorf("policy row %s has no outcome for role %s", key, r)
			}
		}
	}
	for key := range b {
		if _, ok := reg[key]; !ok {
			t.Errorf("request builder %s names no route of the registry", key)
		}
	}
}

// TestAuthorizationMatrix runs every route against every role.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	b := builders(e)
	keys := make([]string, 0, len(e.routes))
	for k := range e.routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		row, build := policy[key], b[key]
		if row == nil || build == nil {
			t.Errorf("route %s: no policy or request builder (see TestPolicyCoversRegistry)", key)
			continue
		}
		for _, r := range roles {
			t.Run(key+"/"+string(r), func(t *testing.T) {
				resp := e.call(t, key, r, build(t))
				if want := row[r]; resp.StatusCode != want {
					t.Errorf("%s as %s: status %d, want %d; body %s", key, r, resp.StatusCode, want, resp.Body)
				}
			})
		}
	}
}

// TestListByPatientMatrix is GET /v1/appointments?patientId=<patient A>, and
// checks that nobody but the parties sees patient A's visit in the page.
func TestListByPatientMatrix(t *testing.T) {
	e := newEnv(t)
	const key = "GET /v1/appointments"
	for _, r := range roles {
		t.Run(string(r), func(t *testing.T) {
			resp := e.call(t, key, r, request{query: map[string]string{"patientId": patientA}})
			if want := patientListPolicy[r]; resp.StatusCode != want {
				t.Fatalf("as %s: status %d, want %d; body %s", r, resp.StatusCode, want, resp.Body)
			}
			if resp.StatusCode != ok {
				return
			}
			var page struct {
				Items []domain.Appointment `json:"items"`
			}
			must(t, json.Unmarshal([]byte(resp.Body), &page))
			wantSeen := r != staffOther
			seen := false
			for _, a := range page.Items {
				if a.ID == e.apptA.ID {
					seen = true
				}
				if a.Patient.ID != patientA {
					t.Errorf("as %s: page holds another patient's visit %s", r, a.ID)
				}
			}
			if seen != wantSeen {
				t.Errorf("as %s: patient A's visit in the page = %v, want %v", r, seen, wantSeen)
			}
		})
	}
}

// TestObjectLevelOtherBranch: staff of branch Y cannot reach X's objects
// through any {id} route, even with X listed nowhere in their claims, and
// unknown ids answer as hidden ones do (404), so ids cannot be probed.
func TestObjectLevelOtherBranch(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{"GET /v1/appointments/{id}", "GET /v1/appointments/{id}/history", "GET /v1/appointments/{id}/notifications"} {
		for _, r := range []role{patientOther, staffOther} {
			for _, id := range []string{e.apptA.ID, "apt_doesnotexist", "../" + e.apptA.ID} {
				resp := e.call(t, key, r, request{path: map[string]string{"id": id}})
				if resp.StatusCode != notFound {
					t.Errorf("%s id=%s as %s: status %d, want 404; body %s", key, id, r, resp.StatusCode, resp.Body)
				}
			}
		}
	}
	// A resource of branch X addressed under branch Y by staff of Y.
	resp := e.call(t, "PATCH /v1/branches/{branchId}/resources/{resourceId}", staffOther,
		request{path: map[string]string{"branchId": e.branchY.ID, "resourceId": e.resource.ID}, body: `{"name":"hijack"}`})
	if resp.StatusCode != notFound {
		t.Errorf("PATCH X's resource under branch Y as staff of Y: status %d, want 404; body %s", resp.StatusCode, resp.Body)
	}
}
