package httpapi

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// adminEvent is a payload 2.0 request for rt by an admin, built on a real
// event shape.
func adminEvent(t *testing.T, rt Route, pathParams, query map[string]string, body string) events.APIGatewayV2HTTPRequest {
	ev := loadEvent(t, "apigw-v2-list-appointments.json")
	ev = withClaims(ev, map[string]string{"sub": "admin-1", "cognito:groups": "[admin]"})
	ev.RouteKey, ev.RequestContext.RouteKey = rt.Key(), rt.Key()
	path := rt.Path
	for k, v := range pathParams {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = path, path, rt.Method
	ev.PathParameters, ev.QueryStringParameters = pathParams, query
	ev.Body = body
	return ev
}

func TestRoutesCallTheirUseCase(t *testing.T) {
	start := time.Date(2025, 3, 10, 10, 30, 0, 0, time.FixedZone("", 7*3600))
	active, name := false, "Station 2"
	tests := []struct {
		route  func(UseCases) Route
		path   map[string]string
		query  map[string]string
		body   string
		status int
		method string
		args   []any
		shape  string // regexp the body must match
	}{
		{CreateBranch, nil, nil, `{"name":"Silom","timeZone":"Asia/Bangkok","slotMinutes":15}`, 201,
			"CreateBranch", []any{domain.Branch{Name: "Silom", TimeZone: "Asia/Bangkok", SlotMinutes: 15}}, `^\{"id":"br_new"`},
		{ListBranches, nil, nil, "", 200, "ListBranches", nil, `^\{"items":\[\]\}$`},
		{GetBranch, map[string]string{"branchId": "br_1"}, nil, "", 200, "GetBranch", []any{"br_1"}, `"id":"br_1"`},
		{PutHours, map[string]string{"branchId": "br_1"}, nil, `{"weekly":[{"day":"mon","open":"08:00","close":"16:00"}],"closures":[]}`, 200,
			"PutHours", []any{"br_1", domain.Hours{Weekly: []domain.DayHours{{Day: "mon", Open: "08:00", Close: "16:00"}}, Closures: []domain.Closure{}}}, `"weekly":\[\{"day":"mon"`},
		{GetHours, map[string]string{"branchId": "br_1"}, nil, "", 200, "GetHours", []any{"br_1"}, `^\{"weekly":\[\],"closures":\[\]\}$`},
		{CreateResource, map[string]string{"branchId": "br_1"}, nil, `{"name":"Station 1","type":"collection_station"}`, 201,
			"CreateResource", []any{"br_1", domain.Resource{BranchID: "br_1", Name: "Station 1", Type: "collection_station", Active: true}}, `"active":true`},
		{ListResources, map[string]string{"branchId": "br_1"}, nil, "", 200, "ListResources", []any{"br_1"}, `^\{"items":\[\]\}$`},
		{UpdateResource, map[string]string{"branchId": "br_1", "resourceId": "res_2"}, nil, `{"name":"Station 2","active":false}`, 200,
			"UpdateResource", []any{"br_1", "res_2", app.ResourcePatch{Name: &name, Active: &active}}, `"id":"res_2"`},
		{CreateService, map[string]string{"branchId": "br_1"}, nil,
			`{"name":"CBC","durationMinutes":15,"requires":[{"type":"collection_station","count":1}],"preparation":{"fastingHours":8,"instructions":{"th":"งดอาหาร"}},"minNoticeMinutes":60,"maxAdvanceDays":30,"cancelCutoffMinutes":120}`, 201,
			"CreateService", []any{"br_1", domain.Service{BranchID: "br_1", Name: "CBC", DurationMinutes: 15,
				Requires: []domain.Requirement{{Type: "collection_station", Count: 1}}, Preparation: domain.Preparation{FastingHours: 8, Instructions: map[string]string{"th": "งดอาหาร"}},
				MinNoticeMinutes: 60, MaxAdvanceDays: 30, CancelCutoffMinutes: 120}}, `"name":"CBC"`},
		{ListServices, map[string]string{"branchId": "br_1"}, nil, "", 200, "ListServices", []any{"br_1"}, `^\{"items":\[\]\}$`},
		{GetAvailability, nil, map[string]string{"branchId": "br_1", "serviceId": "svc_1", "from": "2025-03-10", "to": "2025-03-11"}, "", 200,
			"Availability", []any{app.AvailabilityQuery{BranchID: "br_1", ServiceID: "svc_1", From: "2025-03-10", To: "2025-03-11"}}, `^\{"slots":\[\]\}$`},
		{GetAppointment, map[string]string{"id": "apt_9"}, nil, "", 200, "GetAppointment", []any{"apt_9"}, `"id":"apt_9"`},
		{ListAppointments, nil, map[string]string{"patientId": "pat_1", "cursor": "c1", "limit": "10"}, "", 200,
			"ListAppointments", []any{app.ListQuery{PatientID: "pat_1", Limit: 10, Cursor: "c1"}}, `^\{"items":\[\],"nextCursor":null\}$`},
		{RescheduleAppointment, map[string]string{"id": "apt_9"}, nil, `{"start":"2025-03-10T10:30:00+07:00"}`, 200,
			"Reschedule", []any{"apt_9", start}, `"id":"apt_9"`},
		{CancelAppointment, map[string]string{"id": "apt_9"}, nil, "", 200, "Cancel", []any{"apt_9", ""}, `"status":"booked"`},
		{CheckIn, map[string]string{"id": "apt_9"}, nil, "", 200, "Transition", []any{"apt_9", domain.StatusCheckedIn, ""}, `"id":"apt_9"`},
		{Complete, map[string]string{"id": "apt_9"}, nil, `{"reason":"done"}`, 200, "Transition", []any{"apt_9", domain.StatusCompleted, "done"}, `"id":"apt_9"`},
		{NoShow, map[string]string{"id": "apt_9"}, nil, `{}`, 200, "Transition", []any{"apt_9", domain.StatusNoShow, ""}, `"id":"apt_9"`},
		{AppointmentHistory, map[string]string{"id": "apt_9"}, nil, "", 200, "History", []any{"apt_9"}, `^\{"items":\[\]\}$`},
	}
	for _, tt := range tests {
		h := newHarness()
		rt := tt.route(h.svc)
		t.Run(rt.Name, func(t *testing.T) {
			resp := h.serve(t, rt, adminEvent(t, rt, tt.path, tt.query, tt.body))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if len(h.svc.calls) != 1 {
				t.Fatalf("%d use-case calls, want exactly 1", len(h.svc.calls))
			}
			c := h.svc.last()
			if c.method != tt.method || c.actor.ID != "admin-1" || c.actor.Role != domain.RoleAdmin {
				t.Errorf("called %s as %+v, want %s as admin-1", c.method, c.actor, tt.method)
			}
			if !reflect.DeepEqual(c.args, tt.args) {
				t.Errorf("args = %#v\nwant   %#v", c.args, tt.args)
			}
			if !regexp.MustCompile(tt.shape).MatchString(resp.Body) {
				t.Errorf("body %s does not match %s", resp.Body, tt.shape)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	routes := Routes(&fakeSvc{})
	want := []string{
		"GET /v1/health",
		"POST /v1/branches", "GET /v1/branches", "GET /v1/branches/{branchId}",
		"PUT /v1/branches/{branchId}/hours", "GET /v1/branches/{branchId}/hours",
		"POST /v1/branches/{branchId}/resources", "GET /v1/branches/{branchId}/resources",
		"PATCH /v1/branches/{branchId}/resources/{resourceId}",
		"POST /v1/branches/{branchId}/services", "GET /v1/branches/{branchId}/services",
		"GET /v1/availability",
		"POST /v1/appointments", "GET /v1/appointments", "GET /v1/appointments/{id}",
		"POST /v1/appointments/{id}/reschedule", "POST /v1/appointments/{id}/cancel",
		"POST /v1/appointments/{id}/check-in", "POST /v1/appointments/{id}/complete",
		"POST /v1/appointments/{id}/no-show", "GET /v1/appointments/{id}/history",
		"GET /v1/checkup-campaigns/{campaignId}",
		"GET /v1/appointments/{id}/notifications",
		"GET /v1/patients/{patientId}/notification-preferences", "PUT /v1/patients/{patientId}/notification-preferences",
		"GET /v1/me", "GET /v1/me/dependents",
		"PUT /v1/patients/{patientId}/devices/{token}", "DELETE /v1/patients/{patientId}/devices/{token}",
	}
	var got []string
	names := map[string]bool{}
	for k, r := range routes {
		got = append(got, k)
		if k != r.Key() {
			t.Errorf("registry key %q holds route %q", k, r.Key())
		}
		if names[r.Name] {
			t.Errorf("route name %s is used twice; idempotency keys would collide", r.Name)
		}
		names[r.Name] = true
		if r.Public != (r.Name == "Health") {
			t.Errorf("%s: Public = %v; only Health is public", r.Name, r.Public)
		}
		wantIdem := IdemOptional
		switch {
		case r.Name == "BookAppointment":
			wantIdem = IdemRequired
		case r.Method == "GET" || r.Method == "PUT" || r.Method == "PATCH" || r.Method == "DELETE":
			wantIdem = IdemNone
		}
		if r.Idempotency != wantIdem {
			t.Errorf("%s: idempotency mode %d, want %d", r.Name, r.Idempotency, wantIdem)
		}
		// Every path parameter the route reads is in its path template.
		for _, p := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(r.Path, -1) {
			switch p[1] {
			case "branchId", "resourceId", "id", "campaignId", "patientId", "token":
			default:
				t.Errorf("%s: unexpected path parameter %s", r.Name, p[1])
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %v\nwant %v", got, want)
	}
	statuses := map[string]int{"BookAppointment": 201, "CreateBranch": 201, "CreateResource": 201, "CreateService": 201}
	for _, r := range routes {
		if want := statuses[r.Name]; want != 0 && r.SuccessStatus != want {
			t.Errorf("%s: success status %d, want %d", r.Name, r.SuccessStatus, want)
		}
	}
}

func TestQueryValidation(t *testing.T) {
	tests := []struct {
		route func(UseCases) Route
		query map[string]string
		msg   string
	}{
		{GetAvailability, map[string]string{"branchId": "b", "serviceId": "s"}, "from, to"},
		{GetAvailability, nil, "branchId, serviceId, from, to"},
		{ListAppointments, nil, "branchId and date, or patientId"},
		{ListAppointments, map[string]string{"branchId": "b"}, "go together"},
		{ListAppointments, map[string]string{"branchId": "b", "date": "2025-03-10", "patientId": "p"}, "either"},
		{ListAppointments, map[string]string{"patientId": "p", "limit": "0"}, "limit"},
		{ListAppointments, map[string]string{"patientId": "p", "limit": "101"}, "limit"},
		{ListAppointments, map[string]string{"patientId": "p", "limit": "ten"}, "limit"},
		{ListAppointments, map[string]string{"patientId": "p", "limit": ""}, "limit"},
	}
	for _, tt := range tests {
		h := newHarness()
		rt := tt.route(h.svc)
		resp := h.serve(t, rt, adminEvent(t, rt, nil, tt.query, ""))
		d := expectError(t, resp, 400, "VALIDATION_FAILED")
		if !strings.Contains(d.Message, tt.msg) {
			t.Errorf("%s %v: message %q lacks %q", rt.Name, tt.query, d.Message, tt.msg)
		}
		if len(h.svc.calls) != 0 {
			t.Errorf("%s %v reached the use case", rt.Name, tt.query)
		}
	}
}

func TestListAppointmentsFromRealPayload(t *testing.T) {
	h := newHarness()
	h.svc.list = app.Page[domain.Appointment]{Items: []domain.Appointment{fixtureAppointment("apt_1")}, Cursor: "next-page"}
	resp := h.serve(t, ListAppointments(h.svc), loadEvent(t, "apigw-v2-list-appointments.json"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	c := h.svc.last()
	if q := c.args[0].(app.ListQuery); q != (app.ListQuery{BranchID: "br_01", Date: "2025-03-10", Limit: 20}) {
		t.Errorf("query = %+v", q)
	}
	if c.actor.Role != domain.RoleStaff || !reflect.DeepEqual(c.actor.BranchIDs, []string{"br_01"}) {
		t.Errorf("actor = %+v", c.actor)
	}
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"nextCursor"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || len(page.Items) != 1 || page.NextCursor == nil || *page.NextCursor != "next-page" {
		t.Errorf("page = %s (%v)", resp.Body, err)
	}
	if _, leaked := page.Items[0]["Cells"]; leaked {
		t.Error("internal cells leaked into the API")
	}
	// Default limit.
	h2 := newHarness()
	ev := loadEvent(t, "apigw-v2-list-appointments.json")
	delete(ev.QueryStringParameters, "limit")
	h2.serve(t, ListAppointments(h2.svc), ev)
	if q := h2.svc.last().args[0].(app.ListQuery); q.Limit != DefaultListLimit {
		t.Errorf("default limit = %d", q.Limit)
	}
}

func TestReasonLimit(t *testing.T) {
	h := newHarness()
	rt := CancelAppointment(h.svc)
	ok := `{"reason":"` + strings.Repeat("ก", 500) + `"}` // 500 Thai characters, 1500 bytes
	h.srv.cfg.MaxBodyBytes = 4096
	if resp := h.serve(t, rt, adminEvent(t, rt, map[string]string{"id": "a"}, nil, ok)); resp.StatusCode != 200 {
		t.Errorf("500 characters: %d %s", resp.StatusCode, resp.Body)
	}
	long := `{"reason":"` + strings.Repeat("x", 501) + `"}`
	d := expectError(t, h.serve(t, rt, adminEvent(t, rt, map[string]string{"id": "a"}, nil, long)), 400, "VALIDATION_FAILED")
	if !strings.Contains(d.Message, "500") {
		t.Errorf("message %q", d.Message)
	}
	expectError(t, h.serve(t, rt, adminEvent(t, rt, map[string]string{"id": "a"}, nil, `{"reason":1}`)), 400, "VALIDATION_FAILED")
}

func TestMissingPathParameterIs400(t *testing.T) {
	h := newHarness()
	rt := GetAppointment(h.svc)
	d := expectError(t, h.serve(t, rt, adminEvent(t, rt, nil, nil, "")), 400, "VALIDATION_FAILED")
	if !strings.Contains(d.Message, `"id"`) {
		t.Errorf("message %q", d.Message)
	}
}

func TestRescheduleNeedsAnOffset(t *testing.T) {
	h := newHarness()
	rt := RescheduleAppointment(h.svc)
	ev := adminEvent(t, rt, map[string]string{"id": "a"}, nil, `{"start":"2025-03-10T10:30:00"}`)
	expectError(t, h.serve(t, rt, ev), 400, "VALIDATION_FAILED")
}

func TestCORS(t *testing.T) {
	h := newHarness()
	resp := h.serve(t, BookAppointment(h.svc), bookEvent(t)) // origin https://portal.example.com
	if resp.Headers["Access-Control-Allow-Origin"] != "https://portal.example.com" || resp.Headers["Vary"] != "Origin" {
		t.Errorf("headers for an allowed origin = %v", resp.Headers)
	}
	if !strings.Contains(resp.Headers["Access-Control-Expose-Headers"], HeaderIdempotentReplayed) {
		t.Errorf("the replay header is not exposed: %v", resp.Headers)
	}
	// Error answers carry CORS headers too, or the browser hides them.
	bad := withHeader(bookEvent(t), "idempotency-key", "")
	if resp := h.serve(t, BookAppointment(h.svc), bad); resp.Headers["Access-Control-Allow-Origin"] == "" {
		t.Error("an error answer lacks CORS headers")
	}
	for _, origin := range []string{"https://evil.example.com", ""} {
		ev := withHeader(bookEvent(t), "origin", origin)
		ev = withHeader(ev, "idempotency-key", "k-"+origin)
		resp := h.serve(t, BookAppointment(h.svc), ev)
		for k := range resp.Headers {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("origin %q got %s", origin, k)
			}
		}
	}
}
