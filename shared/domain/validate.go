package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/apperr"
)

// validType reports whether s is a resource type: a lower-case letter, then
// up to 49 lower-case letters, digits or underscores. (A loop, not a
// regexp: counted repetitions compile into large programs at every cold
// start; validate_test.go checks it against the regexp.)
func validType(s string) bool {
	if len(s) < 1 || len(s) > 50 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validPhone reports whether s is an E.164 number: "+", a non-zero digit,
// then 6 to 14 digits.
func validPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// slotChoices are the grids a branch may use; all divide an hour, so a day's
// grid looks the same whatever the opening minute.
var slotChoices = []int{5, 10, 15, 20, 30, 60}

func invalid(format string, args ...any) error {
	return apperr.E(apperr.Validation, format, args...)
}

// checkText requires 1..max characters (runes, not bytes: names are often
// Thai) of valid UTF-8 without control characters, which have no place in a
// name shown in lists and on slips.
func checkText(field, s string, max int) error {
	if s == "" {
		return invalid("%s: is required", field)
	}
	if !utf8.ValidString(s) {
		return invalid("%s: must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid("%s: must be at most %d characters", field, max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return invalid("%s: must not contain control characters", field)
	}
	return nil
}

// MaxAddressLength bounds a branch's address (characters).
const MaxAddressLength = 500

// NormalizeBranch trims fields, applies defaults (time zone Asia/Bangkok, slot 15)
// and validates: name 1..200 chars, address at most MaxAddressLength, loadable IANA zone, slotMinutes one of 5, 10,
// 15, 20, 30, 60. VALIDATION_FAILED names the field.
func NormalizeBranch(b *Branch) error {
	b.ID = strings.TrimSpace(b.ID)
	b.Name = strings.TrimSpace(b.Name)
	b.TimeZone = strings.TrimSpace(b.TimeZone)
	b.Address = strings.TrimSpace(b.Address)
	if b.TimeZone == "" {
		b.TimeZone = DefaultTimeZone
	}
	if b.SlotMinutes == 0 {
		b.SlotMinutes = DefaultSlotMinutes
	}
	if err := checkText("name", b.Name, 200); err != nil {
		return err
	}
	if b.Address != "" {
		if err := checkText("address", b.Address, MaxAddressLength); err != nil {
			return err
		}
	}
	if _, err := LoadLocation(b.TimeZone); err != nil {
		return err
	}
	ok := false
	for _, c := range slotChoices {
		ok = ok || b.SlotMinutes == c
	}
	if !ok {
		return invalid("slotMinutes: must be one of 5, 10, 15, 20, 30, 60")
	}
	return nil
}

// validateWeekly checks weekly hours; field is "weekly" for a branch and
// "hours" for a resource.
func validateWeekly(field string, weekly []DayHours) error {
	var seen [7]bool
	for i, d := range weekly {
		wd := weekdayIndex(d.Day)
		if wd < 0 {
			return invalid("%s[%d].day: must be one of mon, tue, wed, thu, fri, sat, sun", field, i)
		}
		if seen[wd] {
			return invalid("%s[%d].day: %s is listed twice", field, i, d.Day)
		}
		seen[wd] = true
		o, ok := parseHHMM(d.Open, false)
		if !ok {
			return invalid("%s[%d].open: must be HH:MM (00:00..23:59)", field, i)
		}
		c, ok := parseHHMM(d.Close, true)
		if !ok {
			return invalid("%s[%d].close: must be HH:MM (00:00..24:00)", field, i)
		}
		if o >= c {
			return invalid("%s[%d].close: must be after open", field, i)
		}
	}
	return nil
}

// ValidateHours checks weekly days (mon..sun, each at most once, "HH:MM" 24-hour,
// open < close, close ≤ "24:00") and closures (valid dates, no duplicates).
func ValidateHours(h Hours) error {
	if err := validateWeekly("weekly", h.Weekly); err != nil {
		return err
	}
	seen := make(map[string]bool, len(h.Closures))
	for i, c := range h.Closures {
		if _, ok := parseDate(c.Date); !ok {
			return invalid("closures[%d].date: must be a date YYYY-MM-DD", i)
		}
		if seen[c.Date] {
			return invalid("closures[%d].date: %s is listed twice", i, c.Date)
		}
		seen[c.Date] = true
	}
	return nil
}

// NormalizeResource trims and validates a resource: name 1..200 chars, type
// snake_case 1..50 chars, own hours valid as in ValidateHours.
func NormalizeResource(r *Resource) error {
	r.ID = strings.TrimSpace(r.ID)
	r.Name = strings.TrimSpace(r.Name)
	r.Type = strings.TrimSpace(r.Type)
	if err := checkText("name", r.Name, 200); err != nil {
		return err
	}
	if !validType(r.Type) {
		return invalid("type: must be snake_case (a-z, 0-9, _; 1..50 characters, starting with a letter)")
	}
	return validateWeekly("hours", r.Hours)
}

// NormalizeService validates a service against the branch grid and applies
// defaults (MaxAdvanceDays DefaultMaxAdvanceDays when 0): name 1..200 chars,
// durationMinutes 1..720, requires non-empty with distinct types and count ≥ 1,
// fastingHours 0..72, minNotice ≥ 0, maxAdvanceDays 1..365, cancelCutoff ≥ 0,
// and ceil(duration/slot) × Σcount ≤ MaxCellsPerBooking.
//
// A slotMinutes ≤ 0 means DefaultSlotMinutes.
func NormalizeService(s *Service, slotMinutes int) error {
	if slotMinutes <= 0 {
		slotMinutes = DefaultSlotMinutes
	}
	s.ID = strings.TrimSpace(s.ID)
	s.Name = strings.TrimSpace(s.Name)
	if s.MaxAdvanceDays == 0 {
		s.MaxAdvanceDays = DefaultMaxAdvanceDays
	}
	if err := checkText("name", s.Name, 200); err != nil {
		return err
	}
	if s.DurationMinutes < 1 || s.DurationMinutes > 720 {
		return invalid("durationMinutes: must be 1..720")
	}
	if len(s.Requires) == 0 {
		return invalid("requires: must list at least one resource type")
	}
	total := 0
	seen := make(map[string]bool, len(s.Requires))
	for i := range s.Requires {
		r := &s.Requires[i]
		r.Type = strings.TrimSpace(r.Type)
		if !validType(r.Type) {
			return invalid("requires[%d].type: must be snake_case (a-z, 0-9, _; 1..50 characters, starting with a letter)", i)
		}
		if seen[r.Type] {
			return invalid("requires[%d].type: %s is listed twice", i, r.Type)
		}
		seen[r.Type] = true
		// The upper bound keeps the sum below from overflowing; the cell
		// limit below is the real one.
		if r.Count < 1 || r.Count > MaxCellsPerBooking {
			return invalid("requires[%d].count: must be 1..%d", i, MaxCellsPerBooking)
		}
		total += r.Count
	}
	if s.Preparation.FastingHours < 0 || s.Preparation.FastingHours > 72 {
		return invalid("preparation.fastingHours: must be 0..72")
	}
	if s.MinNoticeMinutes < 0 {
		return invalid("minNoticeMinutes: must be 0 or more")
	}
	if s.MaxAdvanceDays < 1 || s.MaxAdvanceDays > 365 {
		return invalid("maxAdvanceDays: must be 1..365")
	}
	if s.CancelCutoffMinutes < 0 {
		return invalid("cancelCutoffMinutes: must be 0 or more")
	}
	cells := (s.DurationMinutes + slotMinutes - 1) / slotMinutes
	if cells*total > MaxCellsPerBooking {
		return invalid("durationMinutes: %d minutes on a %d-minute grid for %d resources needs %d cells, more than %d",
			s.DurationMinutes, slotMinutes, total, cells*total, MaxCellsPerBooking)
	}
	return nil
}

// plausibleEmail is deliberately loose: exactly one @, a non-empty local part,
// and a dotted domain without empty labels. Deliverability is the mail
// system's job; this only catches typos such as a missing @ or domain.
func plausibleEmail(s string) bool {
	if len(s) > 254 || strings.Count(s, "@") != 1 {
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" {
			return false
		}
	}
	return utf8.ValidString(s)
}

// NormalizePatient trims and validates patient fields: id and name required
// (1..200), phone E.164 when present, email plausible when present, locale one
// of "th", "en" (default "th").
func NormalizePatient(p *Patient) error {
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.TrimSpace(p.Name)
	p.Phone = strings.TrimSpace(p.Phone)
	p.Email = strings.TrimSpace(p.Email)
	p.Locale = strings.TrimSpace(p.Locale)
	if p.Locale == "" {
		p.Locale = "th"
	}
	if err := checkText("patient.id", p.ID, 200); err != nil {
		return err
	}
	if err := checkText("patient.name", p.Name, 200); err != nil {
		return err
	}
	if p.Phone != "" && !validPhone(p.Phone) {
		return invalid("patient.phone: must be E.164, e.g. +66812345678")
	}
	if p.Email != "" && !plausibleEmail(p.Email) {
		return invalid("patient.email: must be an email address")
	}
	if p.Locale != "th" && p.Locale != "en" {
		return invalid("patient.locale: must be th or en")
	}
	return nil
}
