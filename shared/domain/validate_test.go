package domain

import (
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/apperr"
)

// check runs a validator and asserts either success or a VALIDATION_FAILED
// whose message contains msg (which names the field).
func check(t *testing.T, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	wantCode(t, err, apperr.Validation, msg)
}

func TestNormalizeBranch(t *testing.T) {
	tests := []struct {
		name     string
		in       Branch
		msg      string
		wantTZ   string
		wantSlot int
		wantName string
	}{
		{"defaults", Branch{Name: "  Silom  "}, "", "Asia/Bangkok", 15, "Silom"},
		{"explicit", Branch{Name: "Queens", TimeZone: " America/New_York ", SlotMinutes: 30}, "", "America/New_York", 30, "Queens"},
		{"thai name of 200 runes", Branch{Name: strings.Repeat("ก", 200)}, "", "Asia/Bangkok", 15, strings.Repeat("ก", 200)},
		{"each slot choice 5", Branch{Name: "b", SlotMinutes: 5}, "", "Asia/Bangkok", 5, "b"},
		{"slot 10", Branch{Name: "b", SlotMinutes: 10}, "", "Asia/Bangkok", 10, "b"},
		{"slot 20", Branch{Name: "b", SlotMinutes: 20}, "", "Asia/Bangkok", 20, "b"},
		{"slot 60", Branch{Name: "b", SlotMinutes: 60}, "", "Asia/Bangkok", 60, "b"},
		{"empty name", Branch{Name: "   "}, "name: is required", "", 0, ""},
		{"long name", Branch{Name: strings.Repeat("a", 201)}, "name: must be at most 200", "", 0, ""},
		{"control character", Branch{Name: "Si\nlom"}, "name: must not contain control", "", 0, ""},
		{"invalid utf-8", Branch{Name: "Si\xfflom"}, "name: must be valid UTF-8", "", 0, ""},
		{"unknown zone", Branch{Name: "b", TimeZone: "Asia/Bangkokk"}, "timeZone: unknown time zone", "", 0, ""},
		{"local zone", Branch{Name: "b", TimeZone: "Local"}, "timeZone:", "", 0, ""},
		{"slot 7", Branch{Name: "b", SlotMinutes: 7}, "slotMinutes: must be one of", "", 0, ""},
		{"slot negative", Branch{Name: "b", SlotMinutes: -15}, "slotMinutes:", "", 0, ""},
		{"slot 120", Branch{Name: "b", SlotMinutes: 120}, "slotMinutes:", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.in
			err := NormalizeBranch(&b)
			check(t, err, tc.msg)
			if tc.msg != "" {
				return
			}
			if b.TimeZone != tc.wantTZ || b.SlotMinutes != tc.wantSlot || b.Name != tc.wantName {
				t.Errorf("got %+v", b)
			}
		})
	}
}

func TestValidateHours(t *testing.T) {
	good := Hours{
		Weekly: []DayHours{
			{Day: "mon", Open: "07:00", Close: "16:00"},
			{Day: "tue", Open: "00:00", Close: "24:00"},
			{Day: "wed", Open: "23:59", Close: "24:00"},
			{Day: "thu", Open: "07:00", Close: "07:01"},
			{Day: "fri", Open: "07:00", Close: "16:00"},
			{Day: "sat", Open: "08:00", Close: "12:00"},
			{Day: "sun", Open: "09:30", Close: "12:45"},
		},
		Closures: []Closure{{Date: "2026-04-13", Reason: "Songkran"}, {Date: "2028-02-29"}},
	}
	day := func(d, o, c string) Hours { return Hours{Weekly: []DayHours{{Day: d, Open: o, Close: c}}} }
	tests := []struct {
		name string
		h    Hours
		msg  string
	}{
		{"good", good, ""},
		{"empty: always closed", Hours{}, ""},
		{"day unknown", day("monday", "07:00", "16:00"), "weekly[0].day: must be one of"},
		{"day upper case", day("Mon", "07:00", "16:00"), "weekly[0].day:"},
		{"day empty", day("", "07:00", "16:00"), "weekly[0].day:"},
		{"day twice", Hours{Weekly: []DayHours{{Day: "mon", Open: "07:00", Close: "08:00"}, {Day: "tue", Open: "07:00", Close: "08:00"}, {Day: "mon", Open: "09:00", Close: "10:00"}}}, "weekly[2].day: mon is listed twice"},
		{"open one digit hour", day("mon", "7:00", "16:00"), "weekly[0].open: must be HH:MM"},
		{"open 24:00", day("mon", "24:00", "24:00"), "weekly[0].open: must be HH:MM"},
		{"open 25:00", day("mon", "25:00", "24:00"), "weekly[0].open:"},
		{"open minutes 60", day("mon", "07:60", "16:00"), "weekly[0].open:"},
		{"open with seconds", day("mon", "07:00:00", "16:00"), "weekly[0].open:"},
		{"open am/pm", day("mon", "7am", "16:00"), "weekly[0].open:"},
		{"open dot", day("mon", "07.00", "16:00"), "weekly[0].open:"},
		{"open sign", day("mon", "+7:00", "16:00"), "weekly[0].open:"},
		{"open empty", day("mon", "", "16:00"), "weekly[0].open:"},
		{"close 24:01", day("mon", "07:00", "24:01"), "weekly[0].close: must be HH:MM"},
		{"close 24:30", day("mon", "07:00", "24:30"), "weekly[0].close:"},
		{"close bad", day("mon", "07:00", "4pm"), "weekly[0].close:"},
		{"close equals open", day("mon", "07:00", "07:00"), "weekly[0].close: must be after open"},
		{"close before open", day("mon", "16:00", "07:00"), "weekly[0].close: must be after open"},
		{"index in message", Hours{Weekly: append(good.Weekly[:2:2], DayHours{Day: "wed", Open: "x", Close: "16:00"})}, "weekly[2].open"},
		{"closure bad date", Hours{Closures: []Closure{{Date: "2026-13-01"}}}, "closures[0].date: must be a date"},
		{"closure not leap", Hours{Closures: []Closure{{Date: "2027-02-29"}}}, "closures[0].date:"},
		{"closure with time", Hours{Closures: []Closure{{Date: "2026-04-13T00:00:00Z"}}}, "closures[0].date:"},
		{"closure empty", Hours{Closures: []Closure{{Date: "2026-04-13"}, {Date: ""}}}, "closures[1].date:"},
		{"closure duplicate", Hours{Closures: []Closure{{Date: "2026-04-13"}, {Date: "2026-04-14"}, {Date: "2026-04-13"}}}, "closures[2].date: 2026-04-13 is listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, ValidateHours(tc.h), tc.msg) })
	}
}

func TestNormalizeResource(t *testing.T) {
	tests := []struct {
		name string
		in   Resource
		msg  string
	}{
		{"good", Resource{Name: " Station 1 ", Type: " collection_station "}, ""},
		{"custom type", Resource{Name: "X-ray", Type: "xray_2"}, ""},
		{"50-char type", Resource{Name: "n", Type: "a" + strings.Repeat("b", 49)}, ""},
		{"own hours", Resource{Name: "Dr A", Type: ResourceDoctor, Hours: []DayHours{{Day: "mon", Open: "09:00", Close: "12:00"}}}, ""},
		{"empty name", Resource{Name: " ", Type: "room"}, "name: is required"},
		{"long name", Resource{Name: strings.Repeat("n", 201), Type: "room"}, "name: must be at most 200"},
		{"empty type", Resource{Name: "n", Type: ""}, "type: must be snake_case"},
		{"upper case type", Resource{Name: "n", Type: "Room"}, "type:"},
		{"type with dash", Resource{Name: "n", Type: "collection-station"}, "type:"},
		{"type with space", Resource{Name: "n", Type: "collection station"}, "type:"},
		{"type starts with digit", Resource{Name: "n", Type: "2room"}, "type:"},
		{"type starts with underscore", Resource{Name: "n", Type: "_room"}, "type:"},
		{"51-char type", Resource{Name: "n", Type: "a" + strings.Repeat("b", 50)}, "type:"},
		{"thai type", Resource{Name: "n", Type: "ห้อง"}, "type:"},
		{"bad own hours", Resource{Name: "n", Type: "room", Hours: []DayHours{{Day: "mon", Open: "09:00", Close: "12:00"}, {Day: "tue", Open: "9", Close: "12:00"}}}, "hours[1].open: must be HH:MM"},
		{"own hours duplicate day", Resource{Name: "n", Type: "room", Hours: []DayHours{{Day: "mon", Open: "09:00", Close: "12:00"}, {Day: "mon", Open: "13:00", Close: "15:00"}}}, "hours[1].day: mon is listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.in
			check(t, NormalizeResource(&r), tc.msg)
			if tc.msg == "" && (r.Name != strings.TrimSpace(tc.in.Name) || r.Type != strings.TrimSpace(tc.in.Type)) {
				t.Errorf("not trimmed: %+v", r)
			}
		})
	}
}

func TestNormalizeService(t *testing.T) {
	good := func() Service {
		return Service{
			Name:            " Blood draw ",
			DurationMinutes: 15,
			Requires:        []Requirement{{Type: " collection_station ", Count: 1}},
			Preparation:     Preparation{FastingHours: 8, Instructions: map[string]string{"th": "งดอาหาร", "en": "Fast"}},
		}
	}
	tests := []struct {
		name string
		slot int
		edit func(*Service)
		msg  string
	}{
		{"good", 15, nil, ""},
		{"max duration on a 30-min grid", 30, func(s *Service) { s.DurationMinutes = 720 }, ""},
		{"40 cells exactly", 15, func(s *Service) { s.DurationMinutes = 600 }, ""},
		{"41 cells", 15, func(s *Service) { s.DurationMinutes = 601 }, "durationMinutes: 601 minutes on a 15-minute grid for 1 resources needs 41 cells, more than 40"},
		{"cells times resources", 15, func(s *Service) {
			s.DurationMinutes = 60
			s.Requires = []Requirement{{Type: "room", Count: 2}, {Type: "nurse", Count: 9}}
		}, "for 11 resources needs 44 cells"},
		{"cells times resources within (4 × 10)", 15, func(s *Service) {
			s.DurationMinutes = 60
			s.Requires = []Requirement{{Type: "room", Count: 2}, {Type: "nurse", Count: 8}}
		}, ""},
		{"slot 0 uses default grid", 0, func(s *Service) { s.DurationMinutes = 601 }, "on a 15-minute grid"},
		{"empty name", 15, func(s *Service) { s.Name = "" }, "name: is required"},
		{"long name", 15, func(s *Service) { s.Name = strings.Repeat("x", 201) }, "name: must be at most 200"},
		{"duration 0", 15, func(s *Service) { s.DurationMinutes = 0 }, "durationMinutes: must be 1..720"},
		{"duration 721", 60, func(s *Service) { s.DurationMinutes = 721 }, "durationMinutes: must be 1..720"},
		{"requires empty", 15, func(s *Service) { s.Requires = nil }, "requires: must list at least one"},
		{"requires bad type", 15, func(s *Service) { s.Requires[0].Type = "Station" }, "requires[0].type: must be snake_case"},
		{"requires duplicate type", 15, func(s *Service) {
			s.Requires = append(s.Requires, Requirement{Type: "room", Count: 1}, Requirement{Type: "collection_station", Count: 1})
		}, "requires[2].type: collection_station is listed twice"},
		{"requires count 0", 15, func(s *Service) { s.Requires[0].Count = 0 }, "requires[0].count: must be 1..40"},
		{"requires count huge", 15, func(s *Service) { s.Requires[0].Count = 1 << 62 }, "requires[0].count:"},
		{"fasting 72", 15, func(s *Service) { s.Preparation.FastingHours = 72 }, ""},
		{"fasting 73", 15, func(s *Service) { s.Preparation.FastingHours = 73 }, "preparation.fastingHours: must be 0..72"},
		{"fasting negative", 15, func(s *Service) { s.Preparation.FastingHours = -1 }, "preparation.fastingHours"},
		{"min notice negative", 15, func(s *Service) { s.MinNoticeMinutes = -1 }, "minNoticeMinutes: must be 0 or more"},
		{"max advance 365", 15, func(s *Service) { s.MaxAdvanceDays = 365 }, ""},
		{"max advance 366", 15, func(s *Service) { s.MaxAdvanceDays = 366 }, "maxAdvanceDays: must be 1..365"},
		{"max advance negative", 15, func(s *Service) { s.MaxAdvanceDays = -1 }, "maxAdvanceDays"},
		{"cutoff negative", 15, func(s *Service) { s.CancelCutoffMinutes = -5 }, "cancelCutoffMinutes: must be 0 or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			if tc.edit != nil {
				tc.edit(&s)
			}
			check(t, NormalizeService(&s, tc.slot), tc.msg)
		})
	}
	s := good()
	if err := NormalizeService(&s, 15); err != nil {
		t.Fatal(err)
	}
	if s.Name != "Blood draw" || s.Requires[0].Type != "collection_station" || s.MaxAdvanceDays != DefaultMaxAdvanceDays {
		t.Errorf("not normalized: %+v", s)
	}
	s = good()
	s.MaxAdvanceDays = 7
	if err := NormalizeService(&s, 15); err != nil || s.MaxAdvanceDays != 7 {
		t.Errorf("explicit max advance changed: %d %v", s.MaxAdvanceDays, err)
	}
}

func TestNormalizePatient(t *testing.T) {
	tests := []struct {
		name string
		in   Patient
		msg  string
		want Patient
	}{
		{"minimal gets th", Patient{ID: " p1 ", Name: " สมชาย ใจดี "}, "", Patient{ID: "p1", Name: "สมชาย ใจดี", Locale: "th"}},
		{"full", Patient{ID: "p1", Name: "Jane Doe", Phone: " +66812345678 ", Email: " jane@example.co.th ", Locale: " en "}, "",
			Patient{ID: "p1", Name: "Jane Doe", Phone: "+66812345678", Email: "jane@example.co.th", Locale: "en"}},
		{"shortest phone", Patient{ID: "p", Name: "n", Phone: "+1234567"}, "", Patient{ID: "p", Name: "n", Phone: "+1234567", Locale: "th"}},
		{"longest phone", Patient{ID: "p", Name: "n", Phone: "+123456789012345"}, "", Patient{ID: "p", Name: "n", Phone: "+123456789012345", Locale: "th"}},
		{"plus in email local part", Patient{ID: "p", Name: "n", Email: "a.b+lab@mail.example.com"}, "", Patient{ID: "p", Name: "n", Email: "a.b+lab@mail.example.com", Locale: "th"}},
		{"no id", Patient{Name: "n"}, "patient.id: is required", Patient{}},
		{"long id", Patient{ID: strings.Repeat("p", 201), Name: "n"}, "patient.id: must be at most 200", Patient{}},
		{"no name", Patient{ID: "p", Name: "  "}, "patient.name: is required", Patient{}},
		{"long name", Patient{ID: "p", Name: strings.Repeat("ก", 201)}, "patient.name: must be at most 200", Patient{}},
		{"phone without plus", Patient{ID: "p", Name: "n", Phone: "0812345678"}, "patient.phone: must be E.164", Patient{}},
		{"phone leading zero", Patient{ID: "p", Name: "n", Phone: "+0812345678"}, "patient.phone:", Patient{}},
		{"phone too short", Patient{ID: "p", Name: "n", Phone: "+123456"}, "patient.phone:", Patient{}},
		{"phone too long", Patient{ID: "p", Name: "n", Phone: "+1234567890123456"}, "patient.phone:", Patient{}},
		{"phone with spaces", Patient{ID: "p", Name: "n", Phone: "+66 81 234 5678"}, "patient.phone:", Patient{}},
		{"phone with dashes", Patient{ID: "p", Name: "n", Phone: "+66-81-234-5678"}, "patient.phone:", Patient{}},
		{"phone with trailing newline", Patient{ID: "p", Name: "n", Phone: "+66812345678\nx"}, "patient.phone:", Patient{}},
		{"email no at", Patient{ID: "p", Name: "n", Email: "jane.example.com"}, "patient.email: must be an email", Patient{}},
		{"email two ats", Patient{ID: "p", Name: "n", Email: "jane@doe@example.com"}, "patient.email:", Patient{}},
		{"email empty local", Patient{ID: "p", Name: "n", Email: "@example.com"}, "patient.email:", Patient{}},
		{"email empty domain", Patient{ID: "p", Name: "n", Email: "jane@"}, "patient.email:", Patient{}},
		{"email dotless domain", Patient{ID: "p", Name: "n", Email: "jane@localhost"}, "patient.email:", Patient{}},
		{"email domain ends with dot", Patient{ID: "p", Name: "n", Email: "jane@example."}, "patient.email:", Patient{}},
		{"email domain starts with dot", Patient{ID: "p", Name: "n", Email: "jane@.example.com"}, "patient.email:", Patient{}},
		{"email double dot", Patient{ID: "p", Name: "n", Email: "jane@example..com"}, "patient.email:", Patient{}},
		{"email with space", Patient{ID: "p", Name: "n", Email: "jane doe@example.com"}, "patient.email:", Patient{}},
		{"email too long", Patient{ID: "p", Name: "n", Email: strings.Repeat("a", 250) + "@x.co"}, "patient.email:", Patient{}},
		{"locale fr", Patient{ID: "p", Name: "n", Locale: "fr"}, "patient.locale: must be th or en", Patient{}},
		{"locale upper case", Patient{ID: "p", Name: "n", Locale: "EN"}, "patient.locale:", Patient{}},
		{"locale region", Patient{ID: "p", Name: "n", Locale: "th-TH"}, "patient.locale:", Patient{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			check(t, NormalizePatient(&p), tc.msg)
			if tc.msg == "" && p != tc.want {
				t.Errorf("got %+v, want %+v", p, tc.want)
			}
		})
	}
}
