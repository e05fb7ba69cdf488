// Package httpapi adapts the booking use cases to API Gateway HTTP API events
// (payload format 2.0): caller identity from the JWT authorizer's claims,
// strict JSON decoding, one error envelope and one code → status table,
// idempotency keys with Powertools semantics, and CORS response headers. One
// Lambda function serves one Route:
//
//	srv := httpapi.NewServer(idemStore, time.Now, rt.Config)
//	lambdakit.StartHTTP(rt, srv.Handle(httpapi.BookAppointment(svc)))
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
)

// IdemMode says whether a route honours the Idempotency-Key header.
type IdemMode int

// Idempotency modes.
const (
	// IdemNone ignores the Idempotency-Key header (reads, and writes that are
	// naturally idempotent such as PUT).
	IdemNone IdemMode = iota
	// IdemOptional makes a request idempotent when it carries the header.
	IdemOptional
	// IdemRequired refuses a request without the header (VALIDATION_FAILED):
	// a duplicate booking costs a patient a slot and a clinic a no-show.
	IdemRequired
)

// Route is one HTTP route served by one Lambda function.
type Route struct {
	// Name identifies the route in logs, metrics and idempotency keys; it must
	// stay stable once deployed, as stored idempotency keys contain it.
	Name string
	// Method and Path are the API Gateway route, e.g. "POST" and
	// "/v1/appointments/{id}/cancel".
	Method string
	Path   string
	// Public routes skip authentication; the actor is anonymous.
	Public bool
	// Idempotency is how the route treats the Idempotency-Key header.
	Idempotency IdemMode
	// SuccessStatus is the status of a successful answer (200 when zero).
	SuccessStatus int
	// Handle does the work; its result, a wire type, is marshalled to the
	// JSON body. A returned error is answered with the error envelope.
	Handle func(ctx context.Context, r *Request) (any, error)
	// RenderAppointment is set on routes that answer with the visit their
	// transaction writes: it renders that visit as the response body. The
	// idempotency claim carries it, so the store completes the claim inside
	// the booking transaction with exactly the bytes this route answers
	// (idempotency.Claim.Render).
	RenderAppointment func(domain.Appointment) ([]byte, error)
}

// Key returns the API Gateway route key, e.g. "POST /v1/appointments".
func (rt Route) Key() string { return rt.Method + " " + rt.Path }

func (rt Route) successStatus() int {
	if rt.SuccessStatus == 0 {
		return http.StatusOK
	}
	return rt.SuccessStatus
}

// Request is what a route handler sees of an HTTP request.
type Request struct {
	// Event is the raw API Gateway event.
	Event *events.APIGatewayV2HTTPRequest
	// Actor is the authenticated caller (anonymous on public routes).
	Actor domain.Actor

	body []byte // base64-decoded, size-checked
}

// PathParam returns a path parameter from pathParameters, or VALIDATION_FAILED
// naming it when it is absent or blank.
func (r *Request) PathParam(name string) (string, error) {
	v := strings.TrimSpace(r.Event.PathParameters[name])
	if v == "" {
		return "", apperr.E(apperr.Validation, "path parameter %q is required", name)
	}
	return v, nil
}

// Query returns a query string parameter ("" when absent). API Gateway joins
// repeated parameters with commas.
func (r *Request) Query(name string) string {
	return strings.TrimSpace(r.Event.QueryStringParameters[name])
}

// Header returns a request header, matching its name case-insensitively.
func (r *Request) Header(name string) string {
	return header(r.Event, name)
}

// Body returns the request body after base64 decoding.
func (r *Request) Body() []byte { return r.body }

// Decode decodes the body, which must be one JSON object without unknown
// fields, into v. An empty body, malformed JSON, an unknown field or a
// field of the wrong type gives VALIDATION_FAILED naming the problem.
func (r *Request) Decode(v any) error { return decodeStrict(r.body, v) }

// DecodeOptional is Decode for routes whose body may be omitted: an empty body
// leaves v untouched and is not an error.
func (r *Request) DecodeOptional(v any) error {
	if len(strings.TrimSpace(string(r.body))) == 0 {
		return nil
	}
	return decodeStrict(r.body, v)
}

// header looks a header up case-insensitively (payload 2.0 lower-cases names,
// but local tools do not always).
func header(ev *events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := ev.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Server turns Routes into Lambda handlers. Build one per function at cold
// start.
type Server struct {
	idem app.IdempotencyStore
	now  func() time.Time
	cfg  config.Config
}

// NewServer returns a Server. store keeps idempotency records and may be nil
// only for functions whose route has IdemNone; now is the clock (time.Now when
// nil); cfg supplies MaxBodyBytes, IdempotencyTTL and CORSAllowedOrigins.
func NewServer(store app.IdempotencyStore, now func() time.Time, cfg config.Config) *Server {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = config.DefaultMaxBodyBytes
	}
	if cfg.IdempotencyTTL < config.MinIdempotencyTTL {
		cfg.IdempotencyTTL = config.MinIdempotencyTTL
	}
	return &Server{idem: store, now: now, cfg: cfg}
}

// Handle returns the Lambda handler for rt, to pass to lambdakit.StartHTTP. The
// handler answers every outcome, expected or not (including a panic), with an
// HTTP response and a nil error, so Lambda never reports a function error for
// a request it could answer. Handle panics at cold start if rt is malformed or
// needs an idempotency store the server lacks.
func (s *Server) Handle(rt Route) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if rt.Name == "" || rt.Method == "" || rt.Path == "" || rt.Handle == nil {
		panic(fmt.Sprintf("httpapi: route %q is incomplete", rt.Key()))
	}
	if rt.Idempotency != IdemNone && s.idem == nil {
		panic(fmt.Sprintf("httpapi: route %s uses idempotency but the server has no IdempotencyStore", rt.Name))
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp := s.serve(ctx, rt, &ev)
		s.addCORS(&ev, &resp)
		return resp, nil
	}
}

// outcome is what serving a request produced, before it becomes a response.
type outcome struct {
	status   int
	body     []byte
	err      error // set for error answers; logged, never sent
	replayed bool
}

func (s *Server) serve(ctx context.Context, rt Route, ev *events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse) {
	start := time.Now() // a stopwatch, not the injectable business clock
	var out outcome
	defer func() {
		// A last net for this package's own code; handler panics are caught
		// closer to the handler so the idempotency claim is released.
		if v := recover(); v != nil {
			out = s.failure(&lambdakit.PanicError{Value: v, Stack: debug.Stack()}, ev)
			resp = s.finish(ctx, rt, ev, out, start)
		}
	}()
	out = s.run(ctx, rt, ev)
	return s.finish(ctx, rt, ev, out, start)
}

func (s *Server) run(ctx context.Context, rt Route, ev *events.APIGatewayV2HTTPRequest) outcome {
	actor := domain.Actor{Role: domain.RoleAnonymous}
	if !rt.Public {
		a, err := ActorFromEvent(ev)
		if err != nil {
			return s.failure(err, ev)
		}
		actor = a
	}
	body, err := readBody(ev, s.cfg.MaxBodyBytes)
	if err != nil {
		return s.failure(err, ev)
	}
	req := &Request{Event: ev, Actor: actor, body: body}
	if rt.Idempotency != IdemNone {
		return s.runIdempotent(ctx, rt, req)
	}
	return s.respond(s.call(ctx, rt, req))
}

// call runs the route handler and marshals its result once, turning a panic
// into an INTERNAL error.
func (s *Server) call(ctx context.Context, rt Route, req *Request) (status int, body []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			status, body = 0, nil
			err = apperr.Wrap(&lambdakit.PanicError{Value: v, Stack: debug.Stack()}, "route %s panicked", rt.Name)
		}
	}()
	v, err := rt.Handle(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	body, err = json.Marshal(v)
	if err != nil {
		return 0, nil, apperr.Wrap(err, "marshal %s response", rt.Name)
	}
	return rt.successStatus(), body, nil
}

func (s *Server) respond(status int, body []byte, err error) outcome {
	if err != nil {
		return outcome{err: err}
	}
	return outcome{status: status, body: body}
}

// failure builds the error answer for err.
func (s *Server) failure(err error, ev *events.APIGatewayV2HTTPRequest) outcome {
	status, body := errorStatusAndBody(err, ev.RequestContext.RequestID)
	return outcome{status: status, body: body, err: err}
}

// finish logs the outcome, marks the span, emits the metrics (see
// emitMetrics) and builds the response.
func (s *Server) finish(ctx context.Context, rt Route, ev *events.APIGatewayV2HTTPRequest, out outcome, start time.Time) events.APIGatewayV2HTTPResponse {
	if out.err != nil && out.body == nil {
		out = s.failure(out.err, ev)
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(
		semconv.HTTPRoute(rt.Path),
		semconv.HTTPRequestMethodKey.String(rt.Method),
		semconv.HTTPResponseStatusCode(out.status),
	)

	// apiRequestId is the id the client sees in error envelopes; the Lambda
	// request id is already on every line.
	log := lambdakit.Logger(ctx).With("route", rt.Name, "status", out.status, "apiRequestId", ev.RequestContext.RequestID)
	switch {
	case out.status >= 500:
		// The cause goes to the operator only; never the body (personal data).
		log.ErrorContext(ctx, "request failed", "code", apperr.CodeOf(out.err), "error", errorText(out.err))
		span.SetStatus(codes.Error, string(apperr.CodeOf(out.err)))
		lambdakit.EmitMetric(ctx, metrics.ServerErrors, lambdakit.UnitCount, 1, nil)
	case out.err != nil:
		// "detail", not "message": the JSON log line's own message key.
		log.InfoContext(ctx, "request refused", "code", apperr.CodeOf(out.err), "detail", apperr.MessageOf(out.err))
	default:
		log.InfoContext(ctx, "request completed", "replayed", out.replayed)
	}
	emitMetrics(ctx, rt, out, time.Since(start))

	h := map[string]string{
		"Content-Type":  "application/json",
		"Cache-Control": "no-store", // responses carry personal data
	}
	if out.replayed {
		h[HeaderIdempotentReplayed] = "true"
	}
	if out.status == http.StatusServiceUnavailable {
		h["Retry-After"] = RetryAfterSeconds
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: out.status, Headers: h, Body: string(out.body)}
}

// bookingOperations are the routes whose answers BookingOutcome counts, by
// Route.Name (stable by contract), with their Operation dimension.
var bookingOperations = map[string]string{
	"BookAppointment":       metrics.OperationBook,
	"RescheduleAppointment": metrics.OperationReschedule,
	"CancelAppointment":     metrics.OperationCancel,
}

// emitMetrics emits ApiLatency for every answer (dimensions Route, the route's
// name, never its path, and StatusClass) and, for the routes of
// bookingOperations, one BookingOutcome (see bookingOutcome).
func emitMetrics(ctx context.Context, rt Route, out outcome, took time.Duration) {
	metrics.EmitAPILatency(ctx, rt.Name, out.status, took)
	if op, ok := bookingOperations[rt.Name]; ok {
		if o, counted := bookingOutcome(out); counted {
			metrics.EmitBookingOutcome(ctx, op, o)
		}
	}
}

// bookingOutcome classifies the answer to a booking, rescheduling or
// cancellation: success (2xx), conflict (SLOT_UNAVAILABLE, CONFLICT,
// INVALID_TRANSITION), error (5xx) or validation (every other refusal of the
// request). An answer that is no outcome of its own is not counted: an
// idempotent replay or REQUEST_IN_PROGRESS (the original request counts) and
// an authentication or authorization failure (UNAUTHENTICATED, FORBIDDEN).
func bookingOutcome(out outcome) (string, bool) {
	switch {
	case out.replayed:
		return "", false
	case out.status >= 500:
		return metrics.BookingError, true
	case out.err == nil:
		return metrics.BookingSuccess, true
	}
	switch apperr.CodeOf(out.err) {
	case apperr.Unauthenticated, apperr.Forbidden, apperr.RequestInProgress:
		return "", false
	case apperr.SlotUnavailable, apperr.Conflict, apperr.InvalidTransition:
		return metrics.BookingConflict, true
	}
	return metrics.BookingValidation, true
}

// errorText is the operator's view of err, with a panic's stack.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	var pe *lambdakit.PanicError
	if errors.As(err, &pe) {
		return err.Error() + "\n" + string(pe.Stack)
	}
	return err.Error()
}

// addCORS adds CORS response headers when the request's Origin is allowed.
// (Behind an HTTP API with a CorsConfiguration, API Gateway sets its own; these
// serve local runs and APIs without one.)
func (s *Server) addCORS(ev *events.APIGatewayV2HTTPRequest, resp *events.APIGatewayV2HTTPResponse) {
	origin := header(ev, "Origin")
	if origin == "" || !s.cfg.AllowsOrigin(origin) {
		return
	}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["Access-Control-Allow-Origin"] = origin
	resp.Headers["Access-Control-Expose-Headers"] = HeaderIdempotentReplayed
	resp.Headers["Vary"] = "Origin"
}
