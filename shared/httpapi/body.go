package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/strictjson"
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
// (a pointer to a struct) with the project's strict decoder: no unknown,
// wrongly-cased or repeated member names, no values of the wrong JSON type.
// Every error is VALIDATION_FAILED with a message chosen by the kind of
// problem (never by an error's text) that names the offending field where
// there is one.
func decodeStrict(body []byte, v any) error {
	err := strictjson.Decode(body, v, strictjson.Options{})
	if err == nil {
		return nil
	}
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return apperr.E(apperr.Validation, "request body is invalid")
	}
	switch e.Kind {
	case strictjson.Empty:
		return errBodyRequired
	case strictjson.NotObject:
		return apperr.E(apperr.Validation, "request body must be a JSON object")
	case strictjson.InvalidUTF8:
		return apperr.E(apperr.Validation, "request body is not valid JSON (invalid UTF-8 at byte %d)", e.Offset)
	case strictjson.Syntax:
		return apperr.E(apperr.Validation, "request body is not valid JSON (at byte %d)", e.Offset)
	case strictjson.Truncated:
		return apperr.E(apperr.Validation, "request body is not valid JSON (truncated)")
	case strictjson.TrailingData:
		// `{"a":1}{"a":2}` or `{} x` is refused, not half-read.
		return apperr.E(apperr.Validation, "request body must contain a single JSON object")
	case strictjson.TooDeep:
		return apperr.E(apperr.Validation, "request body nests deeper than %d levels", e.Limit)
	case strictjson.DuplicateMember:
		return apperr.E(apperr.Validation, "field %s appears twice", strictjson.QuoteName(e.Path))
	case strictjson.UnknownMember:
		return apperr.E(apperr.Validation, "unknown field %s", strictjson.QuoteName(e.Name))
	case strictjson.WrongCase:
		return apperr.E(apperr.Validation, "unknown field %s (did you mean %s?)", strictjson.QuoteName(e.Name), strictjson.QuoteName(e.Want))
	case strictjson.WrongType:
		if e.Path == "" {
			return apperr.E(apperr.Validation, "request body must be a JSON object")
		}
		return apperr.E(apperr.Validation, "field %s must be %s", strictjson.QuoteName(e.Path), e.Want)
	}
	return apperr.E(apperr.Validation, "request body is invalid")
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
