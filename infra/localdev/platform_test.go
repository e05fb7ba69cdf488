package localdev

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/infra/dynamolocal"
)

func TestPayloadV2Event(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RoleStaff, Sub: "staff-7", BranchIDs: []string{"b-1", "b-2"}})
	binary := []byte{0x00, 0x01, 0xfe, 0xff, 'h', 'i'}
	req, err := http.NewRequest(http.MethodPost, p.URL()+"/v1/echo/lab%20A?x=1&x=2&name=som%20chai&empty=", bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("User-Agent", "localdev-test/1.0")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Add("Cookie", "session=abc; theme=dark")
	req.Header.Add("Cookie", "lang=th")
	begin := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, buf.String())
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid response header")
	}
	r := decodeEcho(t, buf.Bytes())
	ev := r.Event

	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("version", ev.Version, "2.0")
	check("routeKey", ev.RouteKey, "POST /v1/echo/{id}")
	check("rawPath", ev.RawPath, "/v1/echo/lab%20A")
	check("rawQueryString", ev.RawQueryString, "x=1&x=2&name=som%20chai&empty=")
	check("pathParameters.id", ev.PathParameters["id"], "lab A")
	check("query x", ev.QueryStringParameters["x"], "1,2")
	check("query name", ev.QueryStringParameters["name"], "som chai")
	if v, ok := ev.QueryStringParameters["empty"]; !ok || v != "" {
		t.Errorf("query empty = %q, %v", v, ok)
	}
	check("header x-multi", ev.Headers["x-multi"], "one,two")
	check("header content-type", ev.Headers["content-type"], "application/octet-stream")
	check("header user-agent", ev.Headers["user-agent"], "localdev-test/1.0")
	check("header host", ev.Headers["host"], strings.TrimPrefix(p.URL(), "http://"))
	check("header x-forwarded-for", ev.Headers["x-forwarded-for"], "127.0.0.1")
	check("header x-forwarded-proto", ev.Headers["x-forwarded-proto"], "http")
	check("header content-length", ev.Headers["content-length"], strconv.Itoa(len(binary)))
	if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("x-amzn-trace-id = %q", ev.Headers["x-amzn-trace-id"])
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("the cookie header must move to the cookies field")
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case", name)
		}
	}
	if !slices.Equal(ev.Cookies, []string{"session=abc", "theme=dark", "lang=th"}) {
		t.Errorf("cookies = %q", ev.Cookies)
	}
	if !ev.IsBase64Encoded {
		t.Error("binary body: isBase64Encoded = false")
	}
	if got, _ := base64.StdEncoding.DecodeString(ev.Body); !bytes.Equal(got, binary) {
		t.Errorf("body = %q, want base64 of %v", ev.Body, binary)
	}

	rc := ev.RequestContext
	check("accountId", rc.AccountID, AccountID)
	check("apiId", rc.APIID, APIID)
	check("stage", rc.Stage, "$default")
	check("requestContext.routeKey", rc.RouteKey, "POST /v1/echo/{id}")
	check("http.method", rc.HTTP.Method, "POST")
	check("http.path", rc.HTTP.Path, "/v1/echo/lab%20A")
	check("http.protocol", rc.HTTP.Protocol, "HTTP/1.1")
	check("http.sourceIp", rc.HTTP.SourceIP, "127.0.0.1")
	check("http.userAgent", rc.HTTP.UserAgent, "localdev-test/1.0")
	check("domainName", rc.DomainName, strings.TrimPrefix(p.URL(), "http://"))
	check("domainPrefix", rc.DomainPrefix, "127")
	check("requestId", rc.RequestID, resp.Header.Get("Apigw-Requestid"))
	if at, err := time.Parse(apiGatewayTime, rc.Time); err != nil || at.Before(begin.Add(-2*time.Second)) {
		t.Errorf("time = %q (%v)", rc.Time, err)
	}
	if d := time.UnixMilli(rc.TimeEpoch).Sub(begin); d < -time.Second || d > 10*time.Second {
		t.Errorf("timeEpoch = %d, %v from the request", rc.TimeEpoch, d)
	}
	if rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		t.Fatalf("no jwt authorizer context: %+v", rc)
	}
	claims := rc.Authorizer.JWT.Claims
	check("claim sub", claims["sub"], "staff-7")
	check("claim cognito:groups", claims["cognito:groups"], "[staff]")
	check("claim custom:branch_ids", claims["custom:branch_ids"], "b-1,b-2")
	check("claim iss", claims["iss"], p.Issuer())
	check("claim aud", claims["aud"], "echo-api")
	check("claim token_use", claims["token_use"], "access")
	if exp, err := strconv.ParseInt(claims["exp"], 10, 64); err != nil || exp < time.Now().Unix() {
		t.Errorf("claim exp = %q", claims["exp"])
	}
	if _, ok := claims["custom:patient_id"]; ok {
		t.Error("a staff token has no custom:patient_id")
	}

	// The function's environment: template (Globals + own, resolved with
	// Environment=local), the Lambda variables, a host OTEL_* variable.
	env := r.Env
	check("ENVIRONMENT", env["ENVIRONMENT"], "local")
	check("TABLE_NAME", env["TABLE_NAME"], "EchoTable")
	check("LOG_LEVEL", env["LOG_LEVEL"], "info")
	check("OTEL_SERVICE_NAME", env["OTEL_SERVICE_NAME"], "echo-service")
	check("OTEL_TRACES_SAMPLER", env["OTEL_TRACES_SAMPLER"], "always_on")
	check("AWS_ENDPOINT_URL_DYNAMODB", env["AWS_ENDPOINT_URL_DYNAMODB"], p.DynamoEndpoint())
	check("AWS_REGION", env["AWS_REGION"], "ap-southeast-1")
	check("AWS_ACCESS_KEY_ID", env["AWS_ACCESS_KEY_ID"], "local")
	check("AWS_SECRET_ACCESS_KEY", env["AWS_SECRET_ACCESS_KEY"], "local")
	check("AWS_LAMBDA_FUNCTION_NAME", env["AWS_LAMBDA_FUNCTION_NAME"], "EchoFunction")
	check("AWS_LAMBDA_FUNCTION_TIMEOUT", env["AWS_LAMBDA_FUNCTION_TIMEOUT"], "2")
	check("AWS_LAMBDA_LOG_FORMAT", env["AWS_LAMBDA_LOG_FORMAT"], "JSON")
	check("TZ", env["TZ"], ":UTC")
	if v, ok := env["OTEL_EXPORTER_OTLP_ENDPOINT"]; ok {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT = %q: AWS::NoValue must drop it", v)
	}
	if v, ok := env["HOME"]; ok {
		t.Errorf("HOME = %q leaks into the function", v)
	}
}

func TestTextBodyAndPatientClaims(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RolePatient, PatientID: "p-42"})
	body := `{"start":"2026-12-01T08:00:00+07:00","note":"สวัสดี"}`
	resp, data := call(t, http.MethodPost, p.URL()+"/v1/echo/x", token, strings.NewReader(body),
		map[string]string{"Content-Type": "application/json; charset=utf-8"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	ev := decodeEcho(t, data).Event
	if ev.IsBase64Encoded || ev.Body != body {
		t.Errorf("JSON body: isBase64Encoded=%v body=%q", ev.IsBase64Encoded, ev.Body)
	}
	if ev.Cookies != nil || ev.QueryStringParameters != nil {
		t.Errorf("cookies %v, query %v: want absent", ev.Cookies, ev.QueryStringParameters)
	}
	claims := ev.RequestContext.Authorizer.JWT.Claims
	if claims["custom:patient_id"] != "p-42" || claims["cognito:groups"] != "[patient]" || claims["sub"] != "local-patient-p-42" {
		t.Errorf("claims = %v", claims)
	}
	if _, ok := claims["custom:branch_ids"]; ok {
		t.Error("no branchIds: custom:branch_ids must be absent")
	}
}

func TestRouteSelection(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	for _, tc := range []struct {
		method, path, routeKey string
		params                 map[string]string
	}{
		{http.MethodGet, "/v1/echo/special", "GET /v1/echo/special", nil},
		{http.MethodGet, "/v1/echo/other", "GET /v1/echo/{id}", map[string]string{"id": "other"}},
		{http.MethodGet, "/v1/files/reports/2026/result.pdf", "GET /v1/files/{path+}", map[string]string{"path": "reports/2026/result.pdf"}},
		{http.MethodDelete, "/v1/any", "ANY /v1/any", nil},
		{http.MethodGet, "/v1/any", "ANY /v1/any", nil},
	} {
		resp, data := call(t, tc.method, p.URL()+tc.path, token, nil, nil)
		if resp.StatusCode/100 != 2 {
			t.Errorf("%s %s: status %d: %s", tc.method, tc.path, resp.StatusCode, data)
			continue
		}
		ev := decodeEcho(t, data).Event
		if ev.RouteKey != tc.routeKey {
			t.Errorf("%s %s: routeKey %q, want %q", tc.method, tc.path, ev.RouteKey, tc.routeKey)
		}
		if len(tc.params) != len(ev.PathParameters) {
			t.Errorf("%s %s: pathParameters %v, want %v", tc.method, tc.path, ev.PathParameters, tc.params)
		}
		for k, v := range tc.params {
			if ev.PathParameters[k] != v {
				t.Errorf("%s %s: pathParameters[%s] = %q, want %q", tc.method, tc.path, k, ev.PathParameters[k], v)
			}
		}
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	for _, tc := range []struct{ method, path, token string }{
		{http.MethodGet, "/v1/nope", token},
		{http.MethodGet, "/v1/nope", ""}, // routing comes before the authorizer
		{http.MethodDelete, "/v1/echo/x", token},
		{http.MethodGet, "/v1/files/", token}, // a greedy variable needs a segment
		{http.MethodGet, "/", token},
	} {
		resp, data := call(t, tc.method, p.URL()+tc.path, tc.token, nil, nil)
		if resp.StatusCode != http.StatusNotFound || string(data) != `{"message":"Not Found"}` {
			t.Errorf("%s %s: %d %s, want 404 {\"message\":\"Not Found\"}", tc.method, tc.path, resp.StatusCode, data)
		}
	}
}

func TestAuthorizerRefusals(t *testing.T) {
	p := shared(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good, err := p.authority.claimsFor(TokenRequest{Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signRS256(otherKey, p.authority.kid, good)
	if err != nil {
		t.Fatal(err)
	}
	valid := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	parts := strings.Split(valid, ".")
	noneAlg := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + b64([]byte(`{"sub":"x","cognito:groups":["admin"],"iss":"`+p.Issuer()+`","aud":"echo-api","exp":9999999999}`)) + "." + parts[2]

	for name, header := range map[string]string{
		"missing":          "",
		"expired":          "Bearer " + mustToken(t, p, TokenRequest{Role: RoleAdmin, ExpiresInSeconds: -60}),
		"wrong signature":  "Bearer " + forged,
		"tampered payload": "Bearer " + tampered,
		"wrong audience":   "Bearer " + mustToken(t, p, TokenRequest{Role: RoleAdmin, Claims: map[string]any{"aud": "someone-else", "client_id": "someone-else"}}),
		"wrong issuer":     "Bearer " + mustToken(t, p, TokenRequest{Role: RoleAdmin, Claims: map[string]any{"iss": "https://evil.example"}}),
		"not yet valid":    "Bearer " + mustToken(t, p, TokenRequest{Role: RoleAdmin, Claims: map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}}),
		"alg none":         "Bearer " + noneAlg,
		"garbage":          "Bearer not-a-jwt",
	} {
		t.Run(name, func(t *testing.T) {
			headers := map[string]string{}
			if header != "" {
				headers["Authorization"] = header
			}
			resp, data := call(t, http.MethodGet, p.URL()+"/v1/echo/x", "", nil, headers)
			if resp.StatusCode != http.StatusUnauthorized || string(data) != `{"message":"Unauthorized"}` {
				t.Fatalf("%d %s, want 401 {\"message\":\"Unauthorized\"}", resp.StatusCode, data)
			}
			if resp.Header.Get("Www-Authenticate") == "" {
				t.Error("no www-authenticate header")
			}
		})
	}
	// The same route with a good token, and with the audience given as a list.
	listAud := mustToken(t, p, TokenRequest{Role: RoleAdmin, Claims: map[string]any{"aud": []string{"other", "echo-api"}}})
	for _, tok := range []string{valid, listAud} {
		if resp, data := call(t, http.MethodGet, p.URL()+"/v1/echo/x", tok, nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("valid token: %d %s", resp.StatusCode, data)
		}
	}
}

func TestPublicRouteNeedsNoToken(t *testing.T) {
	p := shared(t)
	resp, data := call(t, http.MethodGet, p.URL()+"/v1/public?lang=th", "", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	ev := decodeEcho(t, data).Event
	if ev.RequestContext.Authorizer != nil {
		t.Errorf("public route: authorizer = %+v, want none", ev.RequestContext.Authorizer)
	}
	if ev.RouteKey != "GET /v1/public" || ev.QueryStringParameters["lang"] != "th" {
		t.Errorf("event = %+v", ev)
	}
	// A token on a public route is not checked (nor passed on as claims).
	resp, data = call(t, http.MethodGet, p.URL()+"/v1/public", "garbage", nil, nil)
	if resp.StatusCode != http.StatusOK || decodeEcho(t, data).Event.RequestContext.Authorizer != nil {
		t.Fatalf("public route with a bad token: %d %s", resp.StatusCode, data)
	}
}

func TestFunctionResponses(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	get := func(query string) (*http.Response, []byte) {
		return call(t, http.MethodGet, p.URL()+"/v1/echo/x?"+query, token, nil, nil)
	}

	t.Run("not a response object", func(t *testing.T) {
		resp, data := get("mode=raw")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || string(data) != `{"hello":"world"}` {
			t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
		}
	})
	t.Run("binary body, cookies, multi-value headers", func(t *testing.T) {
		resp, data := get("mode=binary")
		if resp.StatusCode != http.StatusCreated || !bytes.Equal(data, []byte{0, 1, 2, 255}) {
			t.Fatalf("%d %v", resp.StatusCode, data)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("content-type %q", ct)
		}
		if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1; Path=/", "b=2; HttpOnly"}) {
			t.Errorf("set-cookie %q", got)
		}
		if got := resp.Header.Values("X-Multi"); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("x-multi %q", got)
		}
	})
	for _, mode := range []string{"error", "panic", "sleep&ms=3500"} {
		t.Run("failure "+mode, func(t *testing.T) {
			resp, data := get("mode=" + mode)
			if resp.StatusCode != http.StatusInternalServerError || string(data) != `{"message":"Internal Server Error"}` {
				t.Fatalf("%d %s, want 500 {\"message\":\"Internal Server Error\"}", resp.StatusCode, data)
			}
		})
	}
	// After a panic and a timeout the function still answers.
	if resp, data := get(""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after failures: %d %s", resp.StatusCode, data)
	}
}

func TestPoolServesConcurrentRequests(t *testing.T) {
	p := shared(t)
	token := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	const n = 8
	begin := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		pids = map[int]int{}
		errs []string
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, p.URL()+"/v1/echo/c"+strconv.Itoa(i)+"?mode=sleep&ms=400", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			defer resp.Body.Close()
			var r echoReply
			if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil {
				errs = append(errs, "status "+resp.Status)
				return
			}
			pids[r.PID]++
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed: %v", len(errs), n, errs)
	}
	inst := p.instances()["EchoFunction"]
	t.Logf("%d requests in %v served by %d processes (%v); %d emulator instances", n, elapsed, len(pids), pids, inst)
	if inst < 2 || inst > DefaultMaxConcurrency {
		t.Errorf("EchoFunction runs %d instances, want 2..%d", inst, DefaultMaxConcurrency)
	}
	if len(pids) < 2 || len(pids) > DefaultMaxConcurrency {
		t.Errorf("served by %d function processes, want 2..%d", len(pids), DefaultMaxConcurrency)
	}
	// 8 requests of 400 ms on at most 4 instances take at least 2 rounds.
	if elapsed < 800*time.Millisecond {
		t.Errorf("8 × 400 ms took %v: more than %d ran at once", elapsed, DefaultMaxConcurrency)
	}
}

func TestCORS(t *testing.T) {
	p := shared(t)
	resp, _ := call(t, http.MethodOptions, p.URL()+"/v1/echo/x", "", nil, map[string]string{
		"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
	})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET,POST" || resp.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = call(t, http.MethodOptions, p.URL()+"/v1/echo/x", "", nil, map[string]string{
		"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
	})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin allowed: %v", resp.Header)
	}
	resp, _ = call(t, http.MethodGet, p.URL()+"/v1/public", "", nil, map[string]string{"Origin": "https://portal.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://portal.example.com" {
		t.Errorf("response: %v", resp.Header)
	}
}

func TestTokenEndpoint(t *testing.T) {
	p := shared(t)
	resp, data := call(t, http.MethodPost, p.URL()+"/_local/token", "", strings.NewReader(`{"role":"staff","branchIds":["b-9"],"expiresInSeconds":120}`), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	claims, err := p.authority.verify(out.Token)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := numericClaim(claims["exp"])
	iat, _ := numericClaim(claims["iat"])
	if claims["custom:branch_ids"] != "b-9" || claims["token_use"] != "access" || exp-iat != 120 || claimString(claims["cognito:groups"]) != "[staff]" {
		t.Errorf("claims = %v", claims)
	}
	for _, body := range []string{`{"role":"doctor"}`, `{}`, `not json`} {
		if resp, data := call(t, http.MethodPost, p.URL()+"/_local/token", "", strings.NewReader(body), nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", body, resp.StatusCode, data)
		}
	}
	resp, data = call(t, http.MethodGet, p.URL()+"/_local/.well-known/jwks.json", "", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"kid":"`+p.authority.kid+`"`) {
		t.Errorf("jwks: %d %s", resp.StatusCode, data)
	}
}

func TestSeedThroughTheAPI(t *testing.T) {
	p := shared(t)
	s := p.Seed()
	if s == nil || s.BranchID == "" || len(s.Resources) != 4 || s.FastingBloodDrawID == "" || s.ExecutiveCheckupID == "" {
		t.Fatalf("seed = %+v", s)
	}
	for _, r := range s.Resources {
		if r.ID == "" {
			t.Errorf("resource %+v has no id", r)
		}
	}
	ex := s.Examples(p.URL())
	for _, want := range []string{s.BranchID, "/_local/token", "/v1/availability?branchId=$BRANCH", "Idempotency-Key", "/v1/appointments?patientId=p-1001"} {
		if !strings.Contains(ex, want) {
			t.Errorf("examples lack %q:\n%s", want, ex)
		}
	}
}

func TestTablesFromTemplate(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	client := dynamolocal.NewClient(p.DynamoEndpoint())
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("EchoTable")})
	if err != nil {
		t.Fatalf("the test template's table: %v", err)
	}
	if len(out.Table.KeySchema) != 1 || aws.ToString(out.Table.KeySchema[0].AttributeName) != "PK" {
		t.Errorf("EchoTable key schema %+v", out.Table.KeySchema)
	}

	// The repository's template: BookingTable, named after its logical id,
	// with both GSIs and the stream.
	o, err := Options{Log: &lockedBuffer{}}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	a, err := loadApp("../../template.yaml", platformParams(nil, "http://issuer"))
	if err != nil {
		t.Fatal(err)
	}
	if err := createTables(ctx, a, p.DynamoEndpoint(), o); err != nil {
		t.Fatal(err)
	}
	bt, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("BookingTable")})
	if err != nil {
		t.Fatal(err)
	}
	var gsis []string
	for _, g := range bt.Table.GlobalSecondaryIndexes {
		gsis = append(gsis, aws.ToString(g.IndexName))
	}
	slices.Sort(gsis)
	if !slices.Equal(gsis, []string{"GSI1", "GSI2"}) || bt.Table.StreamSpecification == nil || len(bt.Table.KeySchema) != 2 {
		t.Errorf("BookingTable = %+v", bt.Table)
	}
}

func TestInvoke(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	event := []byte(`{"version":"2.0","routeKey":"GET /v1/public","rawPath":"/v1/public","rawQueryString":"","headers":{},"requestContext":{"http":{"method":"GET","path":"/v1/public"}},"isBase64Encoded":false}`)
	opts := testOptions(&lockedBuffer{}, Options{DynamoEndpoint: p.DynamoEndpoint()})
	for _, name := range []string{"echo", "EchoFunction"} {
		res, err := Invoke(ctx, opts, name, event)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed() || resp.StatusCode != 200 {
			t.Fatalf("%s: %+v %s (%v)", name, res, res.Payload, err)
		}
		r := decodeEcho(t, []byte(resp.Body))
		if r.Env["TABLE_NAME"] != "EchoTable" || r.Env["AWS_ENDPOINT_URL_DYNAMODB"] != p.DynamoEndpoint() || r.Event.RouteKey != "GET /v1/public" {
			t.Errorf("%s: %+v", name, r)
		}
	}
	failing := bytes.Replace(event, []byte(`"rawQueryString":""`), []byte(`"rawQueryString":"mode=error","queryStringParameters":{"mode":"error"}`), 1)
	res, err := Invoke(ctx, opts, "echo", failing)
	if err != nil {
		t.Fatal(err)
	}
	if !res.FunctionError || !strings.Contains(string(res.Payload), "requested failure") {
		t.Errorf("failing invoke: %+v %s", res, res.Payload)
	}
	if _, err := Invoke(ctx, opts, "nope", event); err == nil || !strings.Contains(err.Error(), "known: echo") {
		t.Errorf("unknown function: %v", err)
	}
}

func TestCloseLeavesNoProcesses(t *testing.T) {
	requireTools(t)
	before := map[int]bool{}
	for _, pid := range descendants(osGetpid()) {
		before[pid] = true
	}
	log := &lockedBuffer{}
	ctx := context.Background()
	p, err := Start(ctx, testOptions(log, Options{MaxConcurrency: 3}))
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	token := mustToken(t, p, TokenRequest{Role: RoleAdmin})
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, p.URL()+"/v1/echo/x?mode=sleep&ms=300", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	var started []int
	for _, pid := range descendants(osGetpid()) {
		if !before[pid] {
			started = append(started, pid)
		}
	}
	// java, and per instance aws-lambda-rie and its bootstrap.
	if len(started) < 1+2*2 {
		t.Fatalf("expected DynamoDB Local and at least two emulator+bootstrap pairs, found %d processes: %v\n%s", len(started), started, log)
	}
	t.Logf("processes before Close: %v (instances %v)", started, p.instances())
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close() // idempotent
	var left []int
	for _, pid := range started {
		if alive(pid) {
			left = append(left, pid)
		}
	}
	if len(left) > 0 {
		t.Fatalf("processes still running after Close: %v", left)
	}
	if resp, err := http.Get(p.URL() + "/v1/public"); err == nil {
		resp.Body.Close()
		t.Fatal("the API still answers after Close")
	}
}

func TestMissingFunctions(t *testing.T) {
	p := shared(t)
	tpl, err := os.ReadFile("testdata/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ghost := `
  GhostFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {Method: GET, Path: /v1/ghost}}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {Method: GET, Path: /v1/broken}}
`
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, append(tpl, ghost...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := testOptions(&lockedBuffer{}, Options{Template: path, DynamoEndpoint: p.DynamoEndpoint()})
	if _, err := Start(ctx, opts); err == nil || !strings.Contains(err.Error(), "GhostFunction") {
		t.Fatalf("Start with a function without source: %v, want an error naming GhostFunction", err)
	}
	opts.AllowMissing = true
	q, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	token := mustToken(t, q, TokenRequest{Role: RoleAdmin})
	for _, path := range []string{"/v1/ghost", "/v1/broken"} {
		if resp, data := call(t, http.MethodGet, q.URL()+path, token, nil, nil); resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s (function missing or not compiling): %d %s, want 500", path, resp.StatusCode, data)
		}
	}
	if resp, data := call(t, http.MethodGet, q.URL()+"/v1/echo/x", token, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("route of a present function: %d %s", resp.StatusCode, data)
	}
}

// TestKilledParentLeavesNoProcesses kills (SIGKILL, no Close) a process running
// a platform: the kernel kills its emulators (Pdeathsig) and the bootstraps
// exit when their emulator's Runtime API goes away.
func TestKilledParentLeavesNoProcesses(t *testing.T) {
	p := shared(t)
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux-only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+p.DynamoEndpoint(), childBuildEnv+"="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var pids []int
	if err := json.NewDecoder(stdout).Decode(&pids); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if len(pids) < 4 {
		t.Fatalf("child runs %v, want two emulators and their bootstraps", pids)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of a killed platform still running: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
