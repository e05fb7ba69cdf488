package jaegerlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrTraceNotFound is wrapped by Client.Trace's error when Jaeger has no trace
// with the id.
var ErrTraceNotFound = errors.New("jaegerlocal: trace not found")

// DefaultLimit is how many traces Client.Traces asks for when Client.Limit is 0.
const DefaultLimit = 1000

// Client reads traces from Jaeger's JSON query API (/api/services,
// /api/traces). It is safe for concurrent use.
type Client struct {
	// Limit is the most traces Traces returns; 0 means DefaultLimit.
	Limit int

	base string
	http *http.Client
}

// NewClient returns a client for the query API at queryURL, such as
// "http://127.0.0.1:16686".
func NewClient(queryURL string) *Client {
	return &Client{base: strings.TrimRight(queryURL, "/"), http: &http.Client{Timeout: 10 * time.Second}}
}

// Trace is one trace: every span Jaeger has for its id.
type Trace struct {
	// TraceID is the 32-hex-digit trace id.
	TraceID string
	// Spans are the spans in Jaeger's order.
	Spans []Span
}

// Span is one span as Jaeger stores it. Jaeger keeps the span kind, status,
// and instrumentation scope as tags; they are taken out of Attributes into
// their own fields, so Attributes holds exactly the span's attributes.
type Span struct {
	// TraceID is the 32-hex-digit trace id.
	TraceID string
	// SpanID is the 16-hex-digit span id.
	SpanID string
	// ParentSpanID is the parent's span id, "" for a root span.
	ParentSpanID string
	// Service is the service.name of the span's resource.
	Service string
	// Operation is the span name.
	Operation string
	// Kind is the span kind in lower case ("server", "client", "producer",
	// "consumer", "internal"); "" when Jaeger recorded none (internal).
	Kind string
	// StatusCode is "ERROR", "OK" or "" (unset).
	StatusCode string
	// StatusDescription is the status description ("" when none).
	StatusDescription string
	// Scope is the instrumentation scope's name.
	Scope string
	// Start is when the span started.
	Start time.Time
	// Duration is the span's duration (microsecond precision).
	Duration time.Duration
	// Attributes are the span's attributes: string, bool, int64 or float64
	// values; array attributes arrive as a JSON-encoded string.
	Attributes map[string]any
	// Resource holds the resource attributes (Jaeger's process tags).
	Resource map[string]any
	// Events are the span events (Jaeger's logs).
	Events []Event
	// Links are the span's links (Jaeger's FOLLOWS_FROM references and any
	// CHILD_OF reference that is not the parent). Link attributes are not
	// kept by Jaeger's model.
	Links []SpanRef
	// Warnings are Jaeger's remarks about the span (e.g. invalid parent).
	Warnings []string
}

// Event is a span event.
type Event struct {
	// Time is when the event happened.
	Time time.Time
	// Name is the event name (Jaeger's "event" field).
	Name string
	// Attributes are the event's attributes.
	Attributes map[string]any
}

// SpanRef identifies a span in a trace.
type SpanRef struct {
	// TraceID is the 32-hex-digit trace id.
	TraceID string
	// SpanID is the 16-hex-digit span id.
	SpanID string
}

// SpansNamed returns the spans whose operation is name, in trace order.
func (t Trace) SpansNamed(name string) []Span {
	var out []Span
	for _, s := range t.Spans {
		if s.Operation == name {
			out = append(out, s)
		}
	}
	return out
}

// Span returns the span with the id, if the trace has it.
func (t Trace) Span(spanID string) (Span, bool) {
	for _, s := range t.Spans {
		if s.SpanID == spanID {
			return s, true
		}
	}
	return Span{}, false
}

// Services returns the service names Jaeger has spans of, sorted as Jaeger
// returns them.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	var names []string
	if err := c.get(ctx, "/api/services", nil, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// Traces returns the most recent traces (at most Limit, within Jaeger's
// default look-back of two days) that have a span of service. An unknown
// service has none.
func (c *Client) Traces(ctx context.Context, service string) ([]Trace, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var raw []jsonTrace
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)}}
	if err := c.get(ctx, "/api/traces", q, &raw); err != nil {
		return nil, err
	}
	out := make([]Trace, 0, len(raw))
	for _, t := range raw {
		tr, err := t.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, nil
}

// Trace returns the trace with the id (hex, with or without leading zeros).
// The error wraps ErrTraceNotFound when Jaeger has no span of it.
func (c *Client) Trace(ctx context.Context, traceID string) (Trace, error) {
	var raw []jsonTrace
	if err := c.get(ctx, "/api/traces/"+url.PathEscape(traceID), nil, &raw); err != nil {
		return Trace{}, err
	}
	if len(raw) == 0 {
		return Trace{}, fmt.Errorf("%w: %s", ErrTraceNotFound, traceID)
	}
	return raw[0].decode()
}

// WaitTrace polls Trace every 50 ms until the trace exists and done reports
// true for it (nil done: as soon as it exists), and returns it. Spans of one
// trace arrive from several processes, so wait for what the test needs, for
// example a span of each service. It gives up when ctx ends, returning the
// last trace seen with an error that says why.
func (c *Client) WaitTrace(ctx context.Context, traceID string, done func(Trace) bool) (Trace, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last Trace
	var lastErr error
	for {
		t, err := c.Trace(ctx, traceID)
		switch {
		case err == nil:
			last, lastErr = t, nil
			if done == nil || done(t) {
				return t, nil
			}
		case ctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr == nil {
				lastErr = errors.New("the condition never held")
			}
			return last, fmt.Errorf("jaegerlocal: wait for trace %s: %w (last: %d spans, %v)", traceID, ctx.Err(), len(last.Spans), lastErr)
		case <-tick.C:
		}
	}
}

// get fetches path and decodes the "data" member of Jaeger's envelope into
// data. A 404 becomes ErrTraceNotFound.
func (c *Client) get(ctx context.Context, path string, q url.Values, data any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("jaegerlocal: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("jaegerlocal: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("jaegerlocal: GET %s: %w", path, err)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("jaegerlocal: GET %s: %s: %.200s", path, resp.Status, body)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: GET %s", ErrTraceNotFound, path)
	}
	if resp.StatusCode != http.StatusOK || len(env.Errors) > 0 {
		return fmt.Errorf("jaegerlocal: GET %s: %s: %v", path, resp.Status, env.Errors)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("jaegerlocal: GET %s: decode: %w", path, err)
	}
	return nil
}

// Jaeger's JSON model (model/json in the Jaeger repository).
type jsonTrace struct {
	TraceID   string                 `json:"traceID"`
	Spans     []jsonSpan             `json:"spans"`
	Processes map[string]jsonProcess `json:"processes"`
}

type jsonSpan struct {
	TraceID       string          `json:"traceID"`
	SpanID        string          `json:"spanID"`
	OperationName string          `json:"operationName"`
	References    []jsonReference `json:"references"`
	StartTime     int64           `json:"startTime"` // µs since the epoch
	Duration      int64           `json:"duration"`  // µs
	Tags          []jsonTag       `json:"tags"`
	Logs          []jsonLog       `json:"logs"`
	ProcessID     string          `json:"processID"`
	Warnings      []string        `json:"warnings"`
}

type jsonReference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jsonTag struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type jsonLog struct {
	Timestamp int64     `json:"timestamp"`
	Fields    []jsonTag `json:"fields"`
}

type jsonProcess struct {
	ServiceName string    `json:"serviceName"`
	Tags        []jsonTag `json:"tags"`
}

// Tags Jaeger derives from OTLP span fields rather than attributes.
const (
	tagSpanKind          = "span.kind"
	tagStatusCode        = "otel.status_code"
	tagStatusDescription = "otel.status_description"
	tagScopeName         = "otel.scope.name"
	tagScopeVersion      = "otel.scope.version"
	tagError             = "error"
	fieldEvent           = "event"
)

func (t jsonTrace) decode() (Trace, error) {
	out := Trace{TraceID: padHex(t.TraceID, 32), Spans: make([]Span, 0, len(t.Spans))}
	for _, js := range t.Spans {
		s := Span{
			TraceID:   padHex(js.TraceID, 32),
			SpanID:    padHex(js.SpanID, 16),
			Operation: js.OperationName,
			Start:     time.UnixMicro(js.StartTime),
			Duration:  time.Duration(js.Duration) * time.Microsecond,
			Warnings:  js.Warnings,
		}
		for _, r := range js.References {
			ref := SpanRef{TraceID: padHex(r.TraceID, 32), SpanID: padHex(r.SpanID, 16)}
			if r.RefType == "CHILD_OF" && s.ParentSpanID == "" && ref.TraceID == s.TraceID {
				s.ParentSpanID = ref.SpanID
				continue
			}
			s.Links = append(s.Links, ref)
		}
		attrs, err := decodeTags(js.Tags)
		if err != nil {
			return Trace{}, fmt.Errorf("jaegerlocal: span %s: %w", js.SpanID, err)
		}
		s.Kind = takeString(attrs, tagSpanKind)
		s.StatusCode = takeString(attrs, tagStatusCode)
		s.StatusDescription = takeString(attrs, tagStatusDescription)
		s.Scope = takeString(attrs, tagScopeName)
		delete(attrs, tagScopeVersion)
		// "error": true mirrors an ERROR status; an attribute named "error"
		// of another type is kept.
		if v, ok := attrs[tagError].(bool); ok && v && s.StatusCode == "ERROR" {
			delete(attrs, tagError)
		}
		s.Attributes = attrs
		for _, l := range js.Logs {
			fields, err := decodeTags(l.Fields)
			if err != nil {
				return Trace{}, fmt.Errorf("jaegerlocal: span %s event: %w", js.SpanID, err)
			}
			out := Event{Time: time.UnixMicro(l.Timestamp), Name: takeString(fields, fieldEvent), Attributes: fields}
			s.Events = append(s.Events, out)
		}
		if p, ok := t.Processes[js.ProcessID]; ok {
			s.Service = p.ServiceName
			if s.Resource, err = decodeTags(p.Tags); err != nil {
				return Trace{}, fmt.Errorf("jaegerlocal: process %s: %w", js.ProcessID, err)
			}
			s.Resource["service.name"] = p.ServiceName
		}
		out.Spans = append(out.Spans, s)
	}
	return out, nil
}

func decodeTags(tags []jsonTag) (map[string]any, error) {
	m := make(map[string]any, len(tags))
	for _, t := range tags {
		var err error
		switch strings.ToLower(t.Type) {
		case "string", "binary", "":
			var v string
			err = json.Unmarshal(t.Value, &v)
			m[t.Key] = v
		case "bool":
			var v bool
			err = json.Unmarshal(t.Value, &v)
			m[t.Key] = v
		case "int64":
			var v int64
			err = json.Unmarshal(t.Value, &v)
			m[t.Key] = v
		case "float64":
			var v float64
			err = json.Unmarshal(t.Value, &v)
			m[t.Key] = v
		default:
			err = fmt.Errorf("unknown tag type %q", t.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", t.Key, err)
		}
	}
	return m, nil
}

// takeString removes key from m and returns its value when it is a string.
func takeString(m map[string]any, key string) string {
	v, ok := m[key].(string)
	if ok {
		delete(m, key)
	}
	return v
}

// padHex left-pads a hex id with zeros: Jaeger prints a 128-bit trace id
// whose high half is zero in 16 digits.
func padHex(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}
