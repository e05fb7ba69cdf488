package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
)

// readBody returns the request body, base64-decoded when API Gateway marked it
// so, and refuses bodies over max bytes (after decoding) with PAYLOAD_TOO_LARGE.
func readBody(ev *events.APIGatewayV2HTTPRequest, max int64) ([]byte, error) {
	if ev.Body == "" {
		return nil, nil
	}
	tooLarge := apperr.E(apperr.PayloadTooLarge, "request body exceeds %d bytes", max)
	if !ev.IsBase64Encoded {
		if int64(len(ev.Body)) > max {
			return nil, tooLarge
		}
		return []byte(ev.Body), nil
	}
	// Refuse before decoding so an oversized body costs no allocation.
	if int64(base64.StdEncoding.DecodedLen(len(ev.Body))) > max+2 {
		return nil, tooLarge
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, apperr.E(apperr.Validation, "request body is not valid base64")
	}
	if int64(len(b)) > max {
		return nil, tooLarge
	}
	return b, nil
}

// errBodyRequired is returned when a route needs a body and got none.
var errBodyRequired = apperr.E(apperr.Validation, "request body is required")

// decodeStrict decodes body, which must be exactly one JSON object, into v
// (a pointer to a struct), refusing unknown fields. Every error is
// VALIDATION_FAILED with a message that names the offending field where there
// is one.
func decodeStrict(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return errBodyRequired
	}
	if trimmed[0] != '{' {
		return apperr.E(apperr.Validation, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// Exactly one value: `{"a":1}{"a":2}` or `{} x` is refused, not half-read.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.E(apperr.Validation, "request body must contain a single JSON object")
	}
	return nil
}

// decodeError turns an encoding/json error into a client-safe VALIDATION_FAILED.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apperr.E(apperr.Validation, "request body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apperr.E(apperr.Validation, "request body is not valid JSON (truncated)")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apperr.E(apperr.Validation, "request body must be a JSON object")
		}
		return apperr.E(apperr.Validation, "field %q must be %s", typ.Field, jsonKind(typ.Type))
	}
	// encoding/json reports unknown fields as a plain error: `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apperr.E(apperr.Validation, "unknown field %s", name)
	}
	return apperr.E(apperr.Validation, "request body is invalid")
}

var timeType = reflect.TypeFor[time.Time]()

// jsonKind describes the JSON a Go type expects, for error messages.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 date-time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// canonicalJSON returns body re-encoded so that whitespace and member order do
// not change it (numbers keep their literal text). A body that is not a single
// JSON value is returned as is: it will fail validation anyway.
func canonicalJSON(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
