package localdev

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/infra/samtemplate"
)

// Unit tests: no processes, they run with -short too.

func TestRouterPrecedence(t *testing.T) {
	rt, err := newRouter([]samtemplate.Route{
		{Method: "GET", Path: "/v1/items/{id}", FunctionID: "Var"},
		{Method: "GET", Path: "/v1/items/special", FunctionID: "Literal"},
		{Method: "GET", Path: "/v1/items/{id}/parts/{part}", FunctionID: "Nested"},
		{Method: "GET", Path: "/v1/{proxy+}", FunctionID: "Greedy"},
		{Method: "ANY", Path: "/v1/items/{id}", FunctionID: "AnyVar"},
		{Method: "POST", Path: "/v1/items", FunctionID: "Create"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, want string
		params             map[string]string
	}{
		{"GET", "/v1/items/special", "Literal", nil},
		{"GET", "/v1/items/a%2Fb", "Var", map[string]string{"id": "a/b"}},
		{"GET", "/v1/items/7/parts/x", "Nested", map[string]string{"id": "7", "part": "x"}},
		{"GET", "/v1/other/deep/path", "Greedy", map[string]string{"proxy": "other/deep/path"}},
		{"GET", "/v1/items", "Greedy", map[string]string{"proxy": "items"}},
		{"DELETE", "/v1/items/7", "AnyVar", map[string]string{"id": "7"}},
		{"POST", "/v1/items", "Create", nil},
		{"POST", "/v1/nothing", "", nil},
		{"GET", "/v1", "", nil},
		{"GET", "/v2/items/1", "", nil},
	} {
		r, params, ok := rt.match(tc.method, tc.path)
		if tc.want == "" {
			if ok {
				t.Errorf("%s %s matched %s, want no route", tc.method, tc.path, r.FunctionID)
			}
			continue
		}
		if !ok || r.FunctionID != tc.want {
			t.Errorf("%s %s → %q (%v), want %s", tc.method, tc.path, r.FunctionID, ok, tc.want)
			continue
		}
		if len(params) != len(tc.params) {
			t.Errorf("%s %s params %v, want %v", tc.method, tc.path, params, tc.params)
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("%s %s params[%s] = %q, want %q", tc.method, tc.path, k, params[k], v)
			}
		}
	}
	if _, err := newRouter([]samtemplate.Route{{Method: "GET", Path: "/a/{x+}/b", FunctionID: "F"}}); err == nil {
		t.Error("a greedy variable before the last segment must be refused")
	}
	if _, err := newRouter([]samtemplate.Route{{Method: "GET", Path: "/a", FunctionID: "F"}, {Method: "GET", Path: "/a", FunctionID: "G"}}); err == nil {
		t.Error("a route served twice must be refused")
	}
}

func TestClaimRendering(t *testing.T) {
	a, err := newAuthority("http://issuer", "aud-1", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.issue(TokenRequest{Role: RoleStaff, BranchIDs: []string{"b1", "b2"}, Claims: map[string]any{
		"cognito:groups": []string{"staff", "admin"},
		"scope":          "aws.cognito.signin.user.admin openid",
		"email_verified": true,
		"ratio":          1.5,
	}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := a.verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	got := stringClaims(claims)
	for k, want := range map[string]string{
		"cognito:groups":    "[staff admin]",
		"custom:branch_ids": "b1,b2",
		"email_verified":    "true",
		"ratio":             "1.5",
		"aud":               "aud-1",
		"sub":               "local-staff",
	} {
		if got[k] != want {
			t.Errorf("claim %s = %q, want %q", k, got[k], want)
		}
	}
	if !strings.HasPrefix(got["exp"], "1") || strings.ContainsAny(got["exp"], ".e+") {
		t.Errorf("exp = %q, want integer seconds", got["exp"])
	}
	if s := scopesOf(claims); !slices.Equal(s, []string{"aws.cognito.signin.user.admin", "openid"}) {
		t.Errorf("scopes = %q", s)
	}
}

func TestVerifyClock(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a, err := newAuthority("http://issuer", "aud-1", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.issue(TokenRequest{Role: RoleAdmin, ExpiresInSeconds: 60})
	if _, err := a.verify(tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	now = now.Add(60 * time.Second)
	if _, err := a.verify(tok); err != errExpired {
		t.Fatalf("at exp: %v, want errExpired", err)
	}
	if _, err := a.issue(TokenRequest{Role: "root"}); err == nil {
		t.Fatal("unknown role accepted")
	}
}

func TestIsTextContent(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"text/plain":                        true,
		"text/csv; charset=utf-8":           true,
		"application/xml":                   true,
		"application/javascript":            true,
		"":                                  false,
		"application/octet-stream":          false,
		"application/x-www-form-urlencoded": false,
		"image/png":                         false,
		"multipart/form-data; boundary=x":   false,
	} {
		if got := isTextContent(ct); got != want {
			t.Errorf("isTextContent(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		inv  invocation
		want outcome
	}{
		{invocation{200, []byte(`{"statusCode":200,"body":"x"}`)}, succeeded},
		{invocation{200, []byte(`{"hello":"world"}`)}, succeeded},
		{invocation{200, []byte(`"text"`)}, succeeded},
		{invocation{200, []byte(`{"errorMessage":"boom","errorType":"errorString"}`)}, functionError},
		{invocation{502, []byte(`{"errorMessage":"panic","errorType":"string"}`)}, functionError},
		{invocation{200, []byte(`Task timed out after 10.00 seconds`)}, timedOut},
	} {
		if got := classify(tc.inv); got != tc.want {
			t.Errorf("classify(%d %s) = %v, want %v", tc.inv.status, tc.inv.body, got, tc.want)
		}
	}
}

func TestWriteLambdaResponse(t *testing.T) {
	noop := func(http.Header) {}
	for _, tc := range []struct {
		name    string
		payload string
		status  int
		body    string
		ctype   string
		wantErr bool
	}{
		{"response object", `{"statusCode":404,"headers":{"content-type":"application/json"},"body":"{\"error\":1}"}`, 404, `{"error":1}`, "application/json", false},
		{"no content type", `{"statusCode":204}`, 204, "", "", false},
		{"base64", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, 200, "hi", "", false},
		{"plain JSON object", `{"a":1}`, 200, `{"a":1}`, "application/json", false},
		{"JSON string", `"hello"`, 200, `"hello"`, "application/json", false},
		{"bad status", `{"statusCode":1000}`, 0, "", "", true},
		{"body not a string", `{"statusCode":200,"body":{"a":1}}`, 0, "", "", true},
		{"not JSON", `oops`, 0, "", "", true},
	} {
		rec := httptest.NewRecorder()
		err := writeLambdaResponse(rec, []byte(tc.payload), noop)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if rec.Code != tc.status || rec.Body.String() != tc.body || rec.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q %q, want %d %q %q", tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.status, tc.ctype, tc.body)
		}
	}
}

func TestBuildEventOmissions(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:3000/v1/health", nil)
	ev := buildEvent(eventInput{req: r, routeKey: "GET /v1/health", requestID: "id", traceID: "Root=1-0-0", at: time.Unix(0, 0)})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"cookies"`, `"queryStringParameters"`, `"pathParameters"`, `"body"`, `"authorizer"`} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("event has %s: %s", absent, b)
		}
	}
	if ev.RequestContext.Time != "01/Jan/1970:00:00:00 +0000" {
		t.Errorf("time = %q", ev.RequestContext.Time)
	}
}

func TestTemplateModel(t *testing.T) {
	a, err := loadApp("testdata/template.yaml", platformParams(nil, "http://issuer"))
	if err != nil {
		t.Fatal(err)
	}
	if a.audience != "echo-api" {
		t.Errorf("audience = %q", a.audience)
	}
	guarded := map[string]bool{}
	for _, r := range a.routes {
		guarded[r.Key()] = r.Auth
	}
	if guarded["GET /v1/public"] || !guarded["GET /v1/echo/{id}"] || !guarded["ANY /v1/any"] {
		t.Errorf("auth = %v", guarded)
	}
	if a.cors == nil || !slices.Equal(a.cors.origins, []string{"http://localhost:5173", "https://portal.example.com"}) {
		t.Errorf("cors = %+v", a.cors)
	}
	f, err := a.function("echo")
	if err != nil {
		t.Fatal(err)
	}
	if fs, err := a.selectFunctions([]string{"EchoFunction", "functions/echo"}); err != nil || len(fs) != 2 {
		t.Errorf("selectFunctions = %v, %v", fs, err)
	}
	if _, err := a.selectFunctions([]string{"nope"}); err == nil {
		t.Error("an unknown function must be an error")
	}
	s, err := a.settings(f, "http://ddb", "/task", map[string]string{"EXTRA": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if s.timeout != 2*time.Second || s.memory != 128 || s.env["TABLE_ARN"] != "arn:aws:dynamodb:ap-southeast-1:000000000000:table/EchoTable" ||
		s.env["EXTRA"] != "1" || s.env["ENVIRONMENT"] != "local" {
		t.Errorf("settings = %+v", s)
	}

	// The repository's template: every route but the health check is guarded.
	repo, err := loadApp("../../template.yaml", platformParams(nil, "http://issuer"))
	if err != nil {
		t.Fatal(err)
	}
	withRoutes := 0
	for _, f := range repo.funcs {
		if len(f.Routes()) > 0 {
			withRoutes++
		}
	}
	if repo.audience != "appointments-api" || len(repo.routes) != withRoutes {
		t.Errorf("audience %q, %d routes for %d functions with an HttpApi event", repo.audience, len(repo.routes), withRoutes)
	}
	if _, err := repo.queueSpecs(); err != nil {
		t.Error(err)
	}
	if _, err := repo.eventSources(repo.funcs, time.Now()); err != nil {
		t.Error(err)
	}
	for _, r := range repo.routes {
		if r.Auth == (r.Key() == "GET /v1/health") {
			t.Errorf("route %s: auth = %v", r.Key(), r.Auth)
		}
	}
	for _, f := range repo.funcs {
		if _, err := repo.settings(f, "http://ddb", "/task", nil); err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
		}
	}
}
