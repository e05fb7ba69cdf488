package lambdakit

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// patient is a LogValuer that logs as a group holding personal fields.
type patient struct{ id, name, phone string }

func (p patient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.id), slog.String("name", p.name), slog.String("phone", p.phone))
}

func TestNewLoggerRedactsPersonalKeys(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelInfo).With("patientName", "สมชาย ใจดี", "route", "book")
	log.Info("booked",
		"name", "Somchai",
		"phone", "0812345678",
		"email", "somchai@example.com",
		"nationalId", "1103700012345",
		"national_id", "1103700012345",
		"notes", "allergic to penicillin",
		"token", "device-token-123456",
		"Authorization", "Bearer eyJ",
		"body", `{"x":1}`,
		"to", "+66812345678",
		"address", "99 Sukhumvit",
		"contactEmail", "a@b.c",
		"appointmentId", "apt-1",
		"functionName", "book-fn",
		"reason", "MALFORMED",
		slog.Group("caller", "role", "patient", "email", "x@y.z"),
		"patient", patient{id: "p-1", name: "Somchai", phone: "0812345678"},
	)
	out := buf.String()
	for _, secret := range []string{"สมชาย", "Somchai", "0812345678", "somchai@example.com", "1103700012345", "penicillin",
		"device-token", "eyJ", `{\"x\":1}`, "+66812345678", "Sukhumvit", "a@b.c", "x@y.z"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line carries %q:\n%s", secret, out)
		}
	}
	lines := jsonLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("want one line, got %s", out)
	}
	l := lines[0]
	for _, k := range []string{"patientName", "name", "phone", "email", "nationalId", "national_id", "notes", "token", "Authorization", "body", "to", "address", "contactEmail"} {
		if l[k] != Redacted {
			t.Errorf("%s = %v, want %q", k, l[k], Redacted)
		}
	}
	for k, want := range map[string]string{"appointmentId": "apt-1", "functionName": "book-fn", "reason": "MALFORMED", "route": "book", "message": "booked"} {
		if l[k] != want {
			t.Errorf("%s = %v, want %q kept", k, l[k], want)
		}
	}
	caller, _ := l["caller"].(map[string]any)
	if caller["role"] != "patient" || caller["email"] != Redacted {
		t.Errorf("group caller = %v, want role kept and email redacted", l["caller"])
	}
	p, _ := l["patient"].(map[string]any)
	if p["id"] != "p-1" || p["name"] != Redacted || p["phone"] != Redacted {
		t.Errorf("LogValuer patient = %v, want id kept, name and phone redacted", l["patient"])
	}
}

func TestRedactingHandlerInsideGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(RedactingHandler(slog.NewJSONHandler(&buf, nil))).WithGroup("req").With("email", "a@b.c", "id", "r1")
	log.Info("x", "to", "0812345678")
	l := jsonLines(t, &buf)[0]
	req, _ := l["req"].(map[string]any)
	if req["email"] != Redacted || req["to"] != Redacted || req["id"] != "r1" {
		t.Errorf("group req = %v", l["req"])
	}
}

func TestPersonalLogKey(t *testing.T) {
	for _, k := range []string{"name", "Name", "patientName", "patient_name", "phone", "phoneNumber", "email", "nationalId",
		"national_id", "National-ID", "notes", "token", "deviceToken", "authorization", "body", "to", "address", "homeAddress", "dateOfBirth"} {
		if !PersonalLogKey(k) {
			t.Errorf("PersonalLogKey(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"requestId", "function", "functionName", "queueName", "route", "status", "code", "error", "reason",
		"durationMs", "eventType", "appointmentId", "branchId", "traceId", "total"} {
		if PersonalLogKey(k) {
			t.Errorf("PersonalLogKey(%q) = true, want false", k)
		}
	}
}
