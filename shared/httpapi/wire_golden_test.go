package httpapi

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/notify"
)

// updateGolden rewrites testdata/golden from the current code. The files were
// captured from the code that serialised domain structs directly, before the
// wire types existed; they pin the public JSON, so a renamed field, a lost
// omitempty or a null where [] was sent fails TestResponseBodiesMatchGolden.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/*.json from the current code")

var goldenTime = time.Date(2025, 3, 10, 9, 0, 0, 0, bangkok)

// goldenSvc implements every use-case interface the routes need, returning
// either fully populated values (every optional member set) or minimal ones
// (nil slices, zero optional fields), so both shapes are pinned.
type goldenSvc struct{ full bool }

func (g goldenSvc) branch() domain.Branch {
	b := domain.Branch{ID: "br_01", Name: "Silom", TimeZone: "Asia/Bangkok", SlotMinutes: 15, CreatedAt: fixedNow}
	if g.full {
		b.Address = "1 Silom Rd, Bangkok 10500"
	}
	return b
}

func (g goldenSvc) hours() domain.Hours {
	if !g.full {
		return domain.Hours{}
	}
	return domain.Hours{
		Weekly:   []domain.DayHours{{Day: "mon", Open: "07:00", Close: "16:00"}, {Day: "sat", Open: "08:00", Close: "12:00"}},
		Closures: []domain.Closure{{Date: "2025-04-14", Reason: "Songkran"}, {Date: "2025-05-01"}},
	}
}

func (g goldenSvc) resource() domain.Resource {
	r := domain.Resource{ID: "res_01", BranchID: "br_01", Name: "Station 1", Type: domain.ResourceCollectionStation, CreatedAt: fixedNow}
	if g.full {
		r.Active = true
		r.Hours = []domain.DayHours{{Day: "tue", Open: "08:00", Close: "12:00"}}
	}
	return r
}

func (g goldenSvc) service() domain.Service {
	s := domain.Service{ID: "svc_01", BranchID: "br_01", Name: "CBC", DurationMinutes: 15, CreatedAt: fixedNow}
	if g.full {
		s.Requires = []domain.Requirement{{Type: domain.ResourceCollectionStation, Count: 1}, {Type: domain.ResourceNurse, Count: 2}}
		s.Preparation = domain.Preparation{FastingHours: 8, Instructions: map[string]string{"th": "งดอาหาร 8 ชั่วโมง", "en": "Fast for 8 hours & drink <water>"}}
		s.MinNoticeMinutes, s.MaxAdvanceDays, s.CancelCutoffMinutes = 60, 30, 120
	}
	return s
}

func (g goldenSvc) appointment(id string) domain.Appointment {
	a := domain.Appointment{
		ID: id, Status: domain.StatusBooked, BranchID: "br_01", ServiceID: "svc_01",
		Start: goldenTime, End: goldenTime.Add(15 * time.Minute),
		Patient: domain.Patient{ID: "pat_01", Name: "Somchai P."},
		Version: 1, CreatedAt: fixedNow, UpdatedAt: fixedNow,
		Cells: []domain.Cell{{ResourceID: "res_01", Start: goldenTime, Date: "2025-03-10"}},
	}
	if !g.full {
		return a
	}
	a.Status = domain.StatusCompleted
	a.Patient = domain.Patient{ID: "pat_01", Name: "สมชาย ป.", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"}
	a.Notes = "wheelchair access"
	a.Resources = []string{"res_01", "res_07"}
	a.Preparation = domain.Preparation{FastingHours: 8, Instructions: map[string]string{"en": "Fast"}}
	a.Version = 4
	a.UpdatedAt = fixedNow.Add(90 * time.Minute)
	a.LabOrders = []domain.LabOrder{{
		ID: "lo_01", AppointmentID: id, RecollectionNeeded: true,
		Samples: []domain.Sample{
			{ID: "s_01", Status: "received", UpdatedAt: fixedNow.Add(time.Hour)},
			{ID: "s_02", Status: "rejected", UpdatedAt: fixedNow.Add(2 * time.Hour), Sequence: 7, Reason: "hemolysed"},
		},
	}}
	a.Billing = []domain.Billing{
		{OrderID: "ord_01", AppointmentID: id, BranchID: "br_01", Status: domain.BillingRefunded,
			Amount: domain.Money{Minor: 125000, Currency: "THB"}, PaymentMethod: "card",
			CreatedAt: fixedNow, PaidAt: fixedNow.Add(time.Minute),
			Refunds: []domain.Refund{{EventID: "ev_9", Amount: domain.Money{Minor: 350, Currency: "THB"}, At: fixedNow.Add(time.Hour)}}},
		{OrderID: "ord_02", AppointmentID: id, BranchID: "br_01", Status: domain.BillingCreated},
	}
	return a
}

func (g goldenSvc) CreateBranch(context.Context, domain.Actor, domain.Branch) (domain.Branch, error) {
	return g.branch(), nil
}
func (g goldenSvc) ListBranches(context.Context, domain.Actor) ([]domain.Branch, error) {
	if !g.full {
		return nil, nil
	}
	return []domain.Branch{g.branch(), goldenSvc{}.branch()}, nil
}
func (g goldenSvc) GetBranch(context.Context, domain.Actor, string) (domain.Branch, error) {
	return g.branch(), nil
}
func (g goldenSvc) PutHours(context.Context, domain.Actor, string, domain.Hours) (domain.Hours, error) {
	return g.hours(), nil
}
func (g goldenSvc) GetHours(context.Context, domain.Actor, string) (domain.Hours, error) {
	return g.hours(), nil
}
func (g goldenSvc) CreateResource(context.Context, domain.Actor, string, domain.Resource) (domain.Resource, error) {
	return g.resource(), nil
}
func (g goldenSvc) UpdateResource(context.Context, domain.Actor, string, string, app.ResourcePatch) (domain.Resource, error) {
	return g.resource(), nil
}
func (g goldenSvc) ListResources(context.Context, domain.Actor, string) ([]domain.Resource, error) {
	if !g.full {
		return nil, nil
	}
	return []domain.Resource{g.resource(), goldenSvc{}.resource()}, nil
}
func (g goldenSvc) CreateService(context.Context, domain.Actor, string, domain.Service) (domain.Service, error) {
	return g.service(), nil
}
func (g goldenSvc) ListServices(context.Context, domain.Actor, string) ([]domain.Service, error) {
	if !g.full {
		return nil, nil
	}
	return []domain.Service{g.service(), goldenSvc{}.service()}, nil
}
func (g goldenSvc) Availability(context.Context, domain.Actor, app.AvailabilityQuery) ([]domain.Slot, error) {
	if !g.full {
		return nil, nil
	}
	return []domain.Slot{
		{Start: goldenTime, End: goldenTime.Add(15 * time.Minute), Available: 2},
		{Start: goldenTime.Add(15 * time.Minute), End: goldenTime.Add(30 * time.Minute), Available: 1},
	}, nil
}
func (g goldenSvc) Book(context.Context, domain.Actor, app.BookInput) (domain.Appointment, error) {
	return g.appointment("apt_01"), nil
}
func (g goldenSvc) GetAppointment(_ context.Context, _ domain.Actor, id string) (domain.Appointment, error) {
	return g.appointment(id), nil
}
func (g goldenSvc) ListAppointments(context.Context, domain.Actor, app.ListQuery) (app.Page[domain.Appointment], error) {
	if !g.full {
		return app.Page[domain.Appointment]{}, nil
	}
	return app.Page[domain.Appointment]{
		Items:  []domain.Appointment{g.appointment("apt_01"), goldenSvc{}.appointment("apt_02")},
		Cursor: "eyJQSyI6IngifQ",
	}, nil
}
func (g goldenSvc) Reschedule(_ context.Context, _ domain.Actor, id string, _ time.Time) (domain.Appointment, error) {
	return g.appointment(id), nil
}
func (g goldenSvc) Cancel(_ context.Context, _ domain.Actor, id, _ string) (domain.Appointment, error) {
	return g.appointment(id), nil
}
func (g goldenSvc) Transition(_ context.Context, _ domain.Actor, id string, _ domain.Status, _ string) (domain.Appointment, error) {
	return g.appointment(id), nil
}
func (g goldenSvc) History(context.Context, domain.Actor, string) ([]domain.HistoryEntry, error) {
	if !g.full {
		return nil, nil
	}
	return []domain.HistoryEntry{
		{At: fixedNow, To: domain.StatusBooked, Actor: domain.ActorRef{ID: "pat-sub", Role: domain.RolePatient},
			Start: goldenTime, End: goldenTime.Add(15 * time.Minute)},
		{At: fixedNow.Add(time.Hour), From: domain.StatusBooked, To: domain.StatusCancelled,
			Actor: domain.ActorRef{ID: "lis", Role: domain.RoleSystem}, Reason: "patient called",
			Start: goldenTime, End: goldenTime.Add(15 * time.Minute)},
	}, nil
}

func (g goldenSvc) CampaignReport(context.Context, domain.Actor, string) (app.CampaignReport, error) {
	r := app.CampaignReport{CampaignID: "cmp_01", BranchID: "br_01", ServiceID: "svc_01",
		Window: domain.RosterWindow{From: "2025-03-10", To: "2025-03-21"}}
	if !g.full {
		return r, nil
	}
	r.Placed = []app.PlacedReport{{ExternalID: "E-1", AppointmentID: "apt_01", Start: goldenTime}}
	r.Unplaced = []app.UnplacedReport{{ExternalID: "E-2", Reason: domain.PlacementNoCapacity}}
	r.Pending = 3
	return r, nil
}

func (g goldenSvc) prefs() app.PreferencesView {
	if !g.full {
		return app.PreferencesView{Preferences: notify.Preferences{SMS: true, Email: true}, Default: true}
	}
	at := fixedNow.Add(time.Hour)
	return app.PreferencesView{Preferences: notify.Preferences{SMS: false, Email: true, Push: true}, Devices: 2, UpdatedAt: &at}
}
func (g goldenSvc) GetPreferences(context.Context, domain.Actor, string) (app.PreferencesView, error) {
	return g.prefs(), nil
}
func (g goldenSvc) PutPreferences(context.Context, domain.Actor, string, notify.Preferences) (app.PreferencesView, error) {
	return g.prefs(), nil
}
func (g goldenSvc) RegisterDevice(context.Context, domain.Actor, string, string, string) (notify.Device, bool, error) {
	return notify.Device{Token: "secret-token", Platform: notify.PlatformFCM, RegisteredAt: fixedNow}, g.full, nil
}
func (g goldenSvc) UnregisterDevice(context.Context, domain.Actor, string, string) error { return nil }
func (g goldenSvc) Deliveries(context.Context, domain.Actor, string) ([]notify.Delivery, error) {
	if !g.full {
		return nil, nil
	}
	return []notify.Delivery{
		{AppointmentID: "apt_01", JobID: "ev_1", Kind: "confirmation", Channel: "sms", Status: notify.StatusSent,
			Attempts: 1, ProviderMessageID: "pm-1", CreatedAt: fixedNow, UpdatedAt: fixedNow.Add(time.Second), LeaseUntil: fixedNow.Add(time.Minute)},
		{AppointmentID: "apt_01", JobID: "ev_2", Kind: "reminder", Channel: "email", Status: notify.StatusSuppressed,
			Attempts: 0, Reason: "cancelled", CreatedAt: fixedNow, UpdatedAt: fixedNow},
	}, nil
}

func (g goldenSvc) profile() domain.PatientProfile {
	p := domain.PatientProfile{PatientID: "pat_01", Version: 1, Name: "Somchai P.", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th", UpdatedAt: fixedNow}
	if g.full {
		p.LineUserID, p.BirthDate, p.MergedInto = "U4af4980629c1f2e3d4b5a69788990011", "1988-04-17", "pat_09"
		p.Dependents = []domain.Dependent{{PatientID: "pat_02", Relation: "child", ConsentAt: fixedNow}}
	}
	return p
}
func (g goldenSvc) Me(context.Context, domain.Actor) (app.MeView, error) {
	v := app.MeView{Profile: g.profile()}
	if g.full {
		v.Upcoming = []domain.Appointment{g.appointment("apt_01")}
	}
	return v, nil
}
func (g goldenSvc) Dependents(context.Context, domain.Actor) ([]app.DependentView, error) {
	if !g.full {
		return nil, nil
	}
	return []app.DependentView{{Dependent: domain.Dependent{PatientID: "pat_02", Relation: "child", ConsentAt: fixedNow}, Name: "Nong Mai"},
		{Dependent: domain.Dependent{PatientID: "pat_03", Relation: "parent", ConsentAt: fixedNow}}}, nil
}

// goldenRequests are valid requests for every route, by route name.
var goldenRequests = map[string]struct {
	path  map[string]string
	query map[string]string
	body  string
}{
	"Health":                       {},
	"CreateBranch":                 {body: `{"name":"Silom","timeZone":"Asia/Bangkok","slotMinutes":15}`},
	"ListBranches":                 {},
	"GetBranch":                    {path: map[string]string{"branchId": "br_01"}},
	"PutHours":                     {path: map[string]string{"branchId": "br_01"}, body: `{"weekly":[],"closures":[]}`},
	"GetHours":                     {path: map[string]string{"branchId": "br_01"}},
	"CreateResource":               {path: map[string]string{"branchId": "br_01"}, body: `{"name":"Station 1","type":"collection_station"}`},
	"ListResources":                {path: map[string]string{"branchId": "br_01"}},
	"UpdateResource":               {path: map[string]string{"branchId": "br_01", "resourceId": "res_01"}, body: `{"active":true}`},
	"CreateService":                {path: map[string]string{"branchId": "br_01"}, body: `{"name":"CBC","durationMinutes":15}`},
	"ListServices":                 {path: map[string]string{"branchId": "br_01"}},
	"GetAvailability":              {query: map[string]string{"branchId": "br_01", "serviceId": "svc_01", "from": "2025-03-10", "to": "2025-03-10"}},
	"BookAppointment":              {body: `{"branchId":"br_01","serviceId":"svc_01","start":"2025-03-10T09:00:00+07:00","patient":{"id":"pat_01","name":"Somchai P."}}`},
	"GetAppointment":               {path: map[string]string{"id": "apt_01"}},
	"ListAppointments":             {query: map[string]string{"patientId": "pat_01"}},
	"RescheduleAppointment":        {path: map[string]string{"id": "apt_01"}, body: `{"start":"2025-03-10T09:00:00+07:00"}`},
	"CancelAppointment":            {path: map[string]string{"id": "apt_01"}},
	"CheckIn":                      {path: map[string]string{"id": "apt_01"}},
	"Complete":                     {path: map[string]string{"id": "apt_01"}},
	"NoShow":                       {path: map[string]string{"id": "apt_01"}},
	"AppointmentHistory":           {path: map[string]string{"id": "apt_01"}},
	"GetCheckupCampaign":           {path: map[string]string{"campaignId": "cmp_01"}},
	"GetNotificationPreferences":   {path: map[string]string{"patientId": "pat_01"}},
	"PutNotificationPreferences":   {path: map[string]string{"patientId": "pat_01"}, body: `{"sms":false,"email":true,"push":true}`},
	"RegisterDevice":               {path: map[string]string{"patientId": "pat_01", "token": "tok"}, body: `{"platform":"fcm"}`},
	"UnregisterDevice":             {path: map[string]string{"patientId": "pat_01", "token": "tok"}},
	"ListAppointmentNotifications": {path: map[string]string{"id": "apt_01"}},
	"GetMe":                        {},
	"ListMyDependents":             {},
}

// TestResponseBodiesMatchGolden serves every route with full and minimal
// use-case results and compares the body byte for byte with the JSON the
// pre-wire-type code produced (testdata/golden/<Route>.<variant>.json).
func TestResponseBodiesMatchGolden(t *testing.T) {
	for _, variant := range []struct {
		name string
		svc  goldenSvc
	}{{"full", goldenSvc{full: true}}, {"minimal", goldenSvc{}}} {
		routes := Routes(variant.svc)
		if len(routes) != len(goldenRequests) {
			t.Fatalf("%d routes but %d golden requests: add the new route to goldenRequests", len(routes), len(goldenRequests))
		}
		for _, rt := range routes {
			t.Run(rt.Name+"/"+variant.name, func(t *testing.T) {
				req, ok := goldenRequests[rt.Name]
				if !ok {
					t.Fatalf("no golden request for %s", rt.Name)
				}
				h := newHarness()
				ev := adminEvent(t, rt, req.path, req.query, req.body)
				if rt.Idempotency == IdemRequired {
					ev = withHeader(ev, HeaderIdempotencyKey, "golden-1")
				}
				resp := h.serve(t, rt, ev)
				if resp.StatusCode != rt.successStatus() {
					t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
				file := filepath.Join("testdata", "golden", rt.Name+"."+variant.name+".json")
				if *updateGolden {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, []byte(resp.Body+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run with -update-golden to capture)", err)
				}
				if got := []byte(resp.Body); !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
					t.Errorf("body differs from %s\n got %s\nwant %s", file, got, want)
				}
			})
		}
	}
}
