package jobs_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/jobs"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := jobs.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Reminders.LeadTimes, []time.Duration{24 * time.Hour, 2 * time.Hour}) ||
		c.Reminders.QuietStart != "21:00" || c.Reminders.QuietEnd != "07:00" ||
		c.NoShowGrace != 30*time.Minute || c.PDPARetention != 365*24*time.Hour {
		t.Fatalf("defaults %+v", c)
	}
	if err := c.Reminders.Validate(); err != nil {
		t.Fatal(err)
	}
	// Blank counts as unset.
	if c2, err := jobs.ConfigFromEnv(env(map[string]string{jobs.EnvQuietHours: "  "})); err != nil || c2.Reminders.QuietStart != "21:00" {
		t.Fatalf("blank: %+v, %v", c2, err)
	}
}

func TestConfigFromEnvValues(t *testing.T) {
	c, err := jobs.ConfigFromEnv(env(map[string]string{
		jobs.EnvReminderLeadTimes:  "48h, 90m",
		jobs.EnvQuietHours:         "22:30-06:00",
		jobs.EnvNoShowGraceMinutes: "0",
		jobs.EnvPDPARetentionDays:  "730",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := jobs.Config{
		Reminders:     domain.ReminderPolicy{LeadTimes: []time.Duration{48 * time.Hour, 90 * time.Minute}, QuietStart: "22:30", QuietEnd: "06:00"},
		NoShowGrace:   0,
		PDPARetention: 730 * 24 * time.Hour,
	}
	if !slices.Equal(c.Reminders.LeadTimes, want.Reminders.LeadTimes) || c.Reminders.QuietStart != "22:30" || c.Reminders.QuietEnd != "06:00" ||
		c.NoShowGrace != 0 || c.PDPARetention != want.PDPARetention {
		t.Fatalf("config %+v", c)
	}
	c, err = jobs.ConfigFromEnv(env(map[string]string{jobs.EnvQuietHours: "off"}))
	if err != nil || c.Reminders.QuietStart != "" || c.Reminders.QuietEnd != "" || c.Reminders.MaxShift() != 0 {
		t.Fatalf("off: %+v, %v", c, err)
	}
}

func TestConfigFromEnvListsEveryBadVariable(t *testing.T) {
	_, err := jobs.ConfigFromEnv(env(map[string]string{
		jobs.EnvReminderLeadTimes:  "24h,tomorrow",
		jobs.EnvQuietHours:         "21:00",
		jobs.EnvNoShowGraceMinutes: "-5",
		jobs.EnvPDPARetentionDays:  "36",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{jobs.EnvReminderLeadTimes, jobs.EnvQuietHours, jobs.EnvNoShowGraceMinutes, jobs.EnvPDPARetentionDays} {
		if !strings.Contains(err.Error(), name+"=") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	for name, bad := range map[string][]string{
		jobs.EnvReminderLeadTimes:  {"0h", "-2h", "8d", "169h", "90s", "2h,2h", "2h,,24h", "24"},
		jobs.EnvQuietHours:         {"21:00-21:00", "9pm-7am", "21:00-24:00", "19:00-08:00", "21:00/07:00", "-07:00"},
		jobs.EnvNoShowGraceMinutes: {"30m", "1441", "1.5"},
		jobs.EnvPDPARetentionDays:  {"89", "3651", "1y", "365.0"},
	} {
		for _, v := range bad {
			if _, err := jobs.ConfigFromEnv(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: err %v", name, v, err)
			}
		}
	}
}
