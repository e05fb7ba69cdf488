package events

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events/eventcontract"
)

const (
	contractDir = "../../docs/contracts/events"
	examplesDir = "../../testdata/events-out"
)

var update = flag.Bool("update", false, "rewrite testdata/events-out from the example fixtures")

var (
	contractOnce sync.Once
	contract     *eventcontract.Contract
	contractErr  error
)

func loadContract(t testing.TB) *eventcontract.Contract {
	t.Helper()
	contractOnce.Do(func() { contract, contractErr = eventcontract.Load(contractDir) })
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	return contract
}

// The personal values of the example fixture: none may reach an event.
var personal = []string{"Somchai Jaidee", "+66812345678", "somchai@example.com", "allergic to latex", "hemolysed, patient 1101700203451", "งดอาหาร"}

func mustMoney(t testing.TB, v, cur string) domain.Money {
	m, err := domain.ParseMoney(v, cur)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// exampleEvent is the domain event behind testdata/events-out/<type>.json:
// an appointment with every personal field set, in the state the type
// reports.
func exampleEvent(t testing.TB, typ string) domain.Event {
	bkk := time.FixedZone("+07:00", 7*3600)
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, bkk)
	booked := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)
	a := domain.Appointment{
		ID: "apt_01kbd2x5m1a3c5e7g9j1k3m5n7", Status: domain.StatusBooked,
		BranchID: "br_01kb0000000000000000000000", ServiceID: "svc_01kb0000000000000000000000",
		Start: start, End: start.Add(15 * time.Minute),
		Patient:   domain.Patient{ID: "p-1001", Name: "Somchai Jaidee", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
		Notes:     "allergic to latex",
		Resources: []string{"res_01kb0000000000000000000000"},
		Preparation: domain.Preparation{FastingHours: 8,
			Instructions: map[string]string{"th": "งดอาหาร", "en": "Water only after midnight"}},
		Version: 1, CreatedAt: booked, UpdatedAt: booked,
	}
	at := booked
	next := func(s domain.Status, d time.Duration) {
		at = at.Add(d)
		a.Status, a.Version, a.UpdatedAt = s, a.Version+1, at
	}
	lab := func(status domain.SampleStatus, recollect bool) {
		a.LabOrders = []domain.LabOrder{{ID: "LO-778812", AppointmentID: a.ID, RecollectionNeeded: recollect, Samples: []domain.Sample{
			{ID: "LO-778812-1", Status: status, UpdatedAt: start.Add(20 * time.Minute).UTC(), Sequence: 3, Reason: "hemolysed, patient 1101700203451"},
		}}}
	}
	bill := domain.Billing{OrderID: "POS-2026-000123", AppointmentID: a.ID, BranchID: a.BranchID, Status: domain.BillingCreated,
		Amount: mustMoney(t, "1250.00", "THB"), CreatedAt: start.Add(-time.Hour).UTC()}
	switch typ {
	case domain.EventAppointmentRescheduled:
		a.Start, a.End = a.Start.Add(24*time.Hour), a.End.Add(24*time.Hour)
		next(domain.StatusBooked, time.Hour)
	case domain.EventAppointmentCancelled:
		next(domain.StatusCancelled, time.Hour)
		a.Resources = []string{"res_01kb0000000000000000000000"}
	case domain.EventAppointmentCheckedIn:
		next(domain.StatusCheckedIn, 142*time.Hour)
	case domain.EventAppointmentCompleted:
		next(domain.StatusCheckedIn, 142*time.Hour)
		next(domain.StatusCompleted, 30*time.Minute)
	case domain.EventAppointmentNoShow:
		next(domain.StatusNoShow, 143*time.Hour)
	case domain.EventAppointmentSampleStatusChanged:
		next(domain.StatusCompleted, 142*time.Hour)
		lab(domain.SampleReceived, false)
		next(domain.StatusCompleted, time.Hour)
	case domain.EventAppointmentRecollectionNeeded:
		next(domain.StatusCompleted, 142*time.Hour)
		lab(domain.SampleRejected, true)
		next(domain.StatusCompleted, 2*time.Hour)
	case domain.EventAppointmentResultsReady:
		next(domain.StatusCompleted, 142*time.Hour)
		lab(domain.SampleResulted, false)
		next(domain.StatusCompleted, 6*time.Hour)
	case domain.EventAppointmentBillingChanged:
		a.Billing = []domain.Billing{bill}
		next(domain.StatusBooked, 141*time.Hour)
	case domain.EventAppointmentPaymentConfirmed, domain.EventAppointmentPaymentRefunded:
		bill.Status, bill.PaymentMethod, bill.PaidAt = domain.BillingPaid, "promptpay", start.Add(-50*time.Minute).UTC()
		if typ == domain.EventAppointmentPaymentRefunded {
			bill.Status = domain.BillingRefunded
			bill.Refunds = []domain.Refund{{EventID: "pos-evt-000981", Amount: mustMoney(t, "250.00", "THB"), At: start.Add(2 * time.Hour).UTC()}}
		}
		a.Billing = []domain.Billing{bill}
		next(domain.StatusCheckedIn, 142*time.Hour)
	case domain.EventAppointmentReminderDue:
		sendAt := start.Add(-24 * time.Hour)
		return domain.ReminderDueEvent("evt_01kbd2x5m2q4n6p8r0s2t4v6w8", sendAt.UTC(),
			domain.ReminderDue{Appointment: a, LeadMinutes: 1440, SendAt: sendAt})
	}
	return domain.AppointmentEvent("evt_01kbd2x5m2q4n6p8r0s2t4v6w8", typ, at, a)
}

// emit is what the producer records for an example: events.New, encoded.
func emit(t testing.TB, typ string) []byte {
	t.Helper()
	ce, err := New(exampleEvent(t, typ), traceparent)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(ce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleFile(typ string) string { return filepath.Join(examplesDir, typ+".json") }

// TestContractCoversEveryEventType: one schema per event type the domain
// produces, and no schema for a type it does not.
func TestContractCoversEveryEventType(t *testing.T) {
	want := slices.Sorted(slices.Values(domain.EventTypes()))
	if got := loadContract(t).Types(); !slices.Equal(got, want) {
		t.Fatalf("schemas for %v\nevent types %v", got, want)
	}
}

// TestSchemasAreClosed: every object schema in the contract forbids members
// it does not list, so "no personal field" is enforced by validation rather
// than by review.
func TestSchemasAreClosed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(contractDir, "*.json"))
	objects := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if v["type"] == "object" {
					objects++
					if v["additionalProperties"] != false {
						t.Errorf("%s %s: an object schema without additionalProperties: false", filepath.Base(f), path)
					}
				}
				for k, c := range v {
					walk(path+"/"+k, c)
				}
			case []any:
				for i, c := range v {
					walk(path+"/"+strconv.Itoa(i), c)
				}
			}
		}
		walk("#", doc)
	}
	if objects < 8 {
		t.Fatalf("found %d object schemas; the walk is broken", objects)
	}
}

// TestExamples: testdata/events-out holds one example per type, exactly what
// the producer emits for the example fixture; each passes its schema, decodes
// strictly into the v1 wire types and carries no personal value of the
// fixture. Run with -update to rewrite them.
func TestExamples(t *testing.T) {
	c := loadContract(t)
	for _, typ := range domain.EventTypes() {
		got := emit(t, typ)
		if *update {
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			if err := os.WriteFile(exampleFile(typ), pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		file, err := os.ReadFile(exampleFile(typ))
		if err != nil {
			t.Fatalf("%s: no example: %v", typ, err)
		}
		if !jsonEqual(t, file, got) {
			t.Errorf("%s: the example differs from what the producer emits (go test ./shared/events -run TestExamples -update):\n%s\n%s", typ, file, got)
		}
		if err := c.Validate(file); err != nil {
			t.Errorf("%s: example: %v", typ, err)
		}
		for _, p := range personal {
			if bytes.Contains(file, []byte(p)) {
				t.Errorf("%s: the example carries the personal value %q", typ, p)
			}
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, file)
		ce, err := Decode(compact.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var v1 any = &AppointmentData{}
		if typ == domain.EventAppointmentReminderDue {
			v1 = &ReminderDueData{}
		}
		if err := ce.DecodeData(v1); err != nil {
			t.Errorf("%s: data is not v1: %v", typ, err)
		}
	}
}

func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestPersonalFieldFailsTheContract is the negative control: an event with
// any personal member (the patient's name, phone, email, language, a
// national id, notes) fails its schema, as does an event recorded before v1.
func TestPersonalFieldFailsTheContract(t *testing.T) {
	c := loadContract(t)
	for _, typ := range domain.EventTypes() {
		good := emit(t, typ)
		if err := c.Validate(good); err != nil {
			t.Fatalf("%s: positive control: %v", typ, err)
		}
		patient, data := `"patient":{"id":"p-1001"`, `"data":{`
		if typ == domain.EventAppointmentReminderDue {
			data = `"appointment":{`
		}
		for name, edit := range map[string][2]string{
			"patient.name":   {patient, patient + `,"name":"Somchai Jaidee"`},
			"patient.phone":  {patient, patient + `,"phone":"+66812345678"`},
			"patient.email":  {patient, patient + `,"email":"somchai@example.com"`},
			"patient.locale": {patient, patient + `,"locale":"th"`},
			"nationalId":     {patient, patient + `,"nationalId":"1101700203451"`},
			"notes":          {data, data + `"notes":"allergic to latex",`},
			"preparation":    {data, data + `"preparation":{"fastingHours":8},`},
		} {
			if !bytes.Contains(good, []byte(edit[0])) {
				t.Fatalf("%s: the event lacks %s", typ, edit[0])
			}
			bad := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
			if err := c.Validate(bad); err == nil {
				t.Errorf("%s with %s: accepted", typ, name)
			}
		}
	}
	old, err := os.ReadFile("testdata/appointment-booked.before-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(old); err == nil {
		t.Error("an event recorded before v1 (the whole appointment) passes the v1 schema")
	}
}

// TestEmitNeverCarriesPersonalData: events.New for every type, from an
// appointment with every personal field set, passes the type's schema and
// carries none of them (the mapping, not the example, is under test).
func TestEmitNeverCarriesPersonalData(t *testing.T) {
	c := loadContract(t)
	for _, typ := range domain.EventTypes() {
		ev := exampleEvent(t, typ)
		b := emit(t, typ)
		if err := c.Validate(b); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		for _, p := range personal {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s carries %q: %s", typ, p, b)
			}
		}
		if ev.Subject == "" {
			t.Fatalf("%s: no subject", typ)
		}
	}
}

// TestUpgrade: a record written before v1 is published in v1 (valid, no
// personal value, same id and attributes); a v1 record is unchanged byte for
// byte; a type the domain does not produce is left alone.
func TestUpgrade(t *testing.T) {
	c := loadContract(t)
	old, err := Decode(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	up, err := Upgrade(old)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := Encode(up)
	if err := c.Validate(body); err != nil {
		t.Fatalf("upgraded: %v\n%s", err, body)
	}
	for _, p := range []string{"Somchai", "+66812345678", "งดอาหาร", "preparation"} {
		if bytes.Contains(body, []byte(p)) {
			t.Fatalf("upgraded event carries %q: %s", p, body)
		}
	}
	if up.ID != old.ID || up.Type != old.Type || !up.Time.Equal(old.Time) || up.TraceParent != old.TraceParent || up.Subject != old.Subject {
		t.Fatalf("attributes changed: %+v", up)
	}
	for _, typ := range domain.EventTypes() {
		ce, err := Decode(emit(t, typ))
		if err != nil {
			t.Fatal(err)
		}
		again, err := Upgrade(ce)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !bytes.Equal(again.Data, ce.Data) {
			t.Errorf("%s: v1 data changed:\n%s\n%s", typ, ce.Data, again.Data)
		}
	}
	other := CloudEvent{SpecVersion: SpecVersion, ID: "x", Source: Source, Type: "order.paid", Time: time.Now(), DataContentType: ContentTypeJSON, Data: json.RawMessage(`{"any":1}`)}
	if got, err := Upgrade(other); err != nil || string(got.Data) != `{"any":1}` {
		t.Fatalf("other type: %s %v", got.Data, err)
	}
	broken := old
	broken.Data = json.RawMessage(`{"id":"apt_1","surprise":true}`)
	if _, err := Upgrade(broken); err == nil {
		t.Fatal("data of neither shape upgraded")
	}
}
