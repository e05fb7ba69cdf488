package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// The fuzz targets below feed arbitrary input through every request decoder
// not covered by FuzzDecodeBookRequest, inside the real route handlers (over
// fuzzSvc, which accepts everything): nothing may panic, every error must be
// VALIDATION_FAILED or PAYLOAD_TOO_LARGE with a message, and what reaches the
// use case must respect the edge's own checks. Seeds are the bodies and
// queries of testdata/events.

// fuzzSvc implements UseCases, accepting every call and keeping only the last
// arguments of interest (no growth over millions of runs).
type fuzzSvc struct {
	reason string
	start  time.Time
	avail  app.AvailabilityQuery
	list   app.ListQuery
}

var _ UseCases = (*fuzzSvc)(nil)

func (*fuzzSvc) CreateBranch(_ context.Context, _ domain.Actor, in domain.Branch) (domain.Branch, error) {
	return in, nil
}
func (*fuzzSvc) ListBranches(context.Context, domain.Actor) ([]domain.Branch, error) { return nil, nil }
func (*fuzzSvc) GetBranch(context.Context, domain.Actor, string) (domain.Branch, error) {
	return domain.Branch{}, nil
}
func (*fuzzSvc) PutHours(_ context.Context, _ domain.Actor, _ string, h domain.Hours) (domain.Hours, error) {
	return h, nil
}
func (*fuzzSvc) GetHours(context.Context, domain.Actor, string) (domain.Hours, error) {
	return domain.Hours{}, nil
}
func (*fuzzSvc) CreateResource(_ context.Context, _ domain.Actor, _ string, in domain.Resource) (domain.Resource, error) {
	return in, nil
}
func (*fuzzSvc) UpdateResource(context.Context, domain.Actor, string, string, app.ResourcePatch) (domain.Resource, error) {
	return domain.Resource{}, nil
}
func (*fuzzSvc) ListResources(context.Context, domain.Actor, string) ([]domain.Resource, error) {
	return nil, nil
}
func (*fuzzSvc) CreateService(_ context.Context, _ domain.Actor, _ string, in domain.Service) (domain.Service, error) {
	return in, nil
}
func (*fuzzSvc) ListServices(context.Context, domain.Actor, string) ([]domain.Service, error) {
	return nil, nil
}
func (f *fuzzSvc) Availability(_ context.Context, _ domain.Actor, q app.AvailabilityQuery) ([]domain.Slot, error) {
	f.avail = q
	return nil, nil
}
func (*fuzzSvc) Book(context.Context, domain.Actor, app.BookInput) (domain.Appointment, error) {
	return domain.Appointment{}, nil
}
func (*fuzzSvc) GetAppointment(context.Context, domain.Actor, string) (domain.Appointment, error) {
	return domain.Appointment{}, nil
}
func (f *fuzzSvc) ListAppointments(_ context.Context, _ domain.Actor, q app.ListQuery) (app.Page[domain.Appointment], error) {
	f.list = q
	return app.Page[domain.Appointment]{}, nil
}
func (f *fuzzSvc) Reschedule(_ context.Context, _ domain.Actor, _ string, start time.Time) (domain.Appointment, error) {
	f.start = start
	return domain.Appointment{}, nil
}
func (f *fuzzSvc) Cancel(_ context.Context, _ domain.Actor, _, reason string) (domain.Appointment, error) {
	f.reason = reason
	return domain.Appointment{}, nil
}
func (f *fuzzSvc) Transition(_ context.Context, _ domain.Actor, _ string, _ domain.Status, reason string) (domain.Appointment, error) {
	f.reason = reason
	return domain.Appointment{}, nil
}
func (*fuzzSvc) History(context.Context, domain.Actor, string) ([]domain.HistoryEntry, error) {
	return nil, nil
}

// sharedEvent reads a payload 2.0 event of testdata/events at the repository root.
func sharedEvent(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev
}

// fuzzMaxBody is small so that PAYLOAD_TOO_LARGE is reached too.
const fuzzMaxBody = 2048

// bodySeeds are shapes every body decoder should meet.
var bodySeeds = []string{
	``, ` `, `{}`, `null`, `[]`, `"x"`, `1`, `{"a":1}`, `{} {}`, `{"name":1}`, `{"name":null}`,
	`{"name":"\ud800"}`, `{"name":"` + strings.Repeat("x", 3000) + `"}`, `{"hours":[{"day":"mon","open":"25:00","close":"07:00"}]}`,
	`{"weekly":null,"closures":[{"date":"2026-02-30"}]}`, `{"requires":[{"type":"room","count":-1}]}`,
	`{"preparation":{"instructions":{"th":"\u0000"}}}`, `{"start":"9999-99-99T99:99:99+99:99"}`,
	`{"start":"2026-12-02T09:30:00"}`, `{"reason":` + `"` + strings.Repeat("ก", 501) + `"}`, `{"durationMinutes":1e400}`,
	`{"slotMinutes":9223372036854775808}`, `{"active":"yes"}`,
}

// fuzzBody fuzzes the body of route rt, built over a fuzzSvc, starting from the
// testdata event file. check, when set, inspects what reached the use case.
func fuzzBody(f *testing.F, file string, route func(UseCases) Route, check func(t *testing.T, svc *fuzzSvc)) {
	ev := sharedEvent(f, file)
	f.Add(ev.Body, false)
	f.Add(base64.StdEncoding.EncodeToString([]byte(ev.Body)), true)
	for _, s := range bodySeeds {
		f.Add(s, false)
	}
	f.Add("not base64!", true)
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		e := ev
		e.Body, e.IsBase64Encoded = body, b64
		raw, err := readBody(&e, fuzzMaxBody)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		svc := &fuzzSvc{}
		rt := route(svc)
		if _, err := rt.Handle(context.Background(), &Request{Event: &e, Actor: domain.Actor{ID: "u", Role: domain.RoleAdmin}, body: raw}); err != nil {
			checkDecodeError(t, err)
			return
		}
		if check != nil {
			check(t, svc)
		}
	})
}

func FuzzDecodeCreateBranch(f *testing.F) {
	fuzzBody(f, "create-branch.json", func(s UseCases) Route { return CreateBranch(s) }, nil)
}

func FuzzDecodePutHours(f *testing.F) {
	fuzzBody(f, "put-hours.json", func(s UseCases) Route { return PutHours(s) }, nil)
}

func FuzzDecodeCreateResource(f *testing.F) {
	fuzzBody(f, "create-resource.json", func(s UseCases) Route { return CreateResource(s) }, nil)
}

func FuzzDecodeUpdateResource(f *testing.F) {
	fuzzBody(f, "update-resource.json", func(s UseCases) Route { return UpdateResource(s) }, nil)
}

func FuzzDecodeCreateService(f *testing.F) {
	fuzzBody(f, "create-service.json", func(s UseCases) Route { return CreateService(s) }, nil)
}

// FuzzDecodeReschedule: an accepted body always carries a start with an offset.
func FuzzDecodeReschedule(f *testing.F) {
	fuzzBody(f, "reschedule-appointment.json", func(s UseCases) Route { return RescheduleAppointment(s) },
		func(t *testing.T, svc *fuzzSvc) {
			if svc.start.IsZero() || svc.start.Location() == nil {
				t.Fatalf("accepted a reschedule without a usable start: %v", svc.start)
			}
		})
}

// checkReason: an accepted reason is trimmed and at most MaxReasonLength characters.
func checkReason(t *testing.T, svc *fuzzSvc) {
	if n := utf8.RuneCountInString(svc.reason); n > MaxReasonLength {
		t.Fatalf("accepted a reason of %d characters", n)
	}
	if svc.reason != strings.TrimSpace(svc.reason) {
		t.Fatalf("reason %q is not trimmed", svc.reason)
	}
}

func FuzzDecodeCancelReason(f *testing.F) {
	fuzzBody(f, "cancel-appointment.json", func(s UseCases) Route { return CancelAppointment(s) }, checkReason)
}

func FuzzDecodeTransitionReason(f *testing.F) {
	fuzzBody(f, "no-show-appointment.json", func(s UseCases) Route { return NoShow(s) }, checkReason)
}

// FuzzAvailabilityQuery fuzzes GET /v1/availability's query: an accepted
// query has all four parameters, trimmed.
func FuzzAvailabilityQuery(f *testing.F) {
	ev := sharedEvent(f, "get-availability.json")
	q := ev.QueryStringParameters
	f.Add(q["branchId"], q["serviceId"], q["from"], q["to"])
	f.Add("", "", "", "")
	f.Add(" ", "svc", "2026-12-01", "2026-12-01,2026-12-02")
	f.Add("br", "svc", "9999-99-99", "\x00")
	f.Fuzz(func(t *testing.T, branchID, serviceID, from, to string) {
		e := ev
		e.QueryStringParameters = map[string]string{"branchId": branchID, "serviceId": serviceID, "from": from, "to": to}
		svc := &fuzzSvc{}
		if _, err := GetAvailability(svc).Handle(context.Background(), &Request{Event: &e, Actor: domain.Actor{ID: "u", Role: domain.RoleAdmin}}); err != nil {
			checkDecodeError(t, err)
			return
		}
		for _, v := range []string{svc.avail.BranchID, svc.avail.ServiceID, svc.avail.From, svc.avail.To} {
			if v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("accepted query %+v", svc.avail)
			}
		}
	})
}

// FuzzListAppointmentsQuery fuzzes GET /v1/appointments's query: an accepted
// query selects by branch and date or by patient (never both, never neither),
// with a limit of 1..MaxListLimit.
func FuzzListAppointmentsQuery(f *testing.F) {
	ev := sharedEvent(f, "list-appointments.json")
	q := ev.QueryStringParameters
	f.Add(q["branchId"], q["date"], "", q["limit"], "", true)
	f.Add("", "", "p-1", "", "", false)
	f.Add("br", "", "p-1", "0", "c", true)
	f.Add("br", "2026-12-01", "", " 100 ", "", true)
	f.Add("br", "2026-12-01", "", "101", "", true)
	f.Add("br", "2026-12-01", "", "-1", "", true)
	f.Add("br", "2026-12-01", "", "99999999999999999999", "", true)
	f.Add(" ", " ", " ", "", "", true)
	f.Fuzz(func(t *testing.T, branchID, date, patientID, limit, cursor string, hasLimit bool) {
		e := ev
		e.QueryStringParameters = map[string]string{"branchId": branchID, "date": date, "patientId": patientID, "cursor": cursor}
		if hasLimit {
			e.QueryStringParameters["limit"] = limit
		}
		svc := &fuzzSvc{}
		if _, err := ListAppointments(svc).Handle(context.Background(), &Request{Event: &e, Actor: domain.Actor{ID: "u", Role: domain.RoleAdmin}}); err != nil {
			checkDecodeError(t, err)
			return
		}
		l := svc.list
		byBranch, byPatient := l.BranchID != "" && l.Date != "", l.PatientID != ""
		if byBranch == byPatient || (!byBranch && (l.BranchID != "" || l.Date != "")) {
			t.Fatalf("accepted an ambiguous or empty selection: %+v", l)
		}
		if l.Limit < 1 || l.Limit > MaxListLimit {
			t.Fatalf("accepted limit %d", l.Limit)
		}
	})
}
