package localdev

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/labchain/appointments/infra/samtemplate"
)

// The files in <repo>/testdata/events are made by this test from the same
// event builder the gateway uses, so they are exactly what the local API
// Gateway sends (only the token's signature is a placeholder: the key is made
// afresh on every start). Regenerate them after changing a sample or the
// builder:
//
//	go test ./infra/localdev -run TestEventFiles -update-events
var updateEvents = flag.Bool("update-events", false, "rewrite <repo>/testdata/events from the event builder")

const eventsDir = "../../testdata/events"

// Fixed values of the sample events.
var (
	sampleAt     = time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC) // 08:30 in Bangkok
	sampleIssuer = "http://127.0.0.1:3000" + localPrefix
	// The ids are those SeedFixtures creates, so that `make invoke` finds
	// what every event names.
	sampleBranch   = FixtureBranchID
	sampleService  = FixtureServiceID
	sampleResource = FixtureResourceID
	sampleAppt     = FixtureAppointmentID
	samplePatient  = FixturePatientID
)

// eventSample is one request per function of template.yaml.
type eventSample struct {
	method, path, query string
	body                string
	headers             map[string]string
	token               *TokenRequest // nil on public routes
}

func patient() *TokenRequest {
	return &TokenRequest{Role: RolePatient, Sub: "3c1b8f2e-5a47-4d0b-9e61-2f7a9c4d8b10", PatientID: samplePatient}
}

func staff() *TokenRequest {
	return &TokenRequest{Role: RoleStaff, Sub: "8d2e4a6c-1f3b-4c5d-a7e9-0b1c2d3e4f50", BranchIDs: []string{sampleBranch, "br_01jdx7p8s2d5f9g3h6j1k4l7zx"}}
}

func admin() *TokenRequest {
	return &TokenRequest{Role: RoleAdmin, Sub: "f0e1d2c3-b4a5-4697-8877-665544332211"}
}

var jsonBody = map[string]string{"Content-Type": "application/json"}

func withKey(key string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}
}

var eventSamples = map[string]eventSample{
	"health": {method: "GET", path: "/v1/health"},
	"create-branch": {method: "POST", path: "/v1/branches", headers: withKey("2b6f0d4e-9c1a-4e7b-8f3d-5a2c1b0e9d87"), token: admin(),
		body: `{"name":"Sukhumvit 39 branch","timeZone":"Asia/Bangkok","slotMinutes":15}`},
	"list-branches": {method: "GET", path: "/v1/branches", token: patient()},
	"get-branch":    {method: "GET", path: "/v1/branches/" + sampleBranch, token: patient()},
	"put-hours": {method: "PUT", path: "/v1/branches/" + sampleBranch + "/hours", headers: jsonBody, token: admin(),
		body: `{"weekly":[{"day":"mon","open":"07:00","close":"16:00"},{"day":"tue","open":"07:00","close":"16:00"},` +
			`{"day":"wed","open":"07:00","close":"16:00"},{"day":"thu","open":"07:00","close":"16:00"},` +
			`{"day":"fri","open":"07:00","close":"16:00"},{"day":"sat","open":"07:00","close":"12:00"}],` +
			`"closures":[{"date":"2026-12-05","reason":"King Bhumibol Memorial Day"},{"date":"2026-12-10","reason":"Constitution Day"}]}`},
	"get-hours": {method: "GET", path: "/v1/branches/" + sampleBranch + "/hours", token: staff()},
	"create-resource": {method: "POST", path: "/v1/branches/" + sampleBranch + "/resources", headers: withKey("7e3a9b1c-2d4f-4a6b-8c0e-1f2a3b4c5d6e"), token: admin(),
		body: `{"name":"Collection station 3","type":"collection_station"}`},
	"list-resources": {method: "GET", path: "/v1/branches/" + sampleBranch + "/resources", token: staff()},
	"update-resource": {method: "PATCH", path: "/v1/branches/" + sampleBranch + "/resources/" + sampleResource, headers: jsonBody, token: admin(),
		body: `{"active":false}`},
	"create-service": {method: "POST", path: "/v1/branches/" + sampleBranch + "/services", headers: withKey("c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d8e9f"), token: admin(),
		body: `{"name":"Fasting blood draw","durationMinutes":15,"requires":[{"type":"collection_station","count":1}],` +
			`"preparation":{"fastingHours":8,"instructions":{"th":"งดอาหารและเครื่องดื่ม ยกเว้นน้ำเปล่า 8 ชั่วโมงก่อนเจาะเลือด","en":"No food or drinks except water for 8 hours before the draw."}},` +
			`"minNoticeMinutes":60,"maxAdvanceDays":60,"cancelCutoffMinutes":120}`},
	"list-services": {method: "GET", path: "/v1/branches/" + sampleBranch + "/services", token: patient()},
	"get-availability": {method: "GET", path: "/v1/availability", token: patient(),
		query: "branchId=" + sampleBranch + "&serviceId=" + sampleService + "&from=2027-11-29&to=2027-12-04"},
	"book-appointment": {method: "POST", path: "/v1/appointments", headers: withKey("9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"), token: patient(),
		body: `{"branchId":"` + sampleBranch + `","serviceId":"` + sampleService + `","start":"2027-11-29T08:00:00+07:00",` +
			`"patient":{"id":"` + samplePatient + `","name":"Somchai Jaidee","phone":"+66812345678","email":"somchai@example.com","locale":"th"},` +
			`"notes":"First visit; prefers the left arm."}`},
	"list-appointments": {method: "GET", path: "/v1/appointments", token: staff(),
		query: "branchId=" + sampleBranch + "&date=2027-11-29&limit=20"},
	"get-appointment": {method: "GET", path: "/v1/appointments/" + sampleAppt, token: patient()},
	"reschedule-appointment": {method: "POST", path: "/v1/appointments/" + sampleAppt + "/reschedule", headers: withKey("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"), token: patient(),
		body: `{"start":"2027-11-30T09:30:00+07:00"}`},
	"cancel-appointment": {method: "POST", path: "/v1/appointments/" + sampleAppt + "/cancel", headers: withKey("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"), token: patient(),
		body: `{"reason":"Feeling unwell, will book again next week"}`},
	"check-in-appointment": {method: "POST", path: "/v1/appointments/" + sampleAppt + "/check-in", token: staff()},
	"complete-appointment": {method: "POST", path: "/v1/appointments/" + sampleAppt + "/complete", headers: jsonBody, token: staff(),
		body: `{"reason":"Samples sent to the lab"}`},
	"no-show-appointment": {method: "POST", path: "/v1/appointments/" + sampleAppt + "/no-show", headers: jsonBody, token: staff(),
		body: `{"reason":"Did not arrive within 30 minutes of the start"}`},
	"appointment-history":            {method: "GET", path: "/v1/appointments/" + sampleAppt + "/history", token: staff()},
	"get-checkup-campaign":           {method: "GET", path: "/v1/checkup-campaigns/" + FixtureCampaignID, token: staff()},
	"list-appointment-notifications": {method: "GET", path: "/v1/appointments/" + sampleAppt + "/notifications", token: patient()},
	"get-notification-preferences":   {method: "GET", path: "/v1/patients/" + samplePatient + "/notification-preferences", token: patient()},
	"get-me":                         {method: "GET", path: "/v1/me", token: patient()},
	"list-my-dependents":             {method: "GET", path: "/v1/me/dependents", token: patient()},
	"put-notification-preferences": {method: "PUT", path: "/v1/patients/" + samplePatient + "/notification-preferences", headers: jsonBody, token: patient(),
		body: `{"sms":true,"email":false,"push":true}`},
	"register-device": {method: "PUT", path: "/v1/patients/" + samplePatient + "/devices/" + sampleDeviceToken, headers: jsonBody, token: patient(),
		body: `{"platform":"fcm"}`},
	"unregister-device": {method: "DELETE", path: "/v1/patients/" + samplePatient + "/devices/" + sampleDeviceToken, token: patient()},
}

// sampleDeviceToken is an FCM-shaped registration token, percent-encoded as
// a path segment.
const sampleDeviceToken = "cK3v9QxTRmS2fL0pWn8e4Z%3AAPA91bH7x2Lq9Wk4Rz1Vt6Ys3Np8Mc5Jd0Fg"

// sampleEvent builds the event the gateway sends for a sample request.
func sampleEvent(t *testing.T, rt *router, r route, s eventSample) []byte {
	t.Helper()
	target := "http://127.0.0.1:3000" + s.path
	if s.query != "" {
		target += "?" + s.query
	}
	req := httptest.NewRequest(s.method, target, strings.NewReader(s.body))
	req.RemoteAddr = "127.0.0.1:52144"
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "curl/8.5.0")
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	matched, params, ok := rt.match(s.method, req.URL.EscapedPath())
	if !ok || matched.Key() != r.Key() {
		t.Fatalf("sample %s %s routes to %q, want %q", s.method, s.path, matched.Key(), r.Key())
	}
	if r.Auth != (s.token != nil) {
		t.Fatalf("route %s: auth %v, but the sample has token %v", r.Key(), r.Auth, s.token != nil)
	}
	seed := sha256.Sum256([]byte(r.Key()))
	var claims map[string]any
	if s.token != nil {
		a := &authority{issuer: sampleIssuer, audience: defaultAudience, now: func() time.Time { return sampleAt }}
		c, err := a.claimsFor(*s.token)
		if err != nil {
			t.Fatal(err)
		}
		c["jti"] = hex.EncodeToString(seed[:12])
		// Round-trip through JSON as a verified token would be.
		payload, _ := json.Marshal(c)
		head, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "local", "typ": "JWT"})
		if err := decodeSegment(b64(payload), &claims); err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+b64(head)+"."+b64(payload)+".signature-of-a-local-key")
	}
	ev := buildEvent(eventInput{
		req:        req,
		body:       []byte(s.body),
		routeKey:   r.Key(),
		pathParams: params,
		claims:     claims,
		requestID:  base64.StdEncoding.EncodeToString(seed[12:22]),
		traceID:    fmt.Sprintf("Root=1-%08x-%s", sampleAt.Unix(), hex.EncodeToString(seed[20:32])),
		at:         sampleAt,
	})
	data, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// TestEventFiles checks that every route of template.yaml has an event file
// named after its function folder, whose routeKey is the route's, and that the
// file is what the gateway's event builder makes today.
func TestEventFiles(t *testing.T) {
	a, err := loadApp("../../template.yaml", platformParams(nil, sampleIssuer))
	if err != nil {
		t.Fatal(err)
	}
	var plain []samtemplate.Route
	for _, r := range a.routes {
		plain = append(plain, r.Route)
	}
	rt, err := newRouter(plain)
	if err != nil {
		t.Fatal(err)
	}
	perFunction := map[string]int{}
	for _, r := range a.routes {
		perFunction[r.FunctionID]++
	}
	if *updateEvents {
		if err := os.MkdirAll(eventsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range a.routes {
		name := samtemplate.FunctionName(r.FunctionID)
		if perFunction[r.FunctionID] > 1 {
			t.Fatalf("%s has %d routes: name its event files per route and extend this test", r.FunctionID, perFunction[r.FunctionID])
		}
		file := filepath.Join(eventsDir, name+".json")
		s, ok := eventSamples[name]
		if !ok {
			t.Errorf("route %s (%s): no sample request in eventSamples (events_test.go)", r.Key(), r.FunctionID)
			continue
		}
		want := sampleEvent(t, rt, r, s)
		if *updateEvents {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("route %s: %v (go test ./infra/localdev -run TestEventFiles -update-events)", r.Key(), err)
			continue
		}
		var ev httpEvent
		if err := json.Unmarshal(got, &ev); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if ev.Version != "2.0" || ev.RouteKey != r.Key() || ev.RequestContext.RouteKey != r.Key() {
			t.Errorf("%s: version %q routeKey %q, want 2.0 and %q", file, ev.Version, ev.RouteKey, r.Key())
		}
		if r.Auth && (ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT.Claims["cognito:groups"] == "") {
			t.Errorf("%s: a guarded route's event needs jwt claims", file)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the event builder makes: go test ./infra/localdev -run TestEventFiles -update-events", file)
		}
	}
	for name := range eventSamples {
		found := false
		for _, r := range a.routes {
			found = found || samtemplate.FunctionName(r.FunctionID) == name
		}
		if !found {
			t.Errorf("eventSamples has %q, which template.yaml does not define", name)
		}
	}
}

// TestSampleEventsDecode reads every event file with aws-lambda-go's own
// type, the way the functions' handlers receive them.
func TestSampleEventsDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no event files in %s (%v)", eventsDir, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if ev.Version != "2.0" || ev.RouteKey != ev.RequestContext.RouteKey || ev.RequestContext.HTTP.Method == "" ||
			ev.RequestContext.Stage != "$default" || ev.RequestContext.RequestID == "" {
			t.Errorf("%s: %+v", file, ev)
		}
		if ev.Body != "" && !ev.IsBase64Encoded && !json.Valid([]byte(ev.Body)) {
			t.Errorf("%s: body is not JSON: %s", file, ev.Body)
		}
	}
}
