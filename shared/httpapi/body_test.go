package httpapi

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
)

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		b64     bool
		status  int
		code    string
		message string // substring of the message
	}{
		{"unknown top-level field", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00","patient":{"id":"p","name":"n"},"price":0}`, false, 400, "VALIDATION_FAILED", `unknown field "price"`},
		{"unknown nested field", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00","patient":{"id":"p","name":"n","ssn":"x"}}`, false, 400, "VALIDATION_FAILED", `unknown field "ssn"`},
		{"server-owned field", `{"id":"apt_x","branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00"}`, false, 400, "VALIDATION_FAILED", `unknown field "id"`},
		{"trailing object", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00"}{"branchId":"br_02"}`, false, 400, "VALIDATION_FAILED", "single JSON object"},
		{"trailing garbage", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00"} x`, false, 400, "VALIDATION_FAILED", "single JSON object"},
		{"type error names the field", `{"branchId":7}`, false, 400, "VALIDATION_FAILED", `field "branchId" must be a string`},
		{"nested type error names the path", `{"branchId":"b","patient":{"name":["x"]}}`, false, 400, "VALIDATION_FAILED", `field "patient.name" must be a string`},
		{"wrongly-cased field", `{"BranchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00"}`, false, 400, "VALIDATION_FAILED", `unknown field "BranchId" (did you mean "branchId"?)`},
		{"repeated field", `{"branchId":"br_01","serviceId":"s","branchId":"br_02","start":"2025-03-10T09:00:00+07:00"}`, false, 400, "VALIDATION_FAILED", `field "branchId" appears twice`},
		{"repeated nested field", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00+07:00","patient":{"id":"p","id":"q"}}`, false, 400, "VALIDATION_FAILED", `field "patient.id" appears twice`},
		{"invalid UTF-8", "{\"branchId\":\"br\xff\",\"serviceId\":\"s\",\"start\":\"2025-03-10T09:00:00+07:00\"}", false, 400, "VALIDATION_FAILED", "invalid UTF-8 at byte 15"},
		{"array body", `[{"branchId":"b"}]`, false, 400, "VALIDATION_FAILED", "JSON object"},
		{"null body", `null`, false, 400, "VALIDATION_FAILED", "JSON object"},
		{"empty body", ``, false, 400, "VALIDATION_FAILED", "body is required"},
		{"whitespace body", " \n\t", false, 400, "VALIDATION_FAILED", "body is required"},
		{"truncated", `{"branchId":"b"`, false, 400, "VALIDATION_FAILED", "not valid JSON"},
		{"syntax error", `{"branchId":'b'}`, false, 400, "VALIDATION_FAILED", "not valid JSON"},
		{"too large", `{"notes":"` + strings.Repeat("x", 1100) + `"}`, false, 413, "PAYLOAD_TOO_LARGE", "1024 bytes"},
		{"too large after base64 decoding", base64.StdEncoding.EncodeToString([]byte(`{"notes":"` + strings.Repeat("x", 1100) + `"}`)), true, 413, "PAYLOAD_TOO_LARGE", ""},
		{"bad base64", `not base64!`, true, 400, "VALIDATION_FAILED", "base64"},
		{"start without offset", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10T09:00:00"}`, false, 400, "VALIDATION_FAILED", "UTC offset"},
		{"start as a date", `{"branchId":"br_01","serviceId":"s","start":"2025-03-10"}`, false, 400, "VALIDATION_FAILED", "UTC offset"},
		{"missing start", `{"branchId":"br_01","serviceId":"s"}`, false, 400, "VALIDATION_FAILED", "start is required"},
		{"missing branch", `{"serviceId":"s","start":"2025-03-10T09:00:00Z"}`, false, 400, "VALIDATION_FAILED", "branchId is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			ev := bookEvent(t)
			ev.Body, ev.IsBase64Encoded = tt.body, tt.b64
			d := expectError(t, h.serve(t, BookAppointment(h.svc), ev), tt.status, tt.code)
			if !strings.Contains(d.Message, tt.message) {
				t.Errorf("message %q does not contain %q", d.Message, tt.message)
			}
			if h.svc.count("Book") != 0 {
				t.Error("an invalid request reached the use case")
			}
		})
	}
}

// messageLike decodes through its own method, whose error reads exactly like
// encoding/json's unknown-field message.
type messageLike struct{}

func (*messageLike) UnmarshalJSON([]byte) error { return errors.New(`json: unknown field "ssn"`) }

// TestDecodeErrorsAreNotReadFromText fails if decodeStrict went back to
// reading encoding/json's message text: an error that only reads like an
// unknown field is not reported as one.
func TestDecodeErrorsAreNotReadFromText(t *testing.T) {
	var v struct {
		Name string      `json:"name"`
		M    messageLike `json:"m"`
	}
	err := decodeStrict([]byte(`{"name":"n","m":{}}`), &v)
	if apperr.CodeOf(err) != apperr.Validation {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "ssn") || !strings.Contains(err.Error(), "request body is invalid") {
		t.Fatalf("the message came from an error's text: %v", err)
	}
	// A member whose name is encoding/json's message text is named as it is.
	err = decodeStrict([]byte(`{"name":"n","json: unknown field \"name\"":1}`), &v)
	if !strings.Contains(err.Error(), `unknown field "json: unknown field \"name\""`) {
		t.Fatalf("err = %v", err)
	}
}

func TestBase64BodyIsDecoded(t *testing.T) {
	h := newHarness()
	resp := h.serve(t, CancelAppointment(h.svc), loadEvent(t, "apigw-v2-cancel-base64.json"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	c := h.svc.last()
	if c.method != "Cancel" || c.args[0] != "apt_01hq3m" || c.args[1] != "patient called" {
		t.Errorf("call = %+v", c)
	}
}

func TestBookBodyIsPassedThrough(t *testing.T) {
	h := newHarness()
	resp := h.serve(t, BookAppointment(h.svc), bookEvent(t))
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	c := h.svc.last()
	in := c.args[0].(app.BookInput)
	if in.BranchID != "br_01" || in.ServiceID != "svc_blood" || in.Notes != "fasting" ||
		in.Patient.Name != "Somchai P." || in.Patient.Locale != "th" || in.Patient.Email != "somchai@example.com" {
		t.Errorf("BookInput = %+v", in)
	}
	if _, off := in.Start.Zone(); off != 7*3600 || in.Start.Hour() != 9 {
		t.Errorf("start = %v, want 09:00 at +07:00", in.Start)
	}
	if c.actor.PatientID != "pat_01hq3k5v8xw2" {
		t.Errorf("actor = %+v", c.actor)
	}
}

func TestCanonicalJSON(t *testing.T) {
	a := canonicalJSON([]byte(`{ "b": 1, "a": {"y": [1, 2.50], "x": "s"} }`))
	b := canonicalJSON([]byte(`{"a":{"x":"s","y":[1,2.50]},"b":1}`))
	if string(a) != string(b) {
		t.Errorf("canonical forms differ: %s vs %s", a, b)
	}
	if string(canonicalJSON([]byte(`{"a":1} trailing`))) != `{"a":1} trailing` {
		t.Error("an invalid body must be kept as is")
	}
	if canonicalJSON(nil) != nil || canonicalJSON([]byte("  ")) != nil {
		t.Error("an empty body has an empty canonical form")
	}
}
