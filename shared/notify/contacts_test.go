package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// TestContactsComeFromTheStoreWhenSending: the patient changes their phone,
// email, name and language after the booking was recorded (its event made):
// the confirmation goes to the new phone and address, in the new language,
// with the new name. The job itself carries none of them.
func TestContactsComeFromTheStoreWhenSending(t *testing.T) {
	a := visit()
	f := newFixture(a)
	j := job(t, domain.EventAppointmentBooked, a) // recorded with the old contacts
	body, err := j.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{a.Patient.Phone, a.Patient.Email, a.Patient.Name} {
		if strings.Contains(string(body), personal) {
			t.Fatalf("the job carries %q: %s", personal, body)
		}
	}

	changed := a
	changed.Patient = domain.Patient{ID: a.Patient.ID, Name: "Malee", Phone: "+66899999999", Email: "malee@example.com", Locale: "en"}
	f.store.appts[a.ID] = changed
	if _, err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if len(f.sms.sent) != 1 || len(f.email.sent) != 1 {
		t.Fatalf("sent sms=%d email=%d, want 1 1", len(f.sms.sent), len(f.email.sent))
	}
	sms, mail := f.sms.sent[0], f.email.sent[0]
	if sms.To != "+66899999999" || mail.To != "malee@example.com" {
		t.Fatalf("sent to %s and %s, want the stored +66899999999 and malee@example.com", sms.To, mail.To)
	}
	if !strings.Contains(mail.Content.Text, "Malee") || strings.Contains(mail.Content.Text, "Somchai") {
		t.Fatalf("email does not greet the stored name:\n%s", mail.Content.Text)
	}
	if !strings.Contains(sms.Content.Text, "is confirmed") || strings.ContainsAny(sms.Content.Text, "กขคงจ") {
		t.Fatalf("sms is not in the stored language (en):\n%s", sms.Content.Text)
	}
}

// TestJobBeforeContractV1: a job published before event contract v1 (data:
// the whole appointment, with the patient's contacts) still decodes and is
// delivered; its contacts are not used (the stored ones are).
func TestJobBeforeContractV1(t *testing.T) {
	a := visit()
	f := newFixture(a)
	old := `{"specversion":"1.0","id":"evt_old","source":"urn:labchain:appointments","type":"appointment.booked",` +
		`"time":"2026-11-30T02:30:00Z","subject":"apt_1","datacontenttype":"application/json","data":` +
		`{"id":"apt_1","status":"booked","branchId":"br_1","serviceId":"svc_1","start":"2026-12-02T09:30:00+07:00",` +
		`"end":"2026-12-02T09:45:00+07:00","patient":{"id":"pat_1","name":"Old Name","phone":"+66800000000",` +
		`"email":"old@example.com","locale":"th"},"notes":"knee","resources":["res_1"],` +
		`"preparation":{"fastingHours":8,"instructions":{"en":"Water only"}},"version":1,` +
		`"createdAt":"2026-11-30T02:30:00Z","updatedAt":"2026-11-30T02:30:00Z",` +
		`"labOrders":[{"id":"LO-1","appointmentId":"apt_1","samples":[{"id":"S-1","status":"rejected","updatedAt":"2026-12-02T03:00:00Z","reason":"hemolysed"}],"recollectionNeeded":true}]}}`
	var j Job
	if err := j.UnmarshalJSON([]byte(old)); err != nil {
		t.Fatal(err)
	}
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	want := events.PatientRef{ID: "pat_1"}
	if j.Appointment.Patient != want || j.Appointment.LabOrders[0].Samples[0].Status != "rejected" {
		t.Fatalf("decoded %+v", j.Appointment)
	}
	if _, err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if len(f.sms.sent) != 1 || f.sms.sent[0].To != a.Patient.Phone {
		t.Fatalf("sms %+v, want one to the stored %s", f.sms.sent, a.Patient.Phone)
	}
	// Anything beyond the old shape is still refused.
	if err := j.UnmarshalJSON([]byte(strings.Replace(old, `"notes":"knee"`, `"nationalId":"1101700203451"`, 1))); err == nil {
		t.Fatal("unknown member nationalId accepted")
	}
}
