package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func example(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(examplesDir + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replace rewrites one member of a JSON object body.
func replace(t testing.TB, body []byte, member string, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(m, member)
	} else {
		m[member] = json.RawMessage(raw)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeLIS(t *testing.T) {
	m, err := DecodeLISSampleStatus(example(t, "lis-sample-status/collected-links-appointment.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := LISSampleStatus{SchemaVersion: 1, EventID: "lis-evt-20261201-000131", Type: TypeSampleStatusChanged,
		OccurredAt: time.Date(2026, 12, 1, 1, 21, 5, 0, time.UTC), AppointmentID: "apt_01jdx4m8k2r7v9c3t5w6y8z0ab",
		LabOrderID: "LO-2026-0012345", SampleID: "LO-2026-0012345-EDTA1", Status: domain.SampleCollected, Sequence: 1}
	if !m.OccurredAt.Equal(want.OccurredAt) {
		t.Fatalf("occurredAt %v", m.OccurredAt)
	}
	m.OccurredAt = want.OccurredAt
	if m != want {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
	if m.DedupeKey() != want.EventID {
		t.Fatal("DedupeKey must be the eventId")
	}
	ev := m.SampleEvent()
	if ev.EventID != m.EventID || ev.LabOrderID != m.LabOrderID || ev.Status != m.Status || ev.Sequence != 1 || ev.AppointmentID != m.AppointmentID {
		t.Fatalf("SampleEvent %+v", ev)
	}
	if _, _, _, err := domain.ApplySampleEvent(domain.LabOrder{}, ev); err != nil {
		t.Fatalf("the domain refuses a valid message: %v", err)
	}
}

func TestDecodePOS(t *testing.T) {
	m, err := DecodePOSOrder(example(t, "pos-order/refunded-partial-whole-baht.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.OrderEvent()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != domain.OrderRefunded || ev.Amount != (domain.Money{Minor: 10000, Currency: "THB"}) || ev.Amount.Value() != "100.00" {
		t.Fatalf("OrderEvent %+v", ev)
	}
	if len(m.Items) != 1 || m.Items[0].Qty != 1 || m.Items[0].Price != "100.00" {
		t.Fatalf("items %+v", m.Items)
	}
	// Paid, then this refund: the domain accepts the pair.
	paid, err := DecodePOSOrder(example(t, "pos-order/paid-promptpay.json"))
	if err != nil {
		t.Fatal(err)
	}
	pev, _ := paid.OrderEvent()
	b, _, err := domain.ApplyOrderEvent(domain.Billing{}, pev)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err = domain.ApplyOrderEvent(b, ev)
	if err != nil || b.Status != domain.BillingRefunded || b.RefundedTotal().Value() != "100.00" {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := (POSOrder{Amount: Amount{Value: "1.234", Currency: "THB"}}).OrderEvent(); !apperr.Is(err, apperr.Validation) {
		t.Fatalf("OrderEvent of a bad amount: %v", err)
	}
}

func TestDecodeRoster(t *testing.T) {
	m, err := DecodeCheckupRoster(example(t, "checkup-roster/siam-steel-five-employees.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Participants) != 5 || m.Participants[0].Name != "นางสาวสุภาพร วงศ์สวัสดิ์" || m.Participants[1].PreferredDate != "" {
		t.Fatalf("%+v", m.Participants)
	}
	if err := domain.CheckRosterWindow(m.Window); err != nil {
		t.Fatal(err)
	}
	p, err := domain.PlaceRoster(m.CampaignID, m.Window, m.Participants, []domain.CandidateStart{
		{Date: "2026-12-08", Start: time.Date(2026, 12, 8, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600)), Capacity: 10},
	}, nil)
	if err != nil || len(p.Placed) != 5 {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestIntegersAsJSONNumbers: JSON Schema's integer is a mathematical
// integer, so 1.0 and 1e0 are integers; the decoder agrees.
func TestIntegersAsJSONNumbers(t *testing.T) {
	k := kindNamed(t, "lis-sample-status")
	body := example(t, "lis-sample-status/collected-links-appointment.json")
	for _, tc := range []struct {
		member, raw string
		ok          bool
	}{
		{"schemaVersion", "1.0", true}, {"schemaVersion", "1e0", true}, {"schemaVersion", "10E-1", true},
		{"schemaVersion", "1.5", false}, {"schemaVersion", "-1", false}, {"schemaVersion", "0", false},
		{"schemaVersion", "1e99999", false}, {"schemaVersion", "2.0", false},
		{"sequence", "2.00", true}, {"sequence", "9007199254740991", true}, {"sequence", "9007199254740992", false},
		{"sequence", "0e5", false}, {"sequence", "-0", false}, {"sequence", "0.0000000000000001e16", true},
		{"sequence", "1e-99999", false}, {"sequence", "123456789012345678901234567890", false},
	} {
		b := replace(t, body, tc.member, tc.raw)
		_, err := k.decode(b)
		serr := schemaVerdict(t, k, b)
		if (err == nil) != tc.ok || (serr == nil) != tc.ok {
			t.Errorf("%s=%s: decoder %v, schema %v, want ok=%v", tc.member, tc.raw, err, serr, tc.ok)
		}
	}
	// An integral version above 1 is an unknown version, however written.
	if _, err := k.decode(replace(t, body, "schemaVersion", "2.0")); !apperr.IsUnknownVersion(err) {
		t.Errorf("2.0: %v", err)
	}
}

func TestDecodeLimits(t *testing.T) {
	k := kindNamed(t, "checkup-roster")
	roster := func(n int) []byte {
		m := CheckupRoster{SchemaVersion: 1, EventID: "roster-big", Type: TypeCheckupRoster,
			OccurredAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("", 7*3600)),
			CampaignID: "camp-siamsteel-2026q4", BranchID: "br_bkk_silom", ServiceID: "svc_annual_checkup_basic",
			Window: domain.RosterWindow{From: "2026-12-01", To: "2026-12-31"}}
		for i := 0; i < n; i++ {
			m.Participants = append(m.Participants, domain.RosterParticipant{
				ExternalID: fmt.Sprintf("SSC-%06d", i), Name: "นางสาวสุภาพร วงศ์สวัสดิ์",
				Phone: fmt.Sprintf("+668%08d", i), Email: fmt.Sprintf("employee.%06d@siamsteel.co.th", i),
				Locale: "th", PreferredDate: fmt.Sprintf("2026-12-%02d", 1+i%31)})
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	full := roster(1000)
	if len(full) > MaxBodyBytes {
		t.Fatalf("a realistic roster of 1000 takes %d bytes, over the SQS limit", len(full))
	}
	t.Logf("a realistic roster of 1,000 participants: %d bytes (limit %d)", len(full), MaxBodyBytes)
	if _, err := k.decode(full); err != nil {
		t.Fatal(err)
	}
	if err := schemaVerdict(t, k, full); err != nil {
		t.Fatal(err)
	}
	over := roster(1001)
	if _, err := k.decode(over); !apperr.Is(err, apperr.Validation) || !strings.Contains(err.Error(), "participants") {
		t.Fatalf("1001 participants: %v", err)
	}
	if schemaVerdict(t, k, over) == nil {
		t.Fatal("schema accepts 1001 participants")
	}
	// Over 256 KiB: refused before parsing, even if otherwise valid.
	big := append(bytes.Repeat([]byte(" "), MaxBodyBytes), full...)
	if _, err := k.decode(big); !apperr.Is(err, apperr.Validation) || !strings.Contains(err.Error(), "256 KiB") {
		t.Fatalf("oversized body: %v", err)
	}
	// Not UTF-8.
	bad := bytes.Replace(example(t, "checkup-roster/single-participant-one-day.json"), []byte("Kittipong"), []byte("Kitti\xffpong"), 1)
	if _, err := k.decode(bad); !apperr.Is(err, apperr.Validation) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	// Nesting bound.
	deep := []byte(`{"schemaVersion":1,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`)
	if _, err := k.decode(deep); !apperr.Is(err, apperr.Validation) {
		t.Fatalf("deep nesting: %v", err)
	}
	for _, body := range []string{"", "   ", "null", "[]", `"x"`, "{", "{}"} {
		if _, err := k.decode([]byte(body)); !apperr.Is(err, apperr.Validation) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestUnknownVersion: a newer producer's message is reported as an unknown
// version whatever else it changed, by Decode and by plain json.Unmarshal +
// Validate (as the consumer kit decodes).
func TestUnknownVersion(t *testing.T) {
	body := []byte(`{"schemaVersion":2,"eventId":"e-2","type":"sample.status_changed.v2","labOrder":{"id":"x"},"EVENTID":null}`)
	_, err := DecodeLISSampleStatus(body)
	if !apperr.IsUnknownVersion(err) || !apperr.Is(err, apperr.Validation) {
		t.Fatalf("Decode: %v", err)
	}
	var m LISSampleStatus
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("Unmarshal must leave the version to Validate: %v", err)
	}
	if m.SchemaVersion != 2 || m.DedupeKey() != "e-2" || !apperr.IsUnknownVersion(m.Validate()) {
		t.Fatalf("%+v %v", m, m.Validate())
	}
	for _, v := range []LISSampleStatus{{SchemaVersion: 0}, {SchemaVersion: -1}} {
		if err := v.Validate(); apperr.IsUnknownVersion(err) || !apperr.Is(err, apperr.Validation) {
			t.Errorf("version %d: %v", v.SchemaVersion, err)
		}
	}
}

// TestValidateBuiltValues: Validate also guards values built in Go (a producer
// simulator, a test), so that they encode to schema-valid bodies.
func TestValidateBuiltValues(t *testing.T) {
	good, err := DecodeLISSampleStatus(example(t, "lis-sample-status/rejected-haemolysed-thai-reason.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*LISSampleStatus){
		"zero time":      func(m *LISSampleStatus) { m.OccurredAt = time.Time{} },
		"year 1999":      func(m *LISSampleStatus) { m.OccurredAt = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) },
		"seconds offset": func(m *LISSampleStatus) { m.OccurredAt = m.OccurredAt.In(time.FixedZone("LMT", 6*3600+42*60+4)) },
		"negative seq":   func(m *LISSampleStatus) { m.Sequence = -1 },
		"huge seq":       func(m *LISSampleStatus) { m.Sequence = 1 << 60 },
		"bad utf-8":      func(m *LISSampleStatus) { m.Reason = "a\xffb" },
		"long reason":    func(m *LISSampleStatus) { m.Reason = strings.Repeat("ก", 501) },
		"status":         func(m *LISSampleStatus) { m.Status = "COLLECTED" },
	} {
		m := good
		f(&m)
		if err := m.Validate(); !apperr.Is(err, apperr.Validation) {
			t.Errorf("%s: %v", name, err)
		}
	}
	m := good
	m.Reason = strings.Repeat("ก", 500)
	if err := m.Validate(); err != nil {
		t.Fatalf("500 Thai characters are 500 characters: %v", err)
	}
}
