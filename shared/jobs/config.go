package jobs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// Environment variables of the jobs.
const (
	// EnvReminderLeadTimes: comma-separated Go durations in whole minutes,
	// e.g. "24h,2h" (the default).
	EnvReminderLeadTimes = "REMINDER_LEAD_TIMES"
	// EnvQuietHours: "HH:MM-HH:MM" in branch local time, e.g. "21:00-07:00"
	// (the default), or "off" for none.
	EnvQuietHours = "QUIET_HOURS"
	// EnvNoShowGraceMinutes: minutes after a visit's end before the sweep
	// marks it no_show, 0..1440 (default 30).
	EnvNoShowGraceMinutes = "NO_SHOW_GRACE_MINUTES"
	// EnvPDPARetentionDays: days after a visit's end its patient's contact
	// data is kept, 90..3650 (default 365).
	EnvPDPARetentionDays = "PDPA_RETENTION_DAYS"
)

// Bounds of the configuration.
const (
	// MaxLeadTime bounds a reminder's lead time: the reminders job lists
	// visits up to this far ahead on every run.
	MaxLeadTime = 7 * 24 * time.Hour
	// MaxNoShowGraceMinutes bounds NO_SHOW_GRACE_MINUTES (a day).
	MaxNoShowGraceMinutes = 24 * 60
	// MinPDPARetentionDays bounds PDPA_RETENTION_DAYS from below: a typo
	// ("36" for "365") must not erase most of a year of contact data that
	// follow-ups and billing disputes still need.
	MinPDPARetentionDays = 90
	// MaxPDPARetentionDays bounds PDPA_RETENTION_DAYS from above (ten years).
	MaxPDPARetentionDays = 3650
)

// Config is the jobs' configuration.
type Config struct {
	// Reminders is the reminder policy (REMINDER_LEAD_TIMES, QUIET_HOURS).
	Reminders domain.ReminderPolicy
	// NoShowGrace is how long after its end a booked visit becomes a no-show
	// (NO_SHOW_GRACE_MINUTES).
	NoShowGrace time.Duration
	// PDPARetention is how long after a visit's end its patient's contact
	// data is kept (PDPA_RETENTION_DAYS).
	PDPARetention time.Duration
}

// DefaultConfig returns the configuration with every default.
func DefaultConfig() Config {
	return Config{
		Reminders:     domain.DefaultReminderPolicy(),
		NoShowGrace:   DefaultNoShowGrace,
		PDPARetention: DefaultPDPARetention,
	}
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in
// production); an unset or blank variable takes its default. The error
// lists every bad variable, each naming the variable and the rule it breaks.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	bad := func(name, value, rule string) {
		errs = append(errs, fmt.Errorf("jobs: %s=%q: %s", name, value, rule))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	if v := get(EnvReminderLeadTimes); v != "" {
		leads, rule := parseLeadTimes(v)
		if rule != "" {
			bad(EnvReminderLeadTimes, v, rule)
		} else {
			c.Reminders.LeadTimes = leads
		}
	}
	if v := get(EnvQuietHours); v != "" {
		qs, qe, found := strings.Cut(v, "-")
		qs, qe = strings.TrimSpace(qs), strings.TrimSpace(qe)
		// Validate checks the bounds; the lead times are checked above.
		quiet := domain.ReminderPolicy{LeadTimes: []time.Duration{time.Hour}, QuietStart: qs, QuietEnd: qe}
		switch {
		case strings.EqualFold(v, "off"):
			c.Reminders.QuietStart, c.Reminders.QuietEnd = "", ""
		case !found || qs == "" || qe == "" || quiet.Validate() != nil:
			bad(EnvQuietHours, v, fmt.Sprintf(`must be "HH:MM-HH:MM" (24-hour clock, at most %v) or "off"`, domain.MaxQuietHours))
		case qs == qe:
			bad(EnvQuietHours, v, `start and end are equal; use "off" for no quiet hours`)
		default:
			c.Reminders.QuietStart, c.Reminders.QuietEnd = qs, qe
		}
	}
	if v := get(EnvNoShowGraceMinutes); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxNoShowGraceMinutes {
			bad(EnvNoShowGraceMinutes, v, fmt.Sprintf("must be a whole number of minutes from 0 to %d", MaxNoShowGraceMinutes))
		} else {
			c.NoShowGrace = time.Duration(n) * time.Minute
		}
	}
	if v := get(EnvPDPARetentionDays); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinPDPARetentionDays || n > MaxPDPARetentionDays {
			bad(EnvPDPARetentionDays, v, fmt.Sprintf("must be a whole number of days from %d to %d", MinPDPARetentionDays, MaxPDPARetentionDays))
		} else {
			c.PDPARetention = time.Duration(n) * 24 * time.Hour
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// parseLeadTimes parses REMINDER_LEAD_TIMES; rule is "" or what is wrong.
func parseLeadTimes(v string) (leads []time.Duration, rule string) {
	const want = `must be a comma-separated list of distinct durations such as "24h,2h"`
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		switch {
		case err != nil:
			return nil, want
		case d <= 0 || d > MaxLeadTime:
			return nil, fmt.Sprintf("each lead time must be positive and at most %v", MaxLeadTime)
		case d%time.Minute != 0:
			return nil, "each lead time must be a whole number of minutes"
		case slices.Contains(leads, d):
			return nil, fmt.Sprintf("%v is given twice", d)
		}
		leads = append(leads, d)
	}
	return leads, ""
}
