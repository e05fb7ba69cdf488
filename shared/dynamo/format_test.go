package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// Stored format tests. testdata/v0_*.json are items written by the format 0
// code (the entity's JSON document, before item structs existed), captured
// from DynamoDB Local with GetItem (see testdata/README.md). The expected
// values below are written out by hand from what that code was given.

// loadItem reads a captured item in DynamoDB JSON ({"name": {"S": "..."}}).
func loadItem(tb testing.TB, name string) map[string]types.AttributeValue {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]types.AttributeValue, len(raw))
	for k, v := range raw {
		av, err := parseAV(v)
		if err != nil {
			tb.Fatalf("%s: %s: %v", name, k, err)
		}
		out[k] = av
	}
	return out
}

func parseAV(data json.RawMessage) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(data, &typed); err != nil || len(typed) != 1 {
		return nil, fmt.Errorf("not a typed attribute value: %s", data)
	}
	for t, v := range typed {
		switch t {
		case "S", "N":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			if t == "S" {
				return &types.AttributeValueMemberS{Value: s}, nil
			}
			return &types.AttributeValueMemberN{Value: s}, nil
		case "BOOL", "NULL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, err
			}
			if t == "BOOL" {
				return &types.AttributeValueMemberBOOL{Value: b}, nil
			}
			return &types.AttributeValueMemberNULL{Value: b}, nil
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, err
			}
			out := make([]types.AttributeValue, len(l))
			for i, e := range l {
				av, err := parseAV(e)
				if err != nil {
					return nil, err
				}
				out[i] = av
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "M":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, err
			}
			out := make(map[string]types.AttributeValue, len(m))
			for k, e := range m {
				av, err := parseAV(e)
				if err != nil {
					return nil, err
				}
				out[k] = av
			}
			return &types.AttributeValueMemberM{Value: out}, nil
		}
		return nil, fmt.Errorf("unexpected type %s", t)
	}
	panic("unreachable")
}

// sameDomain fails unless got and want are deeply equal, where times are
// equal if they are the same instant with the same UTC offset (the location
// pointer of a decoded time differs from the one a test builds), and a nil
// slice or map differs from an empty one.
func sameDomain(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if diff := domainDiff("", reflect.ValueOf(got), reflect.ValueOf(want)); diff != "" {
		tb.Fatalf("%s: %s\n got  %+v\n want %+v", what, diff, got, want)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func domainDiff(path string, got, want reflect.Value) string {
	if got.Type() != want.Type() {
		return fmt.Sprintf("%s: type %s, want %s", path, got.Type(), want.Type())
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		_, go_ := g.Zone()
		_, wo := w.Zone()
		if !g.Equal(w) || go_ != wo {
			return fmt.Sprintf("%s: %s, want %s", path, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
		return ""
	}
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			if d := domainDiff(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if got.IsNil() != want.IsNil() || got.Len() != want.Len() {
			return fmt.Sprintf("%s: len %d (nil %t), want len %d (nil %t)", path, got.Len(), got.IsNil(), want.Len(), want.IsNil())
		}
		for i := range got.Len() {
			if d := domainDiff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if got.IsNil() != want.IsNil() || !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return fmt.Sprintf("%s: %v (nil %t), want %v (nil %t)", path, got, got.IsNil(), want, want.IsNil())
		}
		return ""
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return fmt.Sprintf("%s: %#v, want %#v", path, got.Interface(), want.Interface())
		}
		return ""
	}
}

func TestSameDomainCanFail(t *testing.T) {
	a := time.Date(2026, 12, 1, 9, 0, 0, 0, bangkok)
	for _, c := range []struct{ got, want any }{
		{domain.HistoryEntry{At: a}, domain.HistoryEntry{At: a.UTC()}}, // same instant, other offset
		{domain.Appointment{Resources: []string{}}, domain.Appointment{}},
		{domain.Appointment{Cells: []domain.Cell{{Date: "x"}}}, domain.Appointment{Cells: []domain.Cell{{Date: "y"}}}},
		{domain.Preparation{Instructions: map[string]string{}}, domain.Preparation{}},
	} {
		if domainDiff("", reflect.ValueOf(c.got), reflect.ValueOf(c.want)) == "" {
			t.Fatalf("no difference found between %+v and %+v", c.got, c.want)
		}
	}
}

var (
	fxCreated = time.Date(2026, 11, 2, 8, 15, 30, 250000000, bangkok)
	fxBooked  = time.Date(2026, 11, 20, 9, 30, 15, 123456789, bangkok)
	fxInstr   = map[string]string{"th": "งดอาหาร 8 ชั่วโมง", "en": "Fast for 8 hours"}
)

func fxAppointmentLab() domain.Appointment {
	start := time.Date(2026, 12, 14, 9, 0, 0, 0, bangkok)
	return domain.Appointment{
		ID: "apt_lab", Status: domain.StatusBooked, BranchID: "br_silom", ServiceID: "svc_checkup",
		Start: start, End: time.Date(2026, 12, 14, 9, 30, 0, 0, bangkok),
		Patient:     domain.Patient{ID: "pat_1", Name: "สมชาย ใจดี", Phone: "+66812345678", Email: "somchai@example.com", Locale: "th"},
		Notes:       "fasting since 22:00",
		Resources:   []string{"res_station1"},
		Preparation: domain.Preparation{FastingHours: 8, Instructions: fxInstr},
		Version:     1, CreatedAt: fxBooked, UpdatedAt: fxBooked,
		LabOrders: []domain.LabOrder{{ID: "LO-1001", AppointmentID: "apt_lab", RecollectionNeeded: true, Samples: []domain.Sample{
			{ID: "S-1", Status: domain.SampleResulted, UpdatedAt: time.Date(2026, 12, 14, 11, 2, 3, 0, time.UTC), Sequence: 7},
			{ID: "S-2", Status: domain.SampleRecollectRequired, UpdatedAt: time.Date(2026, 12, 14, 11, 5, 0, 500000000, time.UTC), Reason: "haemolysed"},
		}}},
		Billing: []domain.Billing{
			{OrderID: "POS-77", AppointmentID: "apt_lab", BranchID: "br_silom", Status: domain.BillingRefunded,
				Amount: domain.Money{Minor: 125000, Currency: "THB"}, PaymentMethod: "card",
				CreatedAt: time.Date(2026, 12, 14, 9, 1, 0, 0, bangkok), PaidAt: time.Date(2026, 12, 14, 9, 2, 0, 0, bangkok),
				Refunds: []domain.Refund{{EventID: "pos-evt-9", Amount: domain.Money{Minor: 25050, Currency: "THB"}, At: time.Date(2026, 12, 15, 3, 0, 0, 0, time.UTC)}}},
			{OrderID: "POS-78", AppointmentID: "apt_lab", BranchID: "br_silom", Status: domain.BillingVoided,
				VoidedAt: time.Date(2026, 12, 14, 10, 0, 0, 0, bangkok)},
		},
		Cells: []domain.Cell{
			{ResourceID: "res_station1", Start: start, Date: "2026-12-14"},
			{ResourceID: "res_station1", Start: start.Add(15 * time.Minute), Date: "2026-12-14"},
		},
	}
}

func fxAppointmentCancelled() domain.Appointment {
	return domain.Appointment{
		ID: "apt_cx", Status: domain.StatusCancelled, BranchID: "br_silom", ServiceID: "svc_blood",
		Start: time.Date(2026, 12, 15, 10, 30, 0, 0, bangkok), End: time.Date(2026, 12, 15, 10, 45, 0, 0, bangkok),
		Patient:   domain.Patient{ID: "pat_2", Name: "Jane Doe", Email: "jane@example.com"},
		Resources: []string{"res_station1"},
		Version:   2, CreatedAt: fxBooked, UpdatedAt: time.Date(2026, 11, 21, 14, 0, 0, 0, bangkok),
	}
}

// fixture is one captured item: how to decode and re-encode it, and the
// domain value it holds.
type fixture struct {
	name   string
	decode func(map[string]types.AttributeValue) (any, error)
	encode func(any) item
	want   any
}

func fx[T any](name string, decode func(map[string]types.AttributeValue) (T, error), encode func(T) item, want T) fixture {
	return fixture{
		name:   name,
		decode: func(m map[string]types.AttributeValue) (any, error) { return decode(m) },
		encode: func(v any) item { return encode(v.(T)) },
		want:   want,
	}
}

func fixtures() []fixture {
	apptItem := func(a domain.Appointment) item {
		it, err := appointmentItem(a)
		if err != nil {
			panic(err)
		}
		return it
	}
	return []fixture{
		fx("v0_branch", branchFrom, branchItem, domain.Branch{ID: "br_silom", Name: "Silom Lab", TimeZone: "Asia/Bangkok",
			SlotMinutes: 15, Address: "191 Silom Rd, Bang Rak, Bangkok 10500", CreatedAt: fxCreated}),
		fx("v0_hours", hoursFrom, hoursItem, domain.Hours{
			Weekly:   []domain.DayHours{{Day: "mon", Open: "07:00", Close: "16:00"}, {Day: "sat", Open: "08:00", Close: "12:00"}},
			Closures: []domain.Closure{{Date: "2026-12-10", Reason: "Constitution Day"}, {Date: "2026-12-31"}},
		}),
		fx("v0_resource", resourceFrom, resourceItem, domain.Resource{ID: "res_station1", BranchID: "br_silom", Name: "Station 1",
			Type: "collection_station", Active: true, Hours: []domain.DayHours{{Day: "mon", Open: "07:00", Close: "12:00"}}, CreatedAt: fxCreated}),
		fx("v0_resource_inactive", resourceFrom, resourceItem, domain.Resource{ID: "res_nurse2", BranchID: "br_silom", Name: "Nurse Ploy",
			Type: "nurse", CreatedAt: time.Date(2026, 11, 2, 1, 15, 30, 250000000, time.UTC)}),
		fx("v0_service", serviceFrom, serviceItem, domain.Service{ID: "svc_checkup", BranchID: "br_silom", Name: "Annual check-up",
			DurationMinutes: 45, Requires: []domain.Requirement{{Type: "collection_station", Count: 1}, {Type: "nurse", Count: 2}},
			Preparation:      domain.Preparation{FastingHours: 8, Instructions: fxInstr},
			MinNoticeMinutes: 120, MaxAdvanceDays: 60, CancelCutoffMinutes: 240, CreatedAt: fxCreated}),
		fx("v0_appointment_lab_billing", appointmentFrom, apptItem, fxAppointmentLab()),
		fx("v0_appointment_cancelled", appointmentFrom, apptItem, fxAppointmentCancelled()),
		fx("v0_history_booking", historyFrom, historyAttrs, domain.HistoryEntry{At: fxBooked, To: domain.StatusBooked,
			Actor: domain.ActorRef{ID: "user-1", Role: domain.RolePatient},
			Start: time.Date(2026, 12, 14, 9, 0, 0, 0, bangkok), End: time.Date(2026, 12, 14, 9, 30, 0, 0, bangkok)}),
		fx("v0_history_cancel", historyFrom, historyAttrs, domain.HistoryEntry{At: time.Date(2026, 11, 21, 14, 0, 0, 0, bangkok),
			From: domain.StatusBooked, To: domain.StatusCancelled, Actor: domain.ActorRef{ID: "staff-9", Role: domain.RoleStaff},
			Reason: "patient called",
			Start:  time.Date(2026, 12, 15, 10, 30, 0, 0, bangkok), End: time.Date(2026, 12, 15, 10, 45, 0, 0, bangkok)}),
		fx("v0_campaign", campaignFrom, campaignItem, app.Campaign{ID: "acme-2026", BranchID: "br_silom", ServiceID: "svc_checkup",
			Window: domain.RosterWindow{From: "2026-12-01", To: "2026-12-20"}, CreatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}),
		fx("v0_participant_pending", participantFrom, participantItem, app.CampaignParticipant{ExternalID: "E-1", Status: app.ParticipantPending,
			Participant: domain.RosterParticipant{ExternalID: "E-1", Name: "Anong S.", Phone: "+66811111111", Email: "anong@example.com", Locale: "th", PreferredDate: "2026-12-03"}}),
		// Settled: SettleParticipant removed the contact data.
		fx("v0_participant_placed", participantFrom, participantItem, app.CampaignParticipant{ExternalID: "E-2", Status: app.ParticipantPlaced,
			Participant: domain.RosterParticipant{ExternalID: "E-2", Locale: "en"}, AppointmentID: "apt_e2", Start: time.Date(2026, 12, 2, 9, 15, 0, 0, bangkok)}),
		fx("v0_participant_unplaced", participantFrom, participantItem, app.CampaignParticipant{ExternalID: "E-3", Status: app.ParticipantUnplaced,
			Participant: domain.RosterParticipant{ExternalID: "E-3", Locale: "th"}, Reason: domain.PlacementNoCapacity}),
	}
}

// TestFormat0ItemsStillDecode: every captured item of format 0 decodes into
// the domain value it was written from, and encoding that value with today's
// code, then decoding it, gives the same value again.
func TestFormat0ItemsStillDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "v0_*.json"))
	fxs := fixtures()
	if len(files) != len(fxs) {
		t.Fatalf("%d fixture files, %d expectations: every captured item needs one", len(files), len(fxs))
	}
	for _, f := range fxs {
		t.Run(f.name, func(t *testing.T) {
			raw := loadItem(t, f.name)
			if _, has := raw[attrFormat]; has {
				t.Fatalf("a format 0 fixture has %s", attrFormat)
			}
			got, err := f.decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			sameDomain(t, "decoded format 0", got, f.want)

			again := f.encode(got)
			back, err := f.decode(again)
			if err != nil {
				t.Fatal(err)
			}
			sameDomain(t, "re-encoded and decoded", back, f.want)
		})
	}
}

// TestNewItemsCarryTheFormatVersion: what the store writes says its format.
func TestNewItemsCarryTheFormatVersion(t *testing.T) {
	a := fxAppointmentLab()
	ai, err := appointmentItem(a)
	if err != nil {
		t.Fatal(err)
	}
	hi, err := historyItem(a.ID, domain.HistoryEntry{At: fxBooked}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, it := range map[string]map[string]types.AttributeValue{
		"appointment": ai,
		"history":     hi,
		"branch":      branchItem(domain.Branch{ID: "b"}).stamp("p", "s", entityBranch),
	} {
		if n, ok := it[attrFormat].(*types.AttributeValueMemberN); !ok || n.Value != fmt.Sprint(formatVersion) {
			t.Errorf("%s item: %s = %v, want N %d", name, attrFormat, it[attrFormat], formatVersion)
		}
	}
}

// TestNewerFormatIsRefused: an item written by newer code (a format this
// code does not know) is an error, not a silently misread value.
func TestNewerFormatIsRefused(t *testing.T) {
	for _, f := range fixtures() {
		raw := loadItem(t, f.name)
		raw[attrFormat] = avN(formatVersion + 1)
		if _, err := f.decode(raw); err == nil {
			t.Errorf("%s with %s = %d decoded without error", f.name, attrFormat, formatVersion+1)
		}
		raw[attrFormat] = avN(formatVersion)
		if _, err := f.decode(raw); err != nil {
			t.Errorf("%s with %s = %d: %v", f.name, attrFormat, formatVersion, err)
		}
	}
}

// TestWrongAttributeTypeIsAnError: a malformed item is reported with the
// attribute's path, not decoded as zero values.
func TestWrongAttributeTypeIsAnError(t *testing.T) {
	raw := loadItem(t, "v0_appointment_lab_billing")
	lab := raw["labOrders"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value
	lab["samples"].(*types.AttributeValueMemberL).Value[1].(*types.AttributeValueMemberM).Value["updatedAt"] = avN(5)
	_, err := appointmentFrom(raw)
	if err == nil || !strings.Contains(err.Error(), "labOrders[0].samples[1].updatedAt: *types.AttributeValueMemberN, want S") {
		t.Fatalf("err = %v", err)
	}
}

// TestFormat0ItemsReadThroughTheStore puts the captured items into a table
// as they are and reads them with the store's own methods, then changes
// format 0 items with the store's in-place updates.
func TestFormat0ItemsReadThroughTheStore(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	want := map[string]any{}
	for _, f := range fixtures() {
		want[f.name] = f.want
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: loadItem(t, f.name)}); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := s.LoadCatalog(ctx, "br_silom")
	ok(t, err)
	sameDomain(t, "catalog", cat, domain.Catalog{
		Branch:    want["v0_branch"].(domain.Branch),
		Hours:     want["v0_hours"].(domain.Hours),
		Resources: []domain.Resource{want["v0_resource_inactive"].(domain.Resource), want["v0_resource"].(domain.Resource)},
		Services:  []domain.Service{want["v0_service"].(domain.Service)},
	})
	for _, name := range []string{"v0_appointment_lab_billing", "v0_appointment_cancelled"} {
		w := want[name].(domain.Appointment)
		a, err := s.GetAppointment(ctx, w.ID)
		ok(t, err)
		sameDomain(t, name, a, w)
	}
	h, err := s.History(ctx, "apt_lab")
	ok(t, err)
	sameDomain(t, "history", h, []domain.HistoryEntry{want["v0_history_booking"].(domain.HistoryEntry)})
	camp, err := s.GetCampaign(ctx, "acme-2026")
	ok(t, err)
	sameDomain(t, "campaign", camp, want["v0_campaign"].(app.Campaign))
	ps, err := s.ListParticipants(ctx, "acme-2026")
	ok(t, err)
	sameDomain(t, "participants", ps, []app.CampaignParticipant{want["v0_participant_pending"].(app.CampaignParticipant),
		want["v0_participant_placed"].(app.CampaignParticipant), want["v0_participant_unplaced"].(app.CampaignParticipant)})

	// In-place updates name attributes: they work on format 0 items.
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, bangkok)
	ok(t, s.SettleParticipant(ctx, "acme-2026", app.CampaignParticipant{ExternalID: "E-1", Status: app.ParticipantPlaced, AppointmentID: "apt_e1", Start: start}))
	p, err := s.GetParticipant(ctx, "acme-2026", "E-1")
	ok(t, err)
	sameDomain(t, "settled format 0 participant", p, app.CampaignParticipant{ExternalID: "E-1", Status: app.ParticipantPlaced,
		Participant: domain.RosterParticipant{ExternalID: "E-1", Locale: "th", PreferredDate: "2026-12-03"}, AppointmentID: "apt_e1", Start: start})
	n, err := s.RemoveHistoryReasons(ctx, "apt_cx", func(domain.HistoryEntry) bool { return false })
	ok(t, err)
	h, err = s.History(ctx, "apt_cx")
	ok(t, err)
	cancel := want["v0_history_cancel"].(domain.HistoryEntry)
	cancel.Reason = ""
	if n != 1 {
		t.Fatalf("RemoveHistoryReasons changed %d entries, want 1", n)
	}
	sameDomain(t, "history without reason", h, []domain.HistoryEntry{cancel})
}
