package localdev

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labchain/appointments/infra/samtemplate"
)

// gateway emulates the HTTP API of the template: routing, the JWT authorizer,
// CORS, the payload 2.0 request event and the response mapping.
type gateway struct {
	router    *router
	auth      map[string]bool // route key -> guarded by the JWT authorizer
	functions map[string]*function
	missing   map[string]string // logical id -> why it cannot run
	authority *authority
	cors      *corsConfig
	now       func() time.Time
	log       io.Writer
	extra     localHandler // more /_local endpoints; may be nil
}

// localHandler serves /_local endpoints beyond the gateway's own; it
// reports whether it knew the path.
type localHandler interface {
	serveLocalExtra(w http.ResponseWriter, r *http.Request, path string) bool
}

// Bodies API Gateway answers with when no function runs or a function fails.
const (
	bodyNotFound      = `{"message":"Not Found"}`
	bodyUnauthorized  = `{"message":"Unauthorized"}`
	bodyInternalError = `{"message":"Internal Server Error"}`
	bodyTooLarge      = `{"message":"Request Entity Too Large"}`
)

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	target := g.serve(rec, r)
	fmt.Fprintf(g.log, "%s %s %s %d %s%s\n", begin.Format("15:04:05"), r.Method, r.URL.RequestURI(), rec.status,
		time.Since(begin).Round(100*time.Microsecond), target)
}

// serve answers one request and returns a note for the access log.
func (g *gateway) serve(w http.ResponseWriter, r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, localPrefix+"/") {
		g.serveLocal(w, r)
		return ""
	}
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	if g.cors != nil && g.cors.preflight(w, r) {
		return " (CORS preflight)"
	}
	rt, params, ok := g.router.match(r.Method, r.URL.EscapedPath())
	if !ok {
		writeMessage(w, http.StatusNotFound, bodyNotFound)
		return " (no route)"
	}
	note := " → " + rt.FunctionID
	body, tooLarge, err := readBody(r)
	if tooLarge {
		writeMessage(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		return note
	}
	if err != nil {
		writeMessage(w, http.StatusBadRequest, `{"message":"Bad Request"}`)
		return note
	}
	var claims map[string]any
	if g.auth[rt.Key()] {
		claims, err = g.authorize(r)
		if err != nil {
			w.Header().Set("Www-Authenticate", challenge(err))
			writeMessage(w, http.StatusUnauthorized, bodyUnauthorized)
			return note + " (authorizer: " + err.Error() + ")"
		}
	}
	at := g.now()
	ev := buildEvent(eventInput{
		req: r, body: body, routeKey: rt.Key(), pathParams: params, claims: claims,
		requestID: requestID, traceID: newTraceID(at), at: at,
	})
	payload, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		return note + " (" + err.Error() + ")"
	}
	fn := g.functions[rt.FunctionID]
	if fn == nil {
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		why := g.missing[rt.FunctionID]
		if why == "" {
			why = "not running"
		}
		return note + " (" + why + ")"
	}
	inv, err := fn.invoke(r.Context(), payload)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		return note + " (" + err.Error() + ")"
	}
	switch classify(inv) {
	case functionError:
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		return note + " (function error: " + summarize(inv.body) + ")"
	case timedOut:
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		return note + " (" + string(inv.body) + ")"
	}
	decorate := func(http.Header) {}
	if g.cors != nil {
		decorate = func(h http.Header) { g.cors.decorate(h, r) }
	}
	if err := writeLambdaResponse(w, inv.body, decorate); err != nil {
		writeMessage(w, http.StatusInternalServerError, bodyInternalError)
		return note + " (malformed Lambda response: " + err.Error() + ")"
	}
	return note
}

// authorize reads the bearer token of the Authorization header (the
// authorizer's identity source) and verifies it.
func (g *gateway) authorize(r *http.Request) (map[string]any, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errNoToken
	}
	token := h
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	return g.authority.verify(token)
}

func challenge(err error) string {
	if errors.Is(err, errNoToken) {
		return "Bearer"
	}
	return `Bearer error="invalid_token"`
}

// lambdaResponse is the payload 2.0 response format.
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// writeLambdaResponse maps a function's result to the HTTP response as API
// Gateway does for payload 2.0: a JSON object with a statusCode is a response
// (headers, multiValueHeaders, cookies as Set-Cookie headers, body decoded
// when isBase64Encoded); any other JSON value is sent as the body of a 200
// with content-type application/json. decorate may add headers last (API
// Gateway's CORS headers replace the function's).
func writeLambdaResponse(w http.ResponseWriter, payload []byte, decorate func(http.Header)) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(payload) {
			return errors.New("not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		decorate(w.Header())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return nil
	}
	var resp lambdaResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return err
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("body is not base64: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			if !contains(h.Values(k), v) {
				h.Add(k, v)
			}
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // no content sniffing: send no Content-Type, as the function did
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	decorate(h)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func writeMessage(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// summarize shortens a function error for the access log.
func summarize(body []byte) string {
	var e struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Type != "" || e.Message != "") {
		return e.Type + ": " + e.Message
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return string(body)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// corsConfig is the HttpApi's CorsConfiguration. API Gateway answers
// preflight requests itself and adds the CORS headers to responses for
// allowed origins.
type corsConfig struct {
	origins     []string
	methods     []string
	headers     []string
	expose      []string
	maxAge      int
	credentials bool
}

func (a *app) corsConfig(api samtemplate.Resource) *corsConfig {
	c, ok := api.Properties["CorsConfiguration"].(map[string]any)
	if !ok {
		return nil
	}
	cfg := &corsConfig{
		origins: a.list(c["AllowOrigins"]),
		methods: a.list(c["AllowMethods"]),
		headers: a.list(c["AllowHeaders"]),
		expose:  a.list(c["ExposeHeaders"]),
	}
	cfg.maxAge, _ = number(c["MaxAge"])
	cfg.credentials, _ = c["AllowCredentials"].(bool)
	return cfg
}

func (c *corsConfig) allowed(origin string) (string, bool) {
	for _, o := range c.origins {
		if o == "*" {
			return "*", true
		}
		if strings.EqualFold(o, origin) {
			return origin, true
		}
	}
	return "", false
}

// preflight answers an OPTIONS preflight request and reports whether it did.
func (c *corsConfig) preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions || r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if origin, ok := c.allowed(r.Header.Get("Origin")); ok {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		if len(c.methods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.methods, ","))
		}
		if len(c.headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.headers, ","))
		}
		if c.maxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.maxAge))
		}
		if c.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// decorate adds the CORS headers of an allowed origin to a response.
func (c *corsConfig) decorate(h http.Header, r *http.Request) {
	origin, ok := c.allowed(r.Header.Get("Origin"))
	if !ok || r.Header.Get("Origin") == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if len(c.expose) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.expose, ","))
	}
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}
