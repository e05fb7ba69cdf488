package domain

// NormalizeBranch trims fields, applies defaults (time zone Asia/Bangkok, slot 15)
// and validates: name 1..200 chars, loadable IANA zone, slotMinutes one of 5, 10,
// 15, 20, 30, 60. VALIDATION_FAILED names the field.
func NormalizeBranch(b *Branch) error { panic("todo") }

// ValidateHours checks weekly days (mon..sun, each at most once, "HH:MM" 24-hour,
// open < close, close ≤ "24:00") and closures (valid dates, no duplicates).
func ValidateHours(h Hours) error { panic("todo") }

// NormalizeResource trims and validates a resource: name 1..200 chars, type
// snake_case 1..50 chars, own hours valid as in ValidateHours.
func NormalizeResource(r *Resource) error { panic("todo") }

// NormalizeService validates a service against the branch grid and applies
// defaults (MaxAdvanceDays DefaultMaxAdvanceDays when 0): name 1..200 chars,
// durationMinutes 1..720, requires non-empty with distinct types and count ≥ 1,
// fastingHours 0..72, minNotice ≥ 0, maxAdvanceDays 1..365, cancelCutoff ≥ 0,
// and ceil(duration/slot) × Σcount ≤ MaxCellsPerBooking.
func NormalizeService(s *Service, slotMinutes int) error { panic("todo") }

// NormalizePatient trims and validates patient fields: id and name required
// (1..200), phone E.164 when present, email plausible when present, locale one
// of "th", "en" (default "th").
func NormalizePatient(p *Patient) error { panic("todo") }
