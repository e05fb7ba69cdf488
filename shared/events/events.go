// Package events is the wire format of the events the system publishes: a
// CloudEvents 1.0 JSON envelope (structured content mode) around the data of
// outbound event contract v1 (data.go: the appointment after the change, as
// committed, without personal data; docs/contracts/events and
// docs/consumers.md).
//
// A message body looks like testdata/events-out/appointment.booked.json (at
// the repository root):
//
//	{"specversion":"1.0","id":"evt_...","source":"urn:labchain:appointments",
//	 "type":"appointment.booked","time":"2026-11-25T10:00:00.123Z",
//	 "subject":"apt_...","datacontenttype":"application/json",
//	 "traceparent":"00-...-...-01","data":{...AppointmentData...}}
//
// Decode is strict: it accepts only the attributes above, spelled exactly so
// and each at most once, and validates them (see CloudEvent.Validate).
// Consumers deduplicate by ID: publication is at least once.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Envelope constants.
const (
	// SpecVersion is the CloudEvents version of every event.
	SpecVersion = "1.0"
	// Source is the source attribute of every event this system produces.
	Source = "urn:labchain:appointments"
	// ContentTypeJSON is the datacontenttype of every event: data is JSON.
	ContentTypeJSON = "application/json"
)

// Message attribute names under which a transport (SQS) repeats envelope
// attributes, so consumers can route and trace without parsing the body.
const (
	// AttrTraceParent carries the W3C traceparent of the publishing span.
	AttrTraceParent = "traceparent"
	// AttrType carries the event type (the CloudEvents "ce-type" binding name).
	AttrType = "ce-type"
	// AttrID carries the event id (the CloudEvents "ce-id" binding name).
	AttrID = "ce-id"
)

// CloudEvent is a CloudEvents 1.0 event in the JSON format with this
// system's profile: time, datacontenttype "application/json" and data are
// required; subject is the id of the changed object; traceparent is the
// distributed-tracing extension attribute (W3C Trace Context) of the request
// that made the change.
//
// json.Marshal of a CloudEvent is its canonical encoding (attributes in the
// order below, data verbatim); Encode also validates it.
type CloudEvent struct {
	// SpecVersion is always "1.0".
	SpecVersion string `json:"specversion"`
	// ID is unique per event; duplicates of a delivery carry the same ID.
	ID string `json:"id"`
	// Source is a URI reference naming the producer (Source for this system).
	Source string `json:"source"`
	// Type is the event type, e.g. domain.EventAppointmentBooked.
	Type string `json:"type"`
	// Time is when the change happened, RFC 3339.
	Time time.Time `json:"time"`
	// Subject is the id of the changed object (optional in the format).
	Subject string `json:"subject,omitempty"`
	// DataContentType is always "application/json".
	DataContentType string `json:"datacontenttype"`
	// TraceParent is the W3C traceparent of the change's request ("" if the
	// request was not traced).
	TraceParent string `json:"traceparent,omitempty"`
	// Data is the event's data (a JSON value, never null): for the types
	// the domain produces, AppointmentData or ReminderDueData (data.go).
	Data json.RawMessage `json:"data"`
}

// MaxEventBytes bounds the canonical encoding of an event, which is the body
// of its SQS message: SQS's 256 KiB per message (sqsx.MaxBatchBytes) less
// 1 KiB for the message attributes the publisher adds (ce-id, ce-type and
// traceparent: under 300 bytes). An event over it could be committed but
// never published, so New refuses it.
const MaxEventBytes = 256*1024 - 1024

// ErrTooLarge is the cause of New's error for an event whose encoding
// exceeds MaxEventBytes.
var ErrTooLarge = errors.New("events: event larger than a queue message may carry")

// New builds the envelope of a domain event: data is ev.Data mapped to its
// wire type (a domain.Appointment to AppointmentData, a domain.ReminderDue
// to ReminderDueData; other data is an error), time is ev.Time in UTC.
// traceparent may be "". The result is validated. An event whose encoding
// exceeds MaxEventBytes is refused with LIMIT_EXCEEDED wrapping ErrTooLarge
// (permanent: the change that makes it must not be committed).
func New(ev domain.Event, traceparent string) (CloudEvent, error) {
	wire, err := dataOf(ev)
	if err != nil {
		return CloudEvent{}, err
	}
	data, err := json.Marshal(wire)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("events: encode data of %s %s: %w", ev.Type, ev.ID, err)
	}
	ce := CloudEvent{
		SpecVersion:     SpecVersion,
		ID:              ev.ID,
		Source:          Source,
		Type:            ev.Type,
		Time:            ev.Time.UTC(),
		Subject:         ev.Subject,
		DataContentType: ContentTypeJSON,
		TraceParent:     traceparent,
		Data:            data,
	}
	if err := ce.Validate(); err != nil {
		return CloudEvent{}, err
	}
	body, err := json.Marshal(ce)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("events: encode %s %s: %w", ev.Type, ev.ID, err)
	}
	if len(body) > MaxEventBytes {
		return CloudEvent{}, &apperr.Error{
			Code:    apperr.LimitExceeded,
			Message: fmt.Sprintf("the change would make its %s event %d bytes, over the %d a queue message may carry; nothing was changed", ev.Type, len(body), MaxEventBytes),
			Err:     ErrTooLarge,
		}
	}
	return ce, nil
}

// Loops rather than regexps, which every importing function would compile at
// cold start (issue #10 §6); events_match_test.go checks them against the
// regexps they replace.

// traceParentShape reports whether s is version-traceid-parentid-flags in
// lower-case hex (W3C Trace Context): `^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`.
func traceParentShape(s string) bool {
	if len(s) != 55 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 2 || i == 35 || i == 52 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// typeShape reports whether s is a CloudEvents type as this project writes
// them, dot-separated lower-case words: `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`.
func typeShape(s string) bool {
	words := 0
	for _, w := range strings.Split(s, ".") {
		if w == "" || w[0] < 'a' || w[0] > 'z' {
			return false
		}
		for i := 1; i < len(w); i++ {
			if c := w[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
				return false
			}
		}
		words++
	}
	return words >= 2
}

// maxIDLen bounds id and subject (SQS message attributes and logs carry them).
const maxIDLen = 128

// ErrInvalid is wrapped by every error Validate and Decode return for an
// event that breaks the format.
var ErrInvalid = errors.New("events: invalid CloudEvent")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks the envelope: specversion "1.0"; id of 1..128 characters;
// source a non-empty URI reference; type dot-separated lower-case words
// ("appointment.booked"); time set; subject at most 128 characters;
// datacontenttype "application/json"; traceparent empty or a W3C traceparent
// (version not ff, trace and parent ids not all zero); data a JSON value other
// than null. Errors wrap ErrInvalid.
func (e CloudEvent) Validate() error {
	switch {
	case e.SpecVersion != SpecVersion:
		return invalid("specversion %q, want %q", e.SpecVersion, SpecVersion)
	case e.ID == "" || len(e.ID) > maxIDLen:
		return invalid("id must have 1..%d characters", maxIDLen)
	case e.Source == "":
		return invalid("source is required")
	case !typeShape(e.Type):
		return invalid("type %q is not dot-separated lower-case words", e.Type)
	case e.Time.IsZero():
		return invalid("time is required")
	case len(e.Subject) > maxIDLen:
		return invalid("subject longer than %d characters", maxIDLen)
	case e.DataContentType != ContentTypeJSON:
		return invalid("datacontenttype %q, want %q", e.DataContentType, ContentTypeJSON)
	}
	if _, err := url.Parse(e.Source); err != nil {
		return invalid("source %q is not a URI reference", e.Source)
	}
	if e.TraceParent != "" && !ValidTraceParent(e.TraceParent) {
		return invalid("traceparent %q is not a W3C traceparent", e.TraceParent)
	}
	if t := bytes.TrimSpace(e.Data); len(t) == 0 || bytes.Equal(t, []byte("null")) || !json.Valid(t) {
		return invalid("data must be a JSON value other than null")
	}
	return nil
}

// ValidTraceParent reports whether s is a W3C traceparent header value that
// propagators accept: lower-case hex fields, version not ff, trace id and
// parent id not all zeros.
func ValidTraceParent(s string) bool {
	if !traceParentShape(s) || s[:2] == "ff" {
		return false
	}
	return s[3:35] != "00000000000000000000000000000000" && s[36:52] != "0000000000000000"
}

// Encode validates e and returns its canonical JSON encoding, the message
// body of a publication.
func Encode(e CloudEvent) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// Decode parses a CloudEvent strictly: b must be one JSON object whose members
// are exactly the attributes of CloudEvent (case-sensitive, each at most once,
// no others), with string attributes given as strings (not null) and time in
// RFC 3339; the result must pass Validate. For an event produced by Encode,
// Encode(Decode(b)) returns b. Errors wrap ErrInvalid.
func Decode(b []byte) (CloudEvent, error) {
	var e CloudEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return e, invalid("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, invalid("malformed JSON: %v", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return e, invalid("attribute %q given twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return e, invalid("malformed JSON in %q: %v", name, err)
		}
		if err := e.set(name, raw); err != nil {
			return CloudEvent{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return CloudEvent{}, invalid("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err == nil {
		return CloudEvent{}, invalid("data after the JSON object")
	}
	for _, required := range []string{"specversion", "id", "source", "type", "time", "datacontenttype", "data"} {
		if !seen[required] {
			return CloudEvent{}, invalid("attribute %q is required", required)
		}
	}
	if err := e.Validate(); err != nil {
		return CloudEvent{}, err
	}
	return e, nil
}

// set decodes one attribute.
func (e *CloudEvent) set(name string, raw json.RawMessage) error {
	var dst *string
	switch name {
	case "specversion":
		dst = &e.SpecVersion
	case "id":
		dst = &e.ID
	case "source":
		dst = &e.Source
	case "type":
		dst = &e.Type
	case "subject":
		dst = &e.Subject
	case "datacontenttype":
		dst = &e.DataContentType
	case "traceparent":
		dst = &e.TraceParent
	case "time":
		var s string
		if err := decodeString(raw, &s); err != nil {
			return invalid("time: %v", err)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return invalid("time %q is not RFC 3339", s)
		}
		e.Time = t
		return nil
	case "data":
		e.Data = append(json.RawMessage(nil), raw...)
		return nil
	default:
		return invalid("unknown attribute %q", name)
	}
	if err := decodeString(raw, dst); err != nil {
		return invalid("%s: %v", name, err)
	}
	return nil
}

func decodeString(raw json.RawMessage, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("must be a string")
	}
	return json.Unmarshal(raw, dst)
}

// DecodeData decodes e.Data strictly into v (a pointer) with the project's
// strict decoder (shared/strictjson): unknown, wrongly-cased or repeated
// members and trailing data are errors.
func (e CloudEvent) DecodeData(v any) error {
	if err := decodeStrict(e.Data, v); err != nil {
		return fmt.Errorf("events: data of %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}
