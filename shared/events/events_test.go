package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func sample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/appointment-booked.before-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// TestTestdataRoundTrip decodes the published shape, checks every attribute
// and that re-encoding gives the same bytes.
func TestTestdataRoundTrip(t *testing.T) {
	b := sample(t)
	e, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if e.SpecVersion != "1.0" || e.Source != Source || e.Type != domain.EventAppointmentBooked ||
		e.Subject != "apt_01kbd2x5m1a3c5e7g9j1k3m5n7" || e.DataContentType != ContentTypeJSON || e.TraceParent != traceparent ||
		!e.Time.Equal(time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)) {
		t.Fatalf("decoded %+v", e)
	}
	var a domain.Appointment
	if err := e.DecodeData(&a); err != nil {
		t.Fatal(err)
	}
	if a.ID != e.Subject || a.Status != domain.StatusBooked || a.Preparation.Instructions["th"] != "งดอาหาร" {
		t.Fatalf("data %+v", a)
	}
	out, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("re-encoded:\n%s\nwant\n%s", out, b)
	}
}

func TestNewFromDomainEvent(t *testing.T) {
	bkk := time.FixedZone("+07", 7*3600)
	a := domain.Appointment{ID: "apt_1", Status: domain.StatusCancelled, Start: time.Date(2026, 12, 1, 8, 0, 0, 0, bkk),
		Patient: domain.Patient{ID: "p-1", Name: "A <&> B"}, Resources: []string{}, Version: 2}
	at := time.Date(2026, 11, 25, 17, 0, 0, 5e6, bkk)
	e, err := New(domain.AppointmentEvent("evt_1", domain.EventAppointmentCancelled, at, a), "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(AppointmentDataOf(a))
	if !bytes.Equal(e.Data, want) || strings.Contains(string(e.Data), "A <&> B") {
		t.Fatalf("data %s, want exactly %s", e.Data, want)
	}
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"time":"2026-11-25T10:00:00.005Z"`) || strings.Contains(string(b), "traceparent") {
		t.Fatalf("encoded %s", b)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Encode(back)
	if !bytes.Equal(again, b) {
		t.Fatalf("round trip:\n%s\n%s", again, b)
	}
	// Data without a wire type, data that does not fit the type, and
	// envelopes that do not validate.
	for name, ev := range map[string]domain.Event{
		"func":                {ID: "evt_2", Type: "x.y", Time: at, Data: func() {}},
		"nil":                 {ID: "evt_2", Type: "x.y", Time: at, Data: nil},
		"map":                 {ID: "evt_2", Type: domain.EventAppointmentBooked, Time: at, Data: map[string]any{"id": "apt_1"}},
		"reminder as booking": {ID: "evt_2", Type: domain.EventAppointmentBooked, Time: at, Data: domain.ReminderDue{Appointment: a}},
		"booking as reminder": {ID: "evt_2", Type: domain.EventAppointmentReminderDue, Time: at, Data: a},
		"type not dotted":     {ID: "evt_2", Type: "booked", Time: at, Subject: a.ID, Data: a},
		"no time":             {ID: "evt_2", Type: domain.EventAppointmentBooked, Subject: a.ID, Data: a},
	} {
		if _, err := New(ev, ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(domain.Event{ID: "evt_2", Type: domain.EventAppointmentBooked, Subject: a.ID, Data: a}, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no time: %v", err)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	good := string(sample(t))
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("fixture lacks %s", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	for name, in := range map[string]string{
		"empty":                  ``,
		"array":                  `[]`,
		"trailing":               good + `{}`,
		"unknown attribute":      edit(`"specversion":"1.0"`, `"specversion":"1.0","partitionkey":"x"`),
		"case":                   edit(`"specversion"`, `"SpecVersion"`),
		"duplicate":              edit(`"id":"evt_01kbd2x5m2q4n6p8r0s2t4v6w8"`, `"id":"a","id":"b"`),
		"spec 0.3":               edit(`"specversion":"1.0"`, `"specversion":"0.3"`),
		"id null":                edit(`"id":"evt_01kbd2x5m2q4n6p8r0s2t4v6w8"`, `"id":null`),
		"id number":              edit(`"id":"evt_01kbd2x5m2q4n6p8r0s2t4v6w8"`, `"id":7`),
		"id empty":               edit(`"id":"evt_01kbd2x5m2q4n6p8r0s2t4v6w8"`, `"id":""`),
		"no id":                  edit(`"id":"evt_01kbd2x5m2q4n6p8r0s2t4v6w8",`, ``),
		"no time":                edit(`"time":"2026-11-25T10:00:00.123Z",`, ``),
		"time not rfc3339":       edit(`"time":"2026-11-25T10:00:00.123Z"`, `"time":"2026-11-25 10:00:00"`),
		"type upper":             edit(`"type":"appointment.booked"`, `"type":"Appointment.Booked"`),
		"content type":           edit(`"datacontenttype":"application/json"`, `"datacontenttype":"text/plain"`),
		"no content type":        edit(`"datacontenttype":"application/json",`, ``),
		"traceparent malformed":  edit(traceparent, "00-xyz-01"),
		"traceparent zero trace": edit(traceparent, "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
		"traceparent version ff": edit(traceparent, "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		"data null":              good[:strings.Index(good, `"data":`)] + `"data":null}`,
		"no data":                good[:strings.Index(good, `,"data":`)] + `}`,
		"unterminated":           good[:len(good)-1],
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// Optional attributes may be absent.
	e, err := Decode([]byte(edit(`"traceparent":"`+traceparent+`",`, ``)))
	if err != nil || e.TraceParent != "" {
		t.Fatalf("without traceparent: %v", err)
	}
	if _, err := Decode([]byte(edit(`"subject":"apt_01kbd2x5m1a3c5e7g9j1k3m5n7",`, ``))); err != nil {
		t.Fatalf("without subject: %v", err)
	}
}

func TestDecodeDataIsStrict(t *testing.T) {
	e := CloudEvent{Data: json.RawMessage(`{"id":"apt_1","surprise":true}`)}
	var a domain.Appointment
	if err := e.DecodeData(&a); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestValidTraceParent(t *testing.T) {
	for s, want := range map[string]bool{
		traceparent: true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01": false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01": false,
		"":  false,
		"x": false,
	} {
		if got := ValidTraceParent(s); got != want {
			t.Errorf("ValidTraceParent(%q) = %v", s, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := os.ReadFile("testdata/appointment-booked.before-v1.json")
	f.Add(bytes.TrimSpace(b))
	f.Add([]byte(`{"specversion":"1.0"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Decode(in)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same event.
		out, err := Encode(e)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v\n%s", err, out)
		}
		again, _ := Encode(back)
		if !bytes.Equal(again, out) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}
