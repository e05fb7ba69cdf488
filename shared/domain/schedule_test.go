package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

func mustLoc(t testing.TB, tz string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(tz)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", tz, err)
	}
	return loc
}

// at parses an RFC 3339 time; tests write instants with explicit offsets so
// that expectations are unambiguous.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func wantCode(t *testing.T, err error, code apperr.Code, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error containing %q, got nil", code, substr)
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *apperr.Error, got %T: %v", err, err)
	}
	if e.Code != code {
		t.Fatalf("want code %s, got %s (%s)", code, e.Code, e.Message)
	}
	if !strings.Contains(e.Message, substr) {
		t.Fatalf("message %q does not contain %q", e.Message, substr)
	}
}

func station(id string) Resource {
	return Resource{ID: id, BranchID: "br1", Name: id, Type: ResourceCollectionStation, Active: true}
}

func weekdays(open, close string) []DayHours {
	var w []DayHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		w = append(w, DayHours{Day: d, Open: open, Close: close})
	}
	return w
}

// bangkok is a Bangkok branch open Mon–Fri 07:00–16:00 and Sat 08:00–12:00,
// closed on Sundays and on 2026-03-04 (a Wednesday), with three stations,
// two rooms and three nurses; nurse n3 works only Monday 09:00–12:00.
func bangkok() Catalog {
	return Catalog{
		Branch: Branch{ID: "br1", Name: "Silom", TimeZone: "Asia/Bangkok", SlotMinutes: 15},
		Hours: Hours{
			Weekly:   append(weekdays("07:00", "16:00"), DayHours{Day: "sat", Open: "08:00", Close: "12:00"}),
			Closures: []Closure{{Date: "2026-03-04", Reason: "Makha Bucha"}},
		},
		Resources: []Resource{
			station("s03"), station("s01"), station("s02"),
			{ID: "r1", Type: ResourceRoom, Active: true},
			{ID: "r2", Type: ResourceRoom, Active: true},
			{ID: "n1", Type: ResourceNurse, Active: true},
			{ID: "n2", Type: ResourceNurse, Active: true},
			{ID: "n3", Type: ResourceNurse, Active: true, Hours: []DayHours{{Day: "mon", Open: "09:00", Close: "12:00"}}},
		},
	}
}

func blood(minutes int) Service {
	return Service{ID: "blood", BranchID: "br1", Name: "Blood draw", DurationMinutes: minutes,
		Requires: []Requirement{{Type: ResourceCollectionStation, Count: 1}}}
}

// Monday 2026-03-02 00:00 in Bangkok.
var bkkMonday = time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func starts(slots []Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.Format(time.RFC3339)
	}
	return out
}

func TestLoadLocation(t *testing.T) {
	loc, err := LoadLocation("Asia/Bangkok")
	if err != nil || loc.String() != "Asia/Bangkok" {
		t.Fatalf("Asia/Bangkok: %v %v", loc, err)
	}
	again, _ := LoadLocation("Asia/Bangkok")
	if again != loc {
		t.Error("second load is not served from the cache")
	}
	for _, tz := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd", "asia/bangkok "} {
		_, err := LoadLocation(tz)
		wantCode(t, err, apperr.Validation, "timeZone:")
	}
}

func TestLocalDate(t *testing.T) {
	i := at(t, "2026-03-01T20:00:00Z")
	if got := LocalDate(i, mustLoc(t, "Asia/Bangkok")); got != "2026-03-02" {
		t.Errorf("Bangkok: %s", got)
	}
	if got := LocalDate(i, mustLoc(t, "America/New_York")); got != "2026-03-01" {
		t.Errorf("New York: %s", got)
	}
}

func TestDatesInRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		max      int
		want     []string // first, last
		n        int
		err      string
	}{
		{"one day", "2026-03-02", "2026-03-02", 31, []string{"2026-03-02", "2026-03-02"}, 1, ""},
		{"leap year", "2028-02-28", "2028-03-01", 31, []string{"2028-02-28", "2028-03-01"}, 3, ""},
		{"year end", "2026-12-31", "2027-01-01", 31, []string{"2026-12-31", "2027-01-01"}, 2, ""},
		{"31 days", "2026-03-01", "2026-03-31", 31, []string{"2026-03-01", "2026-03-31"}, 31, ""},
		{"DST month in UTC arithmetic", "2026-10-25", "2026-11-02", 31, []string{"2026-10-25", "2026-11-02"}, 9, ""},
		{"default max", "2026-03-01", "2026-03-31", 0, []string{"2026-03-01", "2026-03-31"}, 31, ""},
		{"32 days", "2026-03-01", "2026-04-01", 31, nil, 0, "to: the range may span at most 31 days"},
		{"default max exceeded", "2026-03-01", "2026-04-01", 0, nil, 0, "at most 31 days"},
		{"small max", "2026-03-01", "2026-03-03", 2, nil, 0, "at most 2 days"},
		{"reversed", "2026-03-02", "2026-03-01", 31, nil, 0, "to: must not be before from"},
		{"bad from", "2026-3-01", "2026-03-01", 31, nil, 0, "from: must be a date"},
		{"impossible from", "2026-02-30", "2026-03-01", 31, nil, 0, "from: must be a date"},
		{"empty to", "2026-03-01", "", 31, nil, 0, "to: must be a date"},
		{"spaced to", "2026-03-01", " 2026-03-02", 31, nil, 0, "to: must be a date"},
		{"datetime to", "2026-03-01", "2026-03-02T00:00:00Z", 31, nil, 0, "to: must be a date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DatesInRange(tc.from, tc.to, tc.max)
			if tc.err != "" {
				wantCode(t, err, apperr.Validation, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n || got[0] != tc.want[0] || got[len(got)-1] != tc.want[1] {
				t.Fatalf("got %v", got)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("not strictly increasing: %v", got)
				}
			}
		})
	}
}

func TestDayWindow(t *testing.T) {
	nineToFive := []DayHours{{Day: "mon", Open: "09:00", Close: "17:00"}}
	tests := []struct {
		name          string
		tz            string
		weekly        []DayHours
		date          string
		open, close   string // RFC 3339; empty when closed
		realDuration  time.Duration
		closedReasons string
	}{
		{"bangkok monday", "Asia/Bangkok", bangkok().Hours.Weekly, "2026-03-02",
			"2026-03-02T07:00:00+07:00", "2026-03-02T16:00:00+07:00", 9 * time.Hour, ""},
		{"bangkok saturday", "Asia/Bangkok", bangkok().Hours.Weekly, "2026-03-07",
			"2026-03-07T08:00:00+07:00", "2026-03-07T12:00:00+07:00", 4 * time.Hour, ""},
		{"bangkok sunday closed", "Asia/Bangkok", bangkok().Hours.Weekly, "2026-03-08", "", "", 0, ""},
		{"no hours", "Asia/Bangkok", nil, "2026-03-02", "", "", 0, ""},
		{"malformed date", "Asia/Bangkok", nineToFive, "2026-3-2", "", "", 0, ""},
		{"malformed hours are closed", "Asia/Bangkok", []DayHours{{Day: "mon", Open: "9:00", Close: "17:00"}}, "2026-03-02", "", "", 0, ""},
		{"open not before close is closed", "Asia/Bangkok", []DayHours{{Day: "mon", Open: "17:00", Close: "09:00"}}, "2026-03-02", "", "", 0, ""},
		{"first entry of a day wins", "Asia/Bangkok", []DayHours{{Day: "mon", Open: "09:00", Close: "10:00"}, {Day: "mon", Open: "11:00", Close: "12:00"}}, "2026-03-02",
			"2026-03-02T09:00:00+07:00", "2026-03-02T10:00:00+07:00", time.Hour, ""},
		{"24:00 is next midnight", "Asia/Bangkok", []DayHours{{Day: "fri", Open: "00:00", Close: "24:00"}}, "2026-07-31",
			"2026-07-31T00:00:00+07:00", "2026-08-01T00:00:00+07:00", 24 * time.Hour, ""},
		{"new york spring forward", "America/New_York", []DayHours{{Day: "sun", Open: "00:00", Close: "06:00"}}, "2026-03-08",
			"2026-03-08T00:00:00-05:00", "2026-03-08T06:00:00-04:00", 5 * time.Hour, ""},
		{"new york fall back", "America/New_York", []DayHours{{Day: "sun", Open: "00:00", Close: "06:00"}}, "2026-11-01",
			"2026-11-01T00:00:00-04:00", "2026-11-01T06:00:00-05:00", 7 * time.Hour, ""},
		{"new york 24h spring day is 23h", "America/New_York", []DayHours{{Day: "sun", Open: "00:00", Close: "24:00"}}, "2026-03-08",
			"2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23 * time.Hour, ""},
		// Go's time.Date would give 01:30 EST for 02:30; the branch opens when the clock jumps.
		{"open inside the gap", "America/New_York", []DayHours{{Day: "sun", Open: "02:30", Close: "06:00"}}, "2026-03-08",
			"2026-03-08T03:00:00-04:00", "2026-03-08T06:00:00-04:00", 3 * time.Hour, ""},
		{"close inside the gap", "America/New_York", []DayHours{{Day: "sun", Open: "01:00", Close: "02:30"}}, "2026-03-08",
			"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", time.Hour, ""},
		{"wholly inside the gap is closed", "America/New_York", []DayHours{{Day: "sun", Open: "02:00", Close: "02:45"}}, "2026-03-08", "", "", 0, ""},
		{"repeated wall time: first occurrence", "America/New_York", []DayHours{{Day: "sun", Open: "01:30", Close: "03:00"}}, "2026-11-01",
			"2026-11-01T01:30:00-04:00", "2026-11-01T03:00:00-05:00", 2*time.Hour + 30*time.Minute, ""},
		// Go's time.Date picks the second occurrence in zones east of UTC; the window does not.
		{"london repeated wall time: first occurrence", "Europe/London", []DayHours{{Day: "sun", Open: "01:30", Close: "04:00"}}, "2026-10-25",
			"2026-10-25T01:30:00+01:00", "2026-10-25T04:00:00Z", 3*time.Hour + 30*time.Minute, ""},
		{"lord howe half-hour gap, resolved forwards by Go", "Australia/Lord_Howe", []DayHours{{Day: "sun", Open: "02:15", Close: "05:00"}}, "2026-10-04",
			"2026-10-04T02:30:00+11:00", "2026-10-04T05:00:00+11:00", 150 * time.Minute, ""},
		{"santiago midnight gap", "America/Santiago", []DayHours{{Day: "sun", Open: "00:00", Close: "08:00"}}, "2026-09-06",
			"2026-09-06T01:00:00-03:00", "2026-09-06T08:00:00-03:00", 7 * time.Hour, ""},
		{"apia skipped date", "Pacific/Apia", []DayHours{{Day: "fri", Open: "08:00", Close: "17:00"}}, "2011-12-30", "", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustLoc(t, tc.tz)
			open, close, ok := DayWindow(loc, tc.weekly, tc.date)
			if tc.open == "" {
				if ok {
					t.Fatalf("want closed, got %s – %s", open, close)
				}
				return
			}
			if !ok {
				t.Fatal("want open, got closed")
			}
			if got := open.Format(time.RFC3339); got != tc.open {
				t.Errorf("open %s, want %s", got, tc.open)
			}
			if got := close.Format(time.RFC3339); got != tc.close {
				t.Errorf("close %s, want %s", got, tc.close)
			}
			if open.Location() != loc || close.Location() != loc {
				t.Error("window not in the branch location")
			}
			if d := close.Sub(open); d != tc.realDuration {
				t.Errorf("real duration %s, want %s", d, tc.realDuration)
			}
		})
	}
}

func TestAvailabilityGrid(t *testing.T) {
	cat := bangkok()
	tests := []struct {
		name        string
		minutes     int
		n           int
		first, last string
	}{
		{"15 min", 15, 36, "2026-03-02T07:00:00+07:00", "2026-03-02T15:45:00+07:00"},
		{"20 min ends on grid boundary", 20, 35, "2026-03-02T07:00:00+07:00", "2026-03-02T15:30:00+07:00"},
		{"30 min", 30, 35, "2026-03-02T07:00:00+07:00", "2026-03-02T15:30:00+07:00"},
		{"9 h fills the day", 540, 1, "2026-03-02T07:00:00+07:00", "2026-03-02T07:00:00+07:00"},
		{"longer than the day", 555, 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slots, err := Availability(cat, blood(tc.minutes), nil, []string{"2026-03-02"}, bkkMonday)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) != tc.n {
				t.Fatalf("%d slots, want %d: %v", len(slots), tc.n, starts(slots))
			}
			if tc.n == 0 {
				return
			}
			if got := starts(slots); got[0] != tc.first || got[len(got)-1] != tc.last {
				t.Fatalf("first %s last %s", got[0], got[len(got)-1])
			}
			for i, s := range slots {
				if s.Available != 3 {
					t.Errorf("%s: available %d, want 3", s.Start, s.Available)
				}
				if s.End.Sub(s.Start) != time.Duration(tc.minutes)*time.Minute {
					t.Errorf("%s: end %s", s.Start, s.End)
				}
				if i > 0 && s.Start.Sub(slots[i-1].Start) != 15*time.Minute {
					t.Errorf("%s: not 15 min after the previous start", s.Start)
				}
			}
		})
	}
}

func TestAvailabilityOtherGrids(t *testing.T) {
	tests := []struct {
		slot        int
		open, close string
		minutes     int
		n           int
		second      string
		last        string
	}{
		{5, "07:00", "08:00", 10, 11, "07:05", "07:50"},
		{20, "07:10", "09:00", 20, 5, "07:30", "08:30"},
		{30, "07:00", "16:00", 45, 17, "07:30", "15:00"},
		{60, "08:30", "12:00", 60, 3, "09:30", "10:30"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.slot), func(t *testing.T) {
			cat := bangkok()
			cat.Branch.SlotMinutes = tc.slot
			cat.Hours.Weekly = []DayHours{{Day: "mon", Open: tc.open, Close: tc.close}}
			slots, err := Availability(cat, blood(tc.minutes), nil, []string{"2026-03-02"}, bkkMonday)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) != tc.n {
				t.Fatalf("%d slots, want %d: %v", len(slots), tc.n, starts(slots))
			}
			if slots[0].Start.Format("15:04") != tc.open || slots[1].Start.Format("15:04") != tc.second || slots[tc.n-1].Start.Format("15:04") != tc.last {
				t.Errorf("starts %v", starts(slots))
			}
			p, err := PlanBooking(cat, blood(tc.minutes), nil, slots[1].Start, bkkMonday, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := (tc.minutes + tc.slot - 1) / tc.slot; len(p.Cells) != want {
				t.Errorf("%d cells, want %d", len(p.Cells), want)
			}
			off := slots[1].Start.Add(5 * time.Minute)
			if tc.slot == 5 {
				off = slots[1].Start.Add(time.Minute)
			}
			if _, err := PlanBooking(cat, blood(tc.minutes), nil, off, bkkMonday, "", nil); !apperr.Is(err, apperr.OutsideSchedule) {
				t.Errorf("off-grid %s: %v", off, err)
			}
		})
	}
}

func TestAvailabilityBangkokJSON(t *testing.T) {
	slots, err := Availability(bangkok(), blood(15), nil, []string{"2026-03-02"}, bkkMonday)
	if err != nil || len(slots) == 0 {
		t.Fatal(slots, err)
	}
	b, err := json.Marshal(slots[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"start":"2026-03-02T07:00:00+07:00","end":"2026-03-02T07:15:00+07:00","available":3}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	if slots[0].Start.Location().String() != "Asia/Bangkok" || slots[0].End.Location().String() != "Asia/Bangkok" {
		t.Errorf("locations %s %s", slots[0].Start.Location(), slots[0].End.Location())
	}
}

func TestAvailabilityDays(t *testing.T) {
	cat := bangkok()
	tests := []struct {
		name  string
		dates []string
		n     int
		first string
	}{
		{"sunday closed weekday", []string{"2026-03-08"}, 0, ""},
		{"closure on a wednesday", []string{"2026-03-04"}, 0, ""},
		{"saturday short hours", []string{"2026-03-07"}, 16, "2026-03-07T08:00:00+07:00"},
		{"a week", []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"}, 4*36 + 16, "2026-03-02T07:00:00+07:00"},
		{"unsorted and duplicated dates", []string{"2026-03-03", "2026-03-02", "2026-03-03"}, 72, "2026-03-02T07:00:00+07:00"},
		{"no dates", nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slots, err := Availability(cat, blood(15), nil, tc.dates, bkkMonday)
			if err != nil {
				t.Fatal(err)
			}
			if slots == nil {
				t.Fatal("nil result (marshals as null)")
			}
			if len(slots) != tc.n {
				t.Fatalf("%d slots, want %d", len(slots), tc.n)
			}
			if tc.n > 0 && slots[0].Start.Format(time.RFC3339) != tc.first {
				t.Errorf("first %s", slots[0].Start.Format(time.RFC3339))
			}
			if !slices.IsSortedFunc(slots, func(a, b Slot) int { return a.Start.Compare(b.Start) }) {
				t.Error("not sorted by start")
			}
			for i := 1; i < len(slots); i++ {
				if slots[i].Start.Equal(slots[i-1].Start) {
					t.Fatalf("duplicate start %s", slots[i].Start)
				}
			}
		})
	}
	_, err := Availability(cat, blood(15), nil, []string{"2026-03-02", "03/03/2026"}, bkkMonday)
	wantCode(t, err, apperr.Validation, "dates[1]: must be a date")
}

func TestAvailabilityBookingWindow(t *testing.T) {
	cat := bangkok()
	ict := bkkMonday.Location()
	tests := []struct {
		name        string
		svc         func(*Service)
		now         time.Time
		dates       []string
		n           int
		first, last string
	}{
		{"past day", nil, time.Date(2026, 3, 3, 0, 0, 0, 0, ict), []string{"2026-03-02"}, 0, "", ""},
		{"now mid-day drops past starts", nil, time.Date(2026, 3, 2, 10, 7, 30, 0, ict), []string{"2026-03-02"}, 23,
			"2026-03-02T10:15:00+07:00", "2026-03-02T15:45:00+07:00"},
		{"a start exactly at now is bookable", nil, time.Date(2026, 3, 2, 10, 0, 0, 0, ict), []string{"2026-03-02"}, 24,
			"2026-03-02T10:00:00+07:00", ""},
		{"start one nanosecond before now is past", nil, time.Date(2026, 3, 2, 10, 0, 0, 1, ict), []string{"2026-03-02"}, 23,
			"2026-03-02T10:15:00+07:00", ""},
		{"min notice", func(s *Service) { s.MinNoticeMinutes = 60 }, time.Date(2026, 3, 2, 10, 7, 30, 0, ict), []string{"2026-03-02"}, 19,
			"2026-03-02T11:15:00+07:00", ""},
		{"min notice boundary is inclusive", func(s *Service) { s.MinNoticeMinutes = 60 }, time.Date(2026, 3, 2, 10, 0, 0, 0, ict), []string{"2026-03-02"}, 20,
			"2026-03-02T11:00:00+07:00", ""},
		{"max advance boundary is inclusive", func(s *Service) { s.MaxAdvanceDays = 1 }, time.Date(2026, 3, 2, 10, 0, 0, 0, ict), []string{"2026-03-02", "2026-03-03"}, 24 + 13,
			"2026-03-02T10:00:00+07:00", "2026-03-03T10:00:00+07:00"},
		{"max advance cuts the next day", func(s *Service) { s.MaxAdvanceDays = 1 }, time.Date(2026, 3, 2, 10, 7, 30, 0, ict), []string{"2026-03-03"}, 13,
			"2026-03-03T07:00:00+07:00", "2026-03-03T10:00:00+07:00"},
		{"default max advance 60 days includes day 59", nil, bkkMonday, []string{"2026-04-30"}, 36, "", ""},
		{"default max advance 60 days excludes day 61", nil, bkkMonday, []string{"2026-05-02"}, 0, "", ""},
		{"default max advance day 60 up to now's time of day", nil, time.Date(2026, 3, 2, 10, 0, 0, 0, ict), []string{"2026-05-01"}, 13, "", "2026-05-01T10:00:00+07:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := blood(15)
			if tc.svc != nil {
				tc.svc(&svc)
			}
			slots, err := Availability(cat, svc, nil, tc.dates, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) != tc.n {
				t.Fatalf("%d slots, want %d: %v", len(slots), tc.n, starts(slots))
			}
			got := starts(slots)
			if tc.first != "" && got[0] != tc.first {
				t.Errorf("first %s, want %s", got[0], tc.first)
			}
			if tc.last != "" && got[len(got)-1] != tc.last {
				t.Errorf("last %s, want %s", got[len(got)-1], tc.last)
			}
		})
	}
}

// availAt returns the Available count at the given Bangkok start on
// 2026-03-02 (0 when the start is omitted).
func availAt(slots []Slot, hhmm string) int {
	for _, s := range slots {
		if s.Start.Format("15:04") == hhmm {
			return s.Available
		}
	}
	return 0
}

func bkkCell(id, hhmm string) CellKey {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-03-02 "+hhmm, bkkMonday.Location())
	if err != nil {
		panic(err)
	}
	return CellKey{ResourceID: id, Start: t.Unix()}
}

func TestAvailabilityResources(t *testing.T) {
	roomNurse := func(nurses int) Service {
		return Service{ID: "check", DurationMinutes: 30, Requires: []Requirement{
			{Type: ResourceRoom, Count: 1}, {Type: ResourceNurse, Count: nurses}}}
	}
	tests := []struct {
		name string
		cat  func(*Catalog)
		svc  Service
		occ  Occupancy
		want map[string]int // HH:MM → Available (0: omitted)
	}{
		{"all stations free", nil, blood(15), nil, map[string]int{"07:00": 3, "15:45": 3}},
		{"inactive station", func(c *Catalog) { c.Resources[0].Active = false }, blood(15), nil, map[string]int{"07:00": 2}},
		{"all stations inactive", func(c *Catalog) {
			for i := range c.Resources[:3] {
				c.Resources[i].Active = false
			}
		}, blood(15), nil, map[string]int{"07:00": 0, "12:00": 0}},
		{"wrong type does not count", func(c *Catalog) { c.Resources[0].Type = "centrifuge" }, blood(15), nil, map[string]int{"07:00": 2}},
		{"one cell taken", nil, blood(15), Occupancy{bkkCell("s01", "07:00"): "a1"}, map[string]int{"07:00": 2, "07:15": 3}},
		{"all stations taken", nil, blood(15), Occupancy{bkkCell("s01", "09:00"): "a1", bkkCell("s02", "09:00"): "a2", bkkCell("s03", "09:00"): "a3"},
			map[string]int{"08:45": 3, "09:00": 0, "09:15": 3}},
		{"taken cell blocks every start whose cells cover it", nil, blood(30), Occupancy{bkkCell("s01", "09:15"): "a1"},
			map[string]int{"08:45": 3, "09:00": 2, "09:15": 2, "09:30": 3}},
		{"20 min holds two cells", nil, blood(20), Occupancy{bkkCell("s01", "09:15"): "a1"},
			map[string]int{"08:45": 3, "09:00": 2, "09:15": 2, "09:30": 3}},
		{"cells of other resources and days are ignored", nil, blood(15), Occupancy{
			bkkCell("r1", "09:00"): "a1", bkkCell("n1", "09:00"): "a1", bkkCell("zz", "09:00"): "a9",
			{ResourceID: "s01", Start: at(t, "2026-03-03T09:00:00+07:00").Unix()}: "a2"},
			map[string]int{"09:00": 3}},
		// Hours moved from 07:00 to 07:10 after a 07:00 booking was made: its cell
		// is off the new grid but still overlaps the 07:10 start.
		{"off-grid taken cell still blocks overlapping starts", func(c *Catalog) {
			c.Hours.Weekly[0].Open = "07:10"
		}, blood(15), Occupancy{bkkCell("s01", "07:00"): "a1", bkkCell("s02", "07:20"): "a2"},
			map[string]int{"07:10": 1, "07:25": 2, "07:40": 3}},
		// A 20-minute visit holds two whole cells, so an off-grid taken cell at
		// 09:25 collides with a 09:00 start although the visit ends at 09:20.
		{"off-grid taken cell checked against whole held cells", nil, blood(20), Occupancy{bkkCell("s01", "09:25"): "a1"}, // held 09:25–09:40
			map[string]int{"08:45": 3, "09:00": 2, "09:15": 2, "09:30": 2, "09:45": 3}},
		{"room and nurse: min of rooms (2) and nurses (2 on hours)", nil, roomNurse(1), nil,
			map[string]int{"07:00": 2, "08:30": 2}},
		{"nurse with own hours adds capacity inside them", func(c *Catalog) {
			c.Resources = append(c.Resources, Resource{ID: "r3", Type: ResourceRoom, Active: true})
		}, roomNurse(1), nil, map[string]int{"08:30": 2, "08:45": 2, "09:00": 3, "11:30": 3, "11:45": 2}},
		{"two nurses per visit: floor(nurses/2)", nil, roomNurse(2), nil,
			map[string]int{"08:30": 1, "09:00": 1, "11:30": 1}},
		{"two nurses per visit, four nurses", func(c *Catalog) {
			c.Resources = append(c.Resources, Resource{ID: "n4", Type: ResourceNurse, Active: true})
		}, roomNurse(2), nil, map[string]int{"08:30": 1, "09:00": 2, "11:30": 2, "11:45": 1}},
		{"busy nurses bound the min", nil, roomNurse(1), Occupancy{bkkCell("n1", "10:00"): "a1", bkkCell("n2", "10:15"): "a2", bkkCell("n3", "10:45"): "a3"},
			map[string]int{"09:30": 2, "09:45": 2, "10:00": 1, "10:15": 2, "10:30": 2, "11:00": 2}},
		{"busy rooms bound the min", nil, roomNurse(1), Occupancy{bkkCell("r1", "14:00"): "a1", bkkCell("r2", "14:00"): "a2"},
			map[string]int{"13:30": 2, "13:45": 0, "14:00": 0, "14:15": 2}},
		{"resource own hours outside the branch day is unusable", func(c *Catalog) {
			for i := range c.Resources[:3] {
				c.Resources[i].Hours = []DayHours{{Day: "mon", Open: "05:00", Close: "08:00"}}
			}
		}, blood(15), nil, map[string]int{"07:00": 3, "07:45": 3, "08:00": 0}},
		{"own hours with no entry for the day", func(c *Catalog) {
			c.Resources[0].Hours = []DayHours{{Day: "tue", Open: "07:00", Close: "16:00"}}
		}, blood(15), nil, map[string]int{"07:00": 2}},
		{"own hours must contain the whole visit", func(c *Catalog) {
			c.Resources[0].Hours = []DayHours{{Day: "mon", Open: "07:00", Close: "09:10"}}
		}, blood(15), nil, map[string]int{"08:45": 3, "09:00": 2}},
		{"duplicate resource id counted once", func(c *Catalog) {
			c.Resources = append(c.Resources, station("s01"))
		}, blood(15), Occupancy{bkkCell("s01", "09:00"): "a1"}, map[string]int{"08:45": 3, "09:00": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cat := bangkok()
			if tc.cat != nil {
				tc.cat(&cat)
			}
			slots, err := Availability(cat, tc.svc, tc.occ, []string{"2026-03-02"}, bkkMonday)
			if err != nil {
				t.Fatal(err)
			}
			for hhmm, want := range tc.want {
				if got := availAt(slots, hhmm); got != want {
					t.Errorf("%s: available %d, want %d", hhmm, got, want)
				}
			}
			for _, s := range slots {
				if s.Available <= 0 {
					t.Errorf("%s listed with %d", s.Start, s.Available)
				}
			}
		})
	}
}

func TestAvailabilityDoesNotMutateInputs(t *testing.T) {
	cat := bangkok()
	before := fmt.Sprint(cat)
	occ := Occupancy{bkkCell("s01", "09:00"): "a1"}
	if _, err := Availability(cat, blood(15), occ, []string{"2026-03-02"}, bkkMonday); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cat) != before || len(occ) != 1 {
		t.Fatal("inputs changed")
	}
}

func TestScheduleBadCatalog(t *testing.T) {
	tests := []struct {
		name string
		cat  func(*Catalog)
		svc  func(*Service)
	}{
		{"unknown zone", func(c *Catalog) { c.Branch.TimeZone = "Nowhere/City" }, nil},
		{"no duration", nil, func(s *Service) { s.DurationMinutes = 0 }},
		{"no requirements", nil, func(s *Service) { s.Requires = nil }},
		{"zero count", nil, func(s *Service) { s.Requires[0].Count = 0 }},
		{"too many cells", nil, func(s *Service) { s.DurationMinutes = 15 * 41 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cat, svc := bangkok(), blood(15)
			if tc.cat != nil {
				tc.cat(&cat)
			}
			if tc.svc != nil {
				tc.svc(&svc)
			}
			_, err := Availability(cat, svc, nil, []string{"2026-03-02"}, bkkMonday)
			if apperr.CodeOf(err) != apperr.Internal {
				t.Errorf("Availability: %v", err)
			}
			_, err = PlanBooking(cat, svc, nil, at(t, "2026-03-02T09:00:00+07:00"), bkkMonday, "", nil)
			if apperr.CodeOf(err) != apperr.Internal {
				t.Errorf("PlanBooking: %v", err)
			}
		})
	}
	// Defaults stand in for a catalog stored before they were enforced.
	cat := bangkok()
	cat.Branch.TimeZone, cat.Branch.SlotMinutes = "", 0
	slots, err := Availability(cat, blood(15), nil, []string{"2026-03-02"}, bkkMonday)
	if err != nil || len(slots) != 36 || slots[0].Start.Format(time.RFC3339) != "2026-03-02T07:00:00+07:00" {
		t.Fatalf("defaults: %v %v", len(slots), err)
	}
}

// nyCatalog is a New York branch open 00:00–06:00 every day.
func nyCatalog() Catalog {
	var w []DayHours
	for _, d := range weekdayNames {
		w = append(w, DayHours{Day: d, Open: "00:00", Close: "06:00"})
	}
	return Catalog{
		Branch:    Branch{ID: "ny", Name: "Queens", TimeZone: "America/New_York", SlotMinutes: 15},
		Hours:     Hours{Weekly: w},
		Resources: []Resource{station("s01")},
	}
}

func TestAvailabilityDST(t *testing.T) {
	now := at(t, "2026-02-20T00:00:00Z")
	tests := []struct {
		date    string
		n       int
		samples map[int]string // slot index → RFC 3339 start
	}{
		{"2026-03-08", 20, map[int]string{
			0: "2026-03-08T00:00:00-05:00", 7: "2026-03-08T01:45:00-05:00",
			8: "2026-03-08T03:00:00-04:00", 19: "2026-03-08T05:45:00-04:00"}},
		{"2026-03-09", 24, map[int]string{0: "2026-03-09T00:00:00-04:00", 23: "2026-03-09T05:45:00-04:00"}},
		{"2026-11-01", 28, map[int]string{
			0: "2026-11-01T00:00:00-04:00", 4: "2026-11-01T01:00:00-04:00", 7: "2026-11-01T01:45:00-04:00",
			8: "2026-11-01T01:00:00-05:00", 11: "2026-11-01T01:45:00-05:00", 12: "2026-11-01T02:00:00-05:00",
			27: "2026-11-01T05:45:00-05:00"}},
		{"2026-11-02", 24, map[int]string{0: "2026-11-02T00:00:00-05:00"}},
	}
	svc := blood(15)
	svc.MaxAdvanceDays = 365
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			slots, err := Availability(nyCatalog(), svc, nil, []string{tc.date}, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) != tc.n {
				t.Fatalf("%d slots, want %d", len(slots), tc.n)
			}
			got := starts(slots)
			for i, want := range tc.samples {
				if got[i] != want {
					t.Errorf("slot %d: %s, want %s", i, got[i], want)
				}
			}
			for i := 1; i < len(slots); i++ {
				if d := slots[i].Start.Sub(slots[i-1].Start); d != 15*time.Minute {
					t.Errorf("slot %d: %s after previous, want 15m", i, d)
				}
			}
			last := slots[len(slots)-1]
			if last.End.Format("15:04") != "06:00" {
				t.Errorf("last slot ends %s", last.End.Format(time.RFC3339))
			}
		})
	}
}

func TestPlanBookingDST(t *testing.T) {
	now := at(t, "2026-02-20T00:00:00Z")
	svc := blood(60)
	svc.MaxAdvanceDays = 365
	tests := []struct {
		start, end string
		cells      []string
		err        string
	}{
		// An hour of real time across the jump: 01:30 EST → 03:30 EDT.
		{"2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}, ""},
		// The repeated hour: second 01:30 is its own grid start.
		{"2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00",
			[]string{"2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:15:00-05:00"}, ""},
		{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", nil, ""},
		{"2026-03-08T05:00:00-04:00", "2026-03-08T06:00:00-04:00", nil, ""},
		{"2026-03-08T05:15:00-04:00", "", nil, "outside opening hours"},
		{"2026-11-01T05:00:00-05:00", "2026-11-01T06:00:00-05:00", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.start, func(t *testing.T) {
			p, err := PlanBooking(nyCatalog(), svc, nil, at(t, tc.start), now, "", nil)
			if tc.err != "" {
				wantCode(t, err, apperr.OutsideSchedule, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Start.Format(time.RFC3339); got != tc.start {
				t.Errorf("start %s", got)
			}
			if got := p.End.Format(time.RFC3339); got != tc.end {
				t.Errorf("end %s, want %s", got, tc.end)
			}
			if p.End.Sub(p.Start) != time.Hour {
				t.Errorf("real duration %s", p.End.Sub(p.Start))
			}
			if len(p.Cells) != 4 {
				t.Fatalf("%d cells", len(p.Cells))
			}
			for i, want := range tc.cells {
				if got := p.Cells[i].Start.Format(time.RFC3339); got != want {
					t.Errorf("cell %d: %s, want %s", i, got, want)
				}
			}
			for _, c := range p.Cells {
				if c.Date != p.Date || c.Date != tc.start[:10] {
					t.Errorf("cell date %s, plan date %s", c.Date, p.Date)
				}
			}
		})
	}
}

func TestPlanBookingOutside(t *testing.T) {
	cat := bangkok()
	now := at(t, "2026-03-02T10:07:30+07:00")
	svc := blood(15)
	svc.MinNoticeMinutes = 60
	svc.MaxAdvanceDays = 30
	tests := []struct {
		name, start, msg string
	}{
		{"in the past", "2026-03-02T09:00:00+07:00", "in the past"},
		{"yesterday", "2026-03-01T09:00:00+07:00", "in the past"},
		{"too soon", "2026-03-02T11:00:00+07:00", "too soon"},
		{"too soon names the notice", "2026-03-02T10:15:00+07:00", "at least 60 minutes"},
		{"too far ahead", "2026-04-01T11:00:00+07:00", "too far ahead"},
		{"too far ahead names the horizon", "2026-04-02T09:00:00+07:00", "at most 30 days"},
		{"closure", "2026-03-04T09:00:00+07:00", "closed on 2026-03-04 (closure)"},
		{"closed weekday", "2026-03-08T09:00:00+07:00", "closed on 2026-03-08 (closed day)"},
		{"before opening", "2026-03-03T06:45:00+07:00", "outside opening hours"},
		{"ends after closing", "2026-03-03T15:50:00+07:00", "outside opening hours"},
		{"at closing", "2026-03-03T16:00:00+07:00", "outside opening hours"},
		{"saturday afternoon", "2026-03-07T12:00:00+07:00", "outside opening hours"},
		{"off the grid by minutes", "2026-03-03T09:05:00+07:00", "off the grid"},
		{"off the grid by seconds", "2026-03-03T09:00:30+07:00", "off the grid"},
		{"utc instant that is local sunday", "2026-03-07T17:00:00Z", "closed on 2026-03-08"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanBooking(cat, svc, nil, at(t, tc.start), now, "", nil)
			wantCode(t, err, apperr.OutsideSchedule, tc.msg)
		})
	}
	// Sub-second starts are off the grid too.
	_, err := PlanBooking(cat, svc, nil, at(t, "2026-03-03T09:00:00+07:00").Add(time.Millisecond), now, "", nil)
	wantCode(t, err, apperr.OutsideSchedule, "off the grid")
	// The edges of the window are bookable.
	for _, s := range []string{"2026-03-02T11:15:00+07:00", "2026-03-03T15:45:00+07:00", "2026-03-03T07:00:00+07:00", "2026-04-01T10:00:00+07:00"} {
		if _, err := PlanBooking(cat, svc, nil, at(t, s), now, "", nil); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	exact := at(t, "2026-03-02T11:00:00+07:00")
	if _, err := PlanBooking(cat, svc, nil, exact, exact.Add(-time.Hour), "", nil); err != nil {
		t.Errorf("start exactly at now+notice: %v", err)
	}
	if _, err := PlanBooking(cat, svc, nil, exact, exact.Add(-time.Hour+time.Nanosecond), "", nil); !apperr.Is(err, apperr.OutsideSchedule) {
		t.Errorf("start a nanosecond inside the notice: %v", err)
	}
}

func TestPlanBooking(t *testing.T) {
	cat := bangkok()
	roomNurse := Service{ID: "check", DurationMinutes: 40, Requires: []Requirement{
		{Type: ResourceRoom, Count: 1}, {Type: ResourceNurse, Count: 2}}}
	tests := []struct {
		name      string
		svc       Service
		occ       Occupancy
		start     string
		ignore    string
		resources []string
		cells     int
		err       string
	}{
		{"lowest id first", blood(15), nil, "2026-03-02T09:00:00+07:00", "", []string{"s01"}, 1, ""},
		{"utc input", blood(15), nil, "2026-03-02T02:00:00Z", "", []string{"s01"}, 1, ""},
		{"skips taken", blood(15), Occupancy{bkkCell("s01", "09:00"): "a1"}, "2026-03-02T09:00:00+07:00", "", []string{"s02"}, 1, ""},
		{"skips partly taken", blood(30), Occupancy{bkkCell("s01", "09:15"): "a1"}, "2026-03-02T09:00:00+07:00", "", []string{"s02"}, 2, ""},
		{"full", blood(15), Occupancy{bkkCell("s01", "09:00"): "a1", bkkCell("s02", "09:00"): "a2", bkkCell("s03", "09:00"): "a3"},
			"2026-03-02T09:00:00+07:00", "", nil, 0, "no free collection_station at 2026-03-02T09:00:00+07:00"},
		{"ignore frees the rescheduled visit's cells", blood(15), Occupancy{bkkCell("s01", "09:00"): "a1", bkkCell("s02", "09:00"): "a2", bkkCell("s03", "09:00"): "a3"},
			"2026-03-02T09:00:00+07:00", "a2", []string{"s02"}, 1, ""},
		{"ignore of another id frees nothing", blood(15), Occupancy{bkkCell("s01", "09:00"): "a1", bkkCell("s02", "09:00"): "a2", bkkCell("s03", "09:00"): "a3"},
			"2026-03-02T09:00:00+07:00", "a4", nil, 0, "no free collection_station"},
		{"requirement order, ids ascending", roomNurse, nil, "2026-03-02T09:00:00+07:00", "", []string{"r1", "n1", "n2"}, 9, ""},
		{"nurse with own hours used when others busy", roomNurse, Occupancy{bkkCell("n1", "09:30"): "a1"},
			"2026-03-02T09:00:00+07:00", "", []string{"r1", "n2", "n3"}, 9, ""},
		{"nurse outside own hours unusable", roomNurse, Occupancy{bkkCell("n1", "08:00"): "a1"},
			"2026-03-02T08:00:00+07:00", "", nil, 0, "no free nurse at"},
		{"nurse own hours must contain the whole visit", roomNurse, Occupancy{bkkCell("n1", "11:30"): "a1"},
			"2026-03-02T11:30:00+07:00", "", nil, 0, "no free nurse at"},
		{"rooms busy", roomNurse, Occupancy{bkkCell("r1", "10:15"): "a1", bkkCell("r2", "09:45"): "a2"},
			"2026-03-02T09:45:00+07:00", "", nil, 0, "no free room at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := bkkMonday
			p, err := PlanBooking(cat, tc.svc, tc.occ, at(t, tc.start), now, tc.ignore, nil)
			if tc.err != "" {
				wantCode(t, err, apperr.SlotUnavailable, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Resources, tc.resources) {
				t.Errorf("resources %v, want %v", p.Resources, tc.resources)
			}
			if len(p.Cells) != tc.cells {
				t.Fatalf("%d cells, want %d", len(p.Cells), tc.cells)
			}
			s := at(t, tc.start)
			if !p.Start.Equal(s) || p.Start.Location().String() != "Asia/Bangkok" || p.End.Location().String() != "Asia/Bangkok" {
				t.Errorf("start %s end %s", p.Start, p.End)
			}
			if !p.End.Equal(s.Add(time.Duration(tc.svc.DurationMinutes) * time.Minute)) {
				t.Errorf("end %s", p.End)
			}
			if p.Date != "2026-03-02" {
				t.Errorf("date %s", p.Date)
			}
			perRes := len(p.Cells) / len(p.Resources)
			for i, c := range p.Cells {
				r, j := i/perRes, i%perRes
				if c.ResourceID != p.Resources[r] {
					t.Errorf("cell %d resource %s, want %s", i, c.ResourceID, p.Resources[r])
				}
				if !c.Start.Equal(s.Add(time.Duration(j) * 15 * time.Minute)) {
					t.Errorf("cell %d start %s", i, c.Start)
				}
				if c.Date != "2026-03-02" || c.Start.Location().String() != "Asia/Bangkok" {
					t.Errorf("cell %d date %s loc %s", i, c.Date, c.Start.Location())
				}
				if owner, taken := tc.occ[CellKey{c.ResourceID, c.Start.Unix()}]; taken && owner != tc.ignore {
					t.Errorf("cell %v is held by %s", c, owner)
				}
			}
		})
	}
}

func TestPlanBookingShuffle(t *testing.T) {
	cat := bangkok()
	for i := range 7 {
		cat.Resources = append(cat.Resources, station(fmt.Sprintf("s%02d", i+4)))
	}
	occ := Occupancy{bkkCell("s05", "09:00"): "a1"}
	start := at(t, "2026-03-02T09:00:00+07:00")
	seen := map[string]int{}
	for seed := range uint64(200) {
		p, err := PlanBooking(cat, blood(15), occ, start, bkkMonday, "", rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		seen[p.Resources[0]]++
		again, _ := PlanBooking(cat, blood(15), occ, start, bkkMonday, "", rand.New(rand.NewPCG(seed, 1)))
		if again.Resources[0] != p.Resources[0] {
			t.Fatal("same seed, different choice")
		}
	}
	if seen["s05"] > 0 {
		t.Fatal("picked a taken station")
	}
	if len(seen) < 8 {
		t.Errorf("shuffle reached only %d of 9 free stations: %v", len(seen), seen)
	}
	two := Service{ID: "pair", DurationMinutes: 15, Requires: []Requirement{
		{Type: ResourceRoom, Count: 1}, {Type: ResourceCollectionStation, Count: 3}}}
	for seed := range uint64(20) {
		p, err := PlanBooking(cat, two, occ, start, bkkMonday, "", rand.New(rand.NewPCG(seed, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Resources) != 4 || p.Resources[0][0] != 'r' || !slices.IsSorted(p.Resources[1:]) {
			t.Errorf("resources %v: want the room, then three stations in id order", p.Resources)
		}
	}
}

// TestAvailabilityAgreesWithPlanBooking checks, on random occupancies and
// random resource hours, that a start is listed exactly when it can be booked
// and that Available bookings can then be made one after another.
func TestAvailabilityAgreesWithPlanBooking(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	services := []Service{blood(15), blood(25), blood(45),
		{ID: "c", DurationMinutes: 30, Requires: []Requirement{{Type: ResourceRoom, Count: 1}, {Type: ResourceNurse, Count: 2}}}}
	date := "2026-03-02"
	for round := range 40 {
		cat := bangkok()
		cat.Resources = append(cat.Resources, station("s04"), Resource{ID: "n4", Type: ResourceNurse, Active: rnd.IntN(2) == 0,
			Hours: []DayHours{{Day: "mon", Open: "10:00", Close: "14:30"}}})
		svc := services[round%len(services)]
		occ := Occupancy{}
		for _, r := range cat.Resources {
			for m := 7 * 60; m < 16*60; m += 15 {
				if rnd.IntN(3) == 0 {
					occ[bkkCell(r.ID, fmt.Sprintf("%02d:%02d", m/60, m%60))] = fmt.Sprintf("a%d", rnd.IntN(5))
				}
			}
		}
		slots, err := Availability(cat, svc, occ, []string{date}, bkkMonday)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]int{}
		for _, s := range slots {
			listed[s.Start.Format("15:04")] = s.Available
		}
		for m := 6 * 60; m < 17*60; m += 5 {
			hhmm := fmt.Sprintf("%02d:%02d", m/60, m%60)
			start := at(t, date+"T"+hhmm+":00+07:00")
			_, err := PlanBooking(cat, svc, occ, start, bkkMonday, "", nil)
			if (err == nil) != (listed[hhmm] > 0) {
				t.Fatalf("round %d %s %s: listed %d, plan error %v", round, svc.ID, hhmm, listed[hhmm], err)
			}
			// Book Available times in a row; the next must fail.
			work := Occupancy{}
			for k, v := range occ {
				work[k] = v
			}
			for n := range listed[hhmm] {
				p, err := PlanBooking(cat, svc, work, start, bkkMonday, "", rnd)
				if err != nil {
					t.Fatalf("round %d %s booking %d of %d: %v", round, hhmm, n+1, listed[hhmm], err)
				}
				for _, c := range p.Cells {
					k := CellKey{c.ResourceID, c.Start.Unix()}
					if _, dup := work[k]; dup {
						t.Fatalf("cell %v taken twice", k)
					}
					work[k] = "new"
				}
			}
			if listed[hhmm] > 0 {
				if _, err := PlanBooking(cat, svc, work, start, bkkMonday, "", nil); !apperr.Is(err, apperr.SlotUnavailable) {
					t.Fatalf("round %d %s: booking beyond Available: %v", round, hhmm, err)
				}
			}
		}
	}
}

// benchServices are the branch's three services: a blood draw, a longer
// draw and a package needing two stations at once.
func benchServices() []Service {
	return []Service{blood(15), blood(30),
		{ID: "pkg", DurationMinutes: 60, Requires: []Requirement{{Type: ResourceCollectionStation, Count: 2}}}}
}

// benchCatalog is a Bangkok branch open every day 07:00–16:00 on a 15-minute
// grid with 20 collection stations and three services, and an occupancy of
// half its cells over the 31 days from 2026-03-01.
func benchCatalog(tb testing.TB) (Catalog, Occupancy, []string) {
	var w []DayHours
	for _, d := range weekdayNames {
		w = append(w, DayHours{Day: d, Open: "07:00", Close: "16:00"})
	}
	cat := Catalog{
		Branch:   Branch{ID: "br1", TimeZone: "Asia/Bangkok", SlotMinutes: 15},
		Hours:    Hours{Weekly: w},
		Services: benchServices(),
	}
	for i := range 20 {
		cat.Resources = append(cat.Resources, station(fmt.Sprintf("st%02d", i)))
	}
	dates, err := DatesInRange("2026-03-01", "2026-03-31", MaxRangeDays)
	if err != nil {
		tb.Fatal(err)
	}
	loc := mustLoc(tb, "Asia/Bangkok")
	occ := Occupancy{}
	for _, d := range dates {
		open, close, _ := DayWindow(loc, w, d)
		// Each station alternates busy and free hours, half the stations
		// busy in any hour.
		n := 0
		for c := open; c.Before(close); c = c.Add(15 * time.Minute) {
			for j, r := range cat.Resources {
				if (n/4+j)%2 == 0 {
					occ[CellKey{r.ID, c.Unix()}] = fmt.Sprintf("a%d-%d", n/4, j)
				}
			}
			n++
		}
	}
	return cat, occ, dates
}

// BenchmarkAvailability31Days20Stations measures one 31-day query per
// operation, for each of the branch's services.
func BenchmarkAvailability31Days20Stations(b *testing.B) {
	cat, occ, dates := benchCatalog(b)
	now := at(b, "2026-02-28T00:00:00+07:00")
	for _, svc := range cat.Services {
		b.Run(svc.ID+fmt.Sprint(svc.DurationMinutes), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Availability(cat, svc, occ, dates, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
