package apicheck

import "testing"

func TestValidateResponse(t *testing.T) {
	spec, err := Load("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"id":"apt_1","status":"booked","branchId":"br_1","serviceId":"svc_1","start":"2026-12-01T08:00:00+07:00","end":"2026-12-01T08:15:00+07:00","patient":{"id":"p1","name":"A","locale":"th"},"resources":["res_1"],"preparation":{"fastingHours":8},"version":1,"createdAt":"2026-11-25T01:00:00Z","updatedAt":"2026-11-25T01:00:00Z"}`
	if err := spec.ValidateResponse("POST", "/v1/appointments", 201, []byte(good)); err != nil {
		t.Fatalf("valid appointment rejected: %v", err)
	}
	cases := map[string]string{
		"extra field":    `{"id":"apt_1","extra":1}`,
		"no offset":      `{"id":"apt_1","status":"booked","branchId":"b","serviceId":"s","start":"2026-12-01T08:00:00","end":"2026-12-01T08:15:00+07:00","patient":{"id":"p","name":"A"},"resources":[],"preparation":{"fastingHours":0},"version":1,"createdAt":"2026-11-25T01:00:00Z","updatedAt":"2026-11-25T01:00:00Z"}`,
		"unknown status": `{"id":"apt_1","status":"lost","branchId":"b","serviceId":"s","start":"2026-12-01T08:00:00+07:00","end":"2026-12-01T08:15:00+07:00","patient":{"id":"p","name":"A"},"resources":[],"preparation":{"fastingHours":0},"version":1,"createdAt":"2026-11-25T01:00:00Z","updatedAt":"2026-11-25T01:00:00Z"}`,
		"not json":       `<html>`,
	}
	for name, body := range cases {
		if err := spec.ValidateResponse("POST", "/v1/appointments", 201, []byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := spec.ValidateResponse("POST", "/v1/appointments", 409, []byte(`{"error":{"code":"SLOT_UNAVAILABLE","message":"m","requestId":"r"}}`)); err != nil {
		t.Errorf("error envelope rejected: %v", err)
	}
	if err := spec.ValidateResponse("POST", "/v1/appointments", 409, []byte(`{"error":{"code":"NOPE","message":"m","requestId":"r"}}`)); err == nil {
		t.Error("unknown error code accepted")
	}
	if err := spec.ValidateResponse("GET", "/v1/nowhere", 200, []byte(`{}`)); err == nil {
		t.Error("undescribed path accepted")
	}
	if len(spec.Operations()) != 29 {
		t.Errorf("operations = %d, want 29", len(spec.Operations()))
	}
}
