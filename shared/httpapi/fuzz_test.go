package httpapi

import (
	"encoding/base64"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// FuzzDecodeBookRequest feeds arbitrary bodies (plain or base64) through the
// booking request path: body reading, strict decoding and field checks. It must
// never panic, every error must be VALIDATION_FAILED or PAYLOAD_TOO_LARGE, and
// every success must carry a branch, a service and a start with an offset.
func FuzzDecodeBookRequest(f *testing.F) {
	ev := bookEvent(f)
	f.Add(ev.Body, false)
	f.Add(base64.StdEncoding.EncodeToString([]byte(ev.Body)), true)
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"branchId":"b","serviceId":"s","start":"2025-03-10T09:00:00Z"}`,
		`{"branchId":"b","serviceId":"s","start":"2025-03-10T09:00:00"}`,
		`{"branchId":"b","serviceId":"s","start":"2025-03-10T09:00:00+07:00"} {}`,
		`{"patient":{"id":1}}`, `{"patient":{"x":1}}`, `{"branchId":"\ud800"}`, `{"start":"9999-99-99T99:99:99+99:99"}`,
		`{"branchId":"b","serviceId":"s","start":"2025-03-10T09:00:00.123456789-03:30","notes":"\u0000"}`,
	} {
		f.Add(s, false)
	}
	const max = 2048
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		e := ev
		e.Body, e.IsBase64Encoded = body, b64
		raw, err := readBody(&e, max)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		in, err := decodeBookInput(&Request{Event: &e, Actor: domain.Actor{Role: domain.RolePatient}, body: raw})
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if in.BranchID == "" || in.ServiceID == "" || in.Start.IsZero() || in.Start.Location() == nil {
			t.Fatalf("accepted an incomplete booking: %+v from %q", in, body)
		}
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	switch apperr.CodeOf(err) {
	case apperr.Validation, apperr.PayloadTooLarge:
		if apperr.MessageOf(err) == "" {
			t.Fatalf("error without a message: %v", err)
		}
	default:
		t.Fatalf("decode error has code %s: %v", apperr.CodeOf(err), err)
	}
}
